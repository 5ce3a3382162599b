"""TSG Global's error body, ``{"errors": [{"id": ..., "message": ...}]}``, and its HTTP statuses.

Documented: 401 (id ``unauthenticated``), 403 (``unauthorized``), 404 (``not_found``, "Resource not
found. Are you using the right HTTP verb?"), 422 ("understood, but contained invalid
parameters"), 500 (``server_error``), 503 ("temporarily unavailable, retry"; the emulator's
answer to a request still waiting for its body when it stops). The ids of validation errors are
not documented; the emulator uses ``invalid_json`` for a body that is not a JSON object and
``invalid_parameter`` for everything else, with a message that starts with the field at fault
(``to: ...``).

The document has no 405 or 413: its 404 message says a wrong HTTP verb gets a 404, so a wrong
method answers 404, and a body over the size limit answers 422. The documented text of
``unauthenticated`` ("... the user is authenticated") is a typo; the emulator says "not".
"""

from __future__ import annotations

import json

from aiohttp import web

from emulator.providers.base import annotate

NOT_FOUND_MESSAGE = "Resource not found. Are you using the right HTTP verb?"

_IDS = {401: "unauthenticated", 403: "unauthorized", 404: "not_found", 422: "invalid_parameter",
        500: "server_error", 503: "service_unavailable"}


class TsgError(Exception):
    """Raised inside a handler; the route turns it into the error response. ``reason`` says
    what was wrong when the message does not (for the journal and the log, never sent)."""

    def __init__(self, status: int, message: str, error_id: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.id = error_id or _IDS.get(status, "server_error" if status >= 500 else "invalid")
        self.message = message
        self.reason = reason


def unauthenticated(reason: str | None = None) -> TsgError:
    return TsgError(401, "Request failed because the user is not authenticated. Send "
                         "'Authorization: Bearer <api_key>' with your messaging API key.",
                    reason=reason)


def not_found(what: str | None = None) -> TsgError:
    return TsgError(404, NOT_FOUND_MESSAGE if what is None else f"{what} not found.")


def invalid(field: str, problem: str) -> TsgError:
    """A 422 naming the field at fault."""
    return TsgError(422, f"{field}: {problem}")


def from_http_status(status: int, reason: str) -> TsgError:
    """The TSG error for a framework error (unknown path, wrong method, body too large)."""
    if status in (404, 405):
        return not_found()
    if status < 500:
        return TsgError(422, f"(request): {reason}")
    if status == 503:
        return TsgError(503, "Service temporarily unavailable; retry.")
    return TsgError(500, "Internal server error.")


def body(error: TsgError) -> dict[str, list[dict[str, str]]]:
    return {"errors": [{"id": error.id, "message": error.message}]}


def response(error: TsgError, request_id: str) -> web.Response:
    """The error answer; its id and reason (default: the message) go on the journal entry."""
    answer = web.Response(status=error.status, text=json.dumps(body(error)),
                          content_type="application/json", headers={"X-Request-Id": request_id})
    annotate(answer, code=error.id, reason=error.reason or error.message)
    return answer
