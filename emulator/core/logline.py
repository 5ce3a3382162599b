"""One log line per event, made from a journal :class:`~emulator.core.journal.Entry`.

The log of ``serve`` is a view of the journal (design principle 8): every field a line shows is
in the entry, so ``GET /_emulator/journal`` shows the same. This module only formats; it knows
the entry kinds and their fields, never a provider (codes and reasons are whatever the
provider put on the entry).

Lines are made for the events a developer watches: provider API calls, webhooks queued (with
the status change or inbound message that fired them), skipped, attempted and redelivered,
inbound messages, automatic replies, clock advances, resets, configuration changes and errors.
Entries that another line already tells (:data:`SILENT_KINDS`) make none.

Two formats: :func:`text` (``2026-01-01T00:00:05.000Z telesign POST /v1/messaging 200 1.2ms
290 id=...``, optionally with ANSI colours) and :func:`json_line` (one JSON object: ``at``,
``seq``, ``kind``, ``provider``, the entry's own fields under their journal names, without the
request and answer bodies, and ``line``, the text line without its time).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from emulator.core.journal import Entry
from emulator.core.timefmt import iso_micro_z, parse_iso

#: kinds that make no line: the ``api_call`` line tells requests, rejections and what they
#: created; the ``webhook_queued`` line the status change that fired a webhook; the last
#: ``webhook_attempt`` line says ``exhausted``
SILENT_KINDS = frozenset({"request", "request_rejected", "message_created", "status_change",
                          "webhook_exhausted", "number_configured"})

#: journal fields left out of JSON lines (bodies can be large; the journal keeps them)
BODY_FIELDS = frozenset({"body", "response"})

#: the provider column of events that belong to no provider
NO_PROVIDER = "emulator"

_RESET, _DIM, _RED, _GREEN, _YELLOW, _CYAN = (
    "\x1b[0m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m")

_second: tuple[int, str] = (-1, "")


def _stamp(at: float) -> tuple[str, int]:
    """``at`` as ``2026-01-01T00:00:05`` and its microseconds, as :func:`iso_micro_z` rounds
    them. The date part is kept from one call to the next: lines come in bursts within a second,
    and ``strftime`` would be most of a line's cost."""
    global _second
    whole = int(at // 1)
    micro = round((at - whole) * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    second = _second
    if second[0] != whole:
        if not 0 <= whole < 253402300800:  # outside what datetime shows: the slow, safe way
            text = iso_micro_z(at)
            return text[:19], int(text[20:26])
        second = _second = (whole, datetime.fromtimestamp(whole, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S"))
    return second[1], micro


def _paint(text: str, colour: str, on: bool) -> str:
    return f"{colour}{text}{_RESET}" if on else text


def _status_colour(status: int | None) -> str:
    if status is None or status >= 500:
        return _RED
    if status >= 400:
        return _YELLOW
    return _GREEN if status < 300 else _CYAN


def _ids(detail: dict[str, Any]) -> str | None:
    ids = detail.get("message_ids")
    if ids is None:
        one = detail.get("message_id")
        return None if one is None else f"id={one}"
    return f"id={','.join(ids)}" if ids else None


def _duration(seconds: float) -> str:
    """``10 s``, ``16 min``, ``7 h``, ``3 d``: a wait as a person reads it."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 172800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"


def _join(*parts: str | None) -> str:
    return " ".join([part for part in parts if part])  # a list: join makes one from a generator


def short(value: Any, limit: int = 80) -> str:
    """``value`` as text (JSON unless a string), cut to ``limit`` characters with ``...``."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _api_call(d: dict[str, Any], colour: bool) -> str:
    # the commonest line, so built plainly
    status = d["status"]
    query = d.get("query")
    parts = [d["method"], f"{d['path']}?{query}" if query else d["path"],
             _paint(str(status), _status_colour(status), colour) if colour else str(status),
             f"{d.get('latency_ms', 0):.1f}ms"]
    code = d.get("code")
    if code is not None:
        parts.append(str(code))
    if status < 400:
        ids = d.get("message_ids")
        if ids:
            parts.append("id=" + ",".join(ids))
    else:
        reason = "; ".join(str(part) for part in (d.get("reason"), d.get("note")) if part)
        if reason:
            parts.append(reason)
    return " ".join(parts)


def _cause(d: dict[str, Any]) -> str | None:
    cause = d.get("cause")
    ids = _ids(d)
    return f"{_join(cause, ids)} ->" if cause or ids else None


def _webhook_queued(d: dict[str, Any], colour: bool) -> str:
    return _join(_cause(d), f"webhook {d['webhook']} {d['delivery']} queued for {d['url']}")


def _webhook_skipped(d: dict[str, Any], colour: bool) -> str:
    what = f"no webhook {d['webhook']}" if d.get("webhook") else "no webhook"
    return _join(_cause(d), _paint(f"{what}: {d.get('reason')}", _YELLOW, colour))


def _webhook_attempt(d: dict[str, Any], colour: bool) -> str:
    attempt = d["attempt"]
    status = attempt["status"]
    error = attempt["error"]
    if status is None:
        answer = _paint(str(error), _RED, colour)
    else:  # a status with an error: the answer did not end, or was a redirect not followed
        said = attempt.get("answer")  # another transport's words for its status (SMPP: 0 is ok)
        shade = _status_colour(status) if said is None else _GREEN if status == 0 else _RED
        answer = _paint(said or str(status), shade, colour) + (
            f" ({_paint(error, _RED, colour)})" if error else "")
    queued = attempt.get("queued_ms") or 0.0
    waited = f" after {queued:.1f}ms queued" if queued >= 1 else ""
    state = d["state"]
    if state == "retrying" and attempt["next_retry_at"] is not None:
        wait = (parse_iso(attempt["next_retry_at"]) or 0.0) - (parse_iso(attempt["at"]) or 0.0)
        outcome = _paint(f"next retry in {_duration(wait)} at {attempt['next_retry_at'][:-4]}Z",
                         _YELLOW, colour)
    else:
        outcome = _paint(state, _GREEN if state == "delivered" else _RED, colour)
    sequence = attempt.get("sequence") or 1
    verb = "POST" if str(attempt["url"]).startswith("http") else "send to"
    redelivery = f" of sequence {sequence}" if sequence > 1 else ""
    return (f"webhook {d['webhook']} {d['delivery']} attempt {attempt['number']}/"
            f"{d.get('max_attempts', '?')}{redelivery} {verb} {attempt['url']} -> {answer} in "
            f"{attempt['latency_ms'] or 0:.1f}ms{waited}, {outcome}")


def _webhook_redelivered(d: dict[str, Any], colour: bool) -> str:
    return _join(f"webhook {d['webhook']} {d['delivery']} redelivered to {d['url']}, attempt "
                 f"sequence {d['sequence']}", _ids(d))


def _inbound(d: dict[str, Any], colour: bool) -> str:
    extra = [f"{key}={d[key]}" for key in ("action", "parts") if d.get(key) not in (None, 1)]
    return _join(f"inbound {d.get('channel') or 'message'} from {d.get('from')} to "
                 f"{d.get('to')}", _ids(d), *extra)


def _clock_advanced(d: dict[str, Any], colour: bool) -> str:
    return f"clock advanced {_duration(d['seconds'])} to {d['to'][:-4]}Z"


def _reset(d: dict[str, Any], colour: bool) -> str:
    now = d.get("now")
    return f"reset, seed {d.get('seed')}" + (f", clock set to {now[:-4]}Z" if now else "")


def _config(d: dict[str, Any], colour: bool, verb: str) -> str:
    return f"configuration {verb}: {', '.join(d.get('keys') or []) or '(nothing)'}"


def _auto_reply(d: dict[str, Any], colour: bool) -> str:
    return (f"auto-reply id={d.get('message_id')} to inbound {d.get('in_reply_to')} "
            f"(the answer to webhook {d.get('delivery')})")


def _auto_reply_ignored(d: dict[str, Any], colour: bool) -> str:
    return (f"no auto-reply from the answer to webhook {d.get('delivery')} "
            f"(inbound {d.get('message_id')}): {d.get('reason')}")


def _compliance(d: dict[str, Any], colour: bool) -> str:
    return (f"compliance keyword {d.get('keyword')} ({d.get('action')}) from "
            f"{d.get('phone_number')} to {d.get('sender_id')}")


def _error(d: dict[str, Any], colour: bool) -> str:
    where = d.get("job") or _join(d.get("method"), d.get("path"))
    return _paint(f"error in {where}: {d.get('error')}", _RED, colour)


def _smpp_pdu(d: dict[str, Any], colour: bool) -> str:
    arrow = "<-" if d["direction"] == "in" else "->"
    status = d.get("status")
    shown = None if status in (None, "ESME_ROK") else _paint(status, _RED, colour)
    addresses = (f"{d['source_addr']} > {d['destination_addr']}"
                 if d.get("source_addr") and d.get("destination_addr") else None)
    return _join(f"smpp {d['session']} {arrow} {d['command']} #{d['sequence']}", shown,
                 addresses, d.get("message_id") and f"id {d['message_id']}",
                 d.get("reason") and _paint(str(d["reason"]), _YELLOW, colour))


_FORMATS: dict[str, Callable[[dict[str, Any], bool], str]] = {
    "smpp_pdu": _smpp_pdu,
    "api_call": _api_call,
    "webhook_queued": _webhook_queued,
    "webhook_skipped": _webhook_skipped,
    "callback_skipped": _webhook_skipped,
    "webhook_attempt": _webhook_attempt,
    "webhook_redelivered": _webhook_redelivered,
    "inbound_message": _inbound,
    "clock_advanced": _clock_advanced,
    "reset": _reset,
    "config_patched": lambda d, c: _config(d, c, "patched"),
    "config_replaced": lambda d, c: _config(d, c, "replaced"),
    "auto_reply": _auto_reply,
    "auto_reply_ignored": _auto_reply_ignored,
    "compliance_keyword": _compliance,
    "job_error": _error,
    "internal_error": _error,
}


def _generic(entry: Entry) -> str:
    fields = " ".join(f"{key}={short(value)}" for key, value in entry.detail.items()
                      if key not in BODY_FIELDS and value is not None)
    return _join(entry.kind.replace("_", " "), fields)


def event(entry: Entry, colour: bool = False) -> str:
    """The line of ``entry`` without its time: provider column, then what happened."""
    formatter = _FORMATS.get(entry.kind)
    what = formatter(entry.detail, colour) if formatter is not None else _generic(entry)
    return f"{entry.provider or NO_PROVIDER:<8} {what}"


def text(entry: Entry, colour: bool = False) -> str:
    """``2026-01-01T00:00:05.000Z telesign ...``: the emulated time (milliseconds), then
    :func:`event`."""
    second, micro = _stamp(entry.at)
    at = f"{second}.{micro // 1000:03d}Z"
    return f"{_paint(at, _DIM, colour)} {event(entry, colour)}"


def json_line(entry: Entry) -> str:
    """One JSON object (no newline): ``at``, ``seq``, ``kind``, ``provider``, the entry's fields
    as the journal names them with bodies left out, and ``line`` (:func:`event`). A webhook
    attempt's ``attempt`` object is flattened (``attempt`` is its number; ``url``, ``status``,
    ``error``, ``latency_ms``, ``next_retry_at`` sit beside it), so ``status`` and
    ``latency_ms`` mean the same in every line."""
    second, micro = _stamp(entry.at)
    fields: dict[str, Any] = {"at": f"{second}.{micro:06d}Z", "seq": entry.seq,
                              "kind": entry.kind, "provider": entry.provider}
    for key, value in entry.detail.items():
        if key in BODY_FIELDS:
            continue
        if key == "attempt" and isinstance(value, dict):
            fields["attempt"] = value.get("number")
            fields.update((k, v) for k, v in value.items()
                          if k not in ("number", "at", "response_body"))
        else:
            fields.setdefault(key, value)
    fields["line"] = event(entry)
    return json.dumps(fields, default=str)
