"""The query of a paged control API list and the ``next`` link of its answer.

Every list of ``/_emulator`` takes ``limit`` (1 to :data:`~emulator.core.paging.MAX_LIMIT`,
default :data:`~emulator.core.paging.DEFAULT_LIMIT`) and ``cursor``, and answers ``next``: the
path and query of the following page (the same filters and limit, a new ``cursor``), or
``null`` on the last page. A cursor is a whole number (a ``seq``) to copy from ``next``, not to
compute: what it means depends on the list's order (see :mod:`emulator.core.paging`).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from yarl import URL

from emulator.core.paging import DEFAULT_LIMIT, MAX_LIMIT


class BadQuery(ValueError):
    """A query parameter of a list is not usable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PageQuery:
    limit: int
    #: the cursor given, None for the first page
    cursor: int | None


#: more digits than any seq will have; int() of very long text is refused anyway
_MAX_DIGITS = 18


def whole_number(text: str, field: str, message: str) -> int:
    """``text`` as a whole number >= 0 (ASCII digits only); :class:`BadQuery` naming ``field``
    with ``message`` otherwise."""
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        raise BadQuery(field, message)
    return int(text)


def _whole(request: web.Request, name: str, message: str) -> int | None:
    text = request.query.get(name)
    return None if text is None else whole_number(text, name, message)


def page_query(request: web.Request) -> PageQuery:
    """``limit`` and ``cursor`` of ``request``; :class:`BadQuery` names a bad one."""
    bad_limit = f"limit must be a whole number from 1 to {MAX_LIMIT}"
    limit = _whole(request, "limit", bad_limit)
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise BadQuery("limit", bad_limit)
    cursor = _whole(request, "cursor", "cursor must be a whole number >= 0, as next gives it")
    return PageQuery(DEFAULT_LIMIT if limit is None else limit, cursor)


def since(request: web.Request) -> int:
    """``since`` (a ``seq``, default 0) of ``request``."""
    value = since_given(request)
    return 0 if value is None else value


def since_given(request: web.Request) -> int | None:
    """``since`` of ``request``, ``None`` when it has none."""
    return _whole(request, "since", "since must be a whole number")


def next_link(request: web.Request, cursor: int | None, path: str | None = None) -> str | None:
    """The path and query of the page after this one: the request's own with ``cursor`` (or,
    given ``path``, that path with the request's ``limit`` and ``cursor``)."""
    if cursor is None:
        return None
    if path is not None:
        query = {"limit": request.query["limit"]} if "limit" in request.query else {}
        return str(URL(path).with_query({**query, "cursor": str(cursor)}))
    return str(request.rel_url.update_query(cursor=str(cursor)))


def bad_query_response(exc: BadQuery) -> web.Response:
    """The control API's error answer for ``exc`` (for routes outside its handlers)."""
    return web.json_response({"error": str(exc), "field": exc.field}, status=400)
