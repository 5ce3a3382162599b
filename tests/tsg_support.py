"""Helpers shared by the TSG Global tests: calls to TSG's API (every answer checked against its
schema), sending, injecting inbound messages, pointing a number at the receiver, and reading
what the receiver got (every webhook object checked against its schema)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.providers.tsg.provider import DEFAULT_API_KEY, DEFAULT_NUMBER
from tests.conftest import Emulator, Receiver, assert_valid

TSG_KEY = DEFAULT_API_KEY
NUMBER = DEFAULT_NUMBER  # the configured TSG number (DID)
END_USER = "15557654321"


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any  # case-insensitive


def schema_for(method: str, path: str, status: int) -> str:
    if status >= 400:
        return "tsg/error"
    if (method, path) == ("POST", "/messages"):
        return "tsg/send-response"
    if method == "GET" and path.startswith("/messages/"):
        return "tsg/message"
    if (method, path) == ("POST", "/v1/sms/webhook"):
        return "tsg/number-webhook-response"
    raise AssertionError(f"no TSG schema known for {method} {path} -> {status}")


async def call(emulator: Emulator, method: str, path: str, *, key: str | None = TSG_KEY,
               **kwargs: Any) -> Answer:
    """A request to TSG's API over HTTP; the answer is JSON, valid against its schema and
    carries an X-Request-Id."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers.setdefault("Authorization", f"Bearer {key}")
    async with emulator.http.request(method, emulator.url + path, headers=headers,
                                     **kwargs) as response:
        assert response.content_type == "application/json", await response.text()
        body = await response.json()
        answer = Answer(response.status, body, response.headers.copy())
    assert_valid(schema_for(method, path, answer.status), body)
    assert answer.headers.get("X-Request-Id"), answer.headers
    return answer


async def send(emulator: Emulator, to: list[str] | None = None, body: str = "hello world",
               **fields: Any) -> dict[str, Any]:
    """POST /messages from the configured number; the answer keyed by recipient."""
    document = {"from": NUMBER, "to": to or ["15551234567"], "body": body, **fields}
    answer = await call(emulator, "POST", "/messages", json=document)
    assert answer.status == 200, answer.body
    return answer.body


async def get_message(emulator: Emulator, message_id: str) -> dict[str, Any]:
    answer = await call(emulator, "GET", f"/messages/{message_id}")
    assert answer.status == 200, answer.body
    return answer.body


async def use_receiver(emulator: Emulator, receiver: Receiver, did: str = NUMBER,
                       path: str = "/tsg", x_api_key: str | None = None) -> str:
    """Point ``did``'s webhook at the receiver through the configuration."""
    url = receiver.url(path)
    await emulator.patch_config({"tsg": {"numbers": {did: {"webhook_url": url,
                                                           "x_api_key": x_api_key}}}})
    return url


async def inject(emulator: Emulator, text: str, sender: str = END_USER, to: str = NUMBER,
                 **extra: Any) -> tuple[int, dict[str, Any]]:
    return await emulator.control("POST", "/inbound", json={
        "provider": "tsg", "from": sender, "to": to, "text": text, **extra})


def webhook_objects(receiver: Receiver, kind: str) -> list[dict[str, Any]]:
    """The ``sms`` or ``sms_dlr`` objects the receiver got, each valid against its schema."""
    found = []
    for request in receiver.requests:
        payload = request.json()
        assert payload["object"] in ("sms", "sms_dlr"), payload
        assert_valid("tsg/sms-webhook" if payload["object"] == "sms" else "tsg/sms-dlr", payload)
        if payload["object"] == kind:
            found.append(payload)
    return found


async def journal(emulator: Emulator, kind: str) -> list[dict[str, Any]]:
    status, body = await emulator.control("GET", "/journal",
                                          params={"kind": kind, "provider": "tsg"})
    assert status == 200, body
    return body["entries"]
