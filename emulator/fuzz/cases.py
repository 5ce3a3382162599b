"""A fuzz case: what one Hypothesis example sends, and the requests it becomes.

Every case is one probe of one payload:

- ``genuine``: the payload, signed as the provider signs it;
- ``duplicate``: the same request twice, byte for byte (a provider retry looks exactly so);
- ``out_of_order``: a final delivery status, then an intermediate one for the same message;
- a forgery named by the provider (``missing_signature``, ``stale_signature``, ...): the payload
  with forged headers. Any 2xx answer to it is an accepted forgery.

Half the cases are genuine; the probe is drawn first and shrinks toward ``genuine``, so a finding
that does not need a probe loses it while shrinking.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from emulator.fuzz.strategies import payloads
from emulator.providers.webhooks import WebhookKind

GENUINE = "genuine"
DUPLICATE = "duplicate"
OUT_OF_ORDER = "out_of_order"
SEQUENCES = (DUPLICATE, OUT_OF_ORDER)


@dataclass(frozen=True)
class Case:
    probe: str
    payloads: tuple[dict[str, Any], ...]
    #: another payload, whose genuine signature a replayed-signature forgery carries
    other: dict[str, Any] | None = None

    @property
    def forged(self) -> bool:
        return self.probe not in (GENUINE, *SEQUENCES)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    #: whether a correct handler must refuse it
    forged: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": self.headers,
                "body": self.body.decode("utf-8"), "forged": self.forged}


def probes(kind: WebhookKind, *, security: bool = True) -> tuple[str, ...]:
    """The probes other than ``genuine`` that apply to ``kind``."""
    found = [DUPLICATE]
    if kind.out_of_order is not None:
        found.append(OUT_OF_ORDER)
    if security:
        found += list(kind.forgeries)
    return tuple(found)


def cases(kind: WebhookKind, *, security: bool = True,
          extra_fields: bool = True) -> st.SearchStrategy[Case]:
    payload = payloads(kind, extra_fields=extra_fields)
    others = probes(kind, security=security)
    modes = (GENUINE,) * len(others) + others  # one case in two is genuine

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        probe = draw(st.sampled_from(modes))
        first = draw(payload)
        if probe == DUPLICATE:
            return Case(probe, (first, first))
        if probe == OUT_OF_ORDER and kind.out_of_order is not None:
            return Case(probe, tuple(kind.out_of_order(first)))
        if probe in kind.forgeries:
            return Case(probe, (first,), other=another(first))
        return Case(GENUINE, (first,))

    return build()


def another(payload: dict[str, Any]) -> dict[str, Any]:
    """Another genuine-looking payload (this one less its last field), whose signature a
    replayed-signature forgery carries. Derived, not drawn: a second drawn payload would shrink
    to the same body as the first, and a signature of the same body is not a forgery."""
    keys = list(payload)
    return {key: payload[key] for key in keys[:-1]} if keys else {"reference_id": ""}


def requests_for(case: Case, kind: WebhookKind, credentials: Mapping[str, str], url: str,
                 at: float | None = None) -> list[Request]:
    """The HTTP requests of ``case``, formed and signed as the provider would send them."""
    now = time.time() if at is None else at
    if case.forged:
        body = kind.encode(case.payloads[0])
        other = kind.encode(case.other if case.other is not None else {})
        headers = kind.forgeries[case.probe](body, credentials, now, other)
        return [Request(kind.method, url, headers, body, forged=True)]
    sent: list[Request] = []
    for payload in case.payloads:
        body = kind.encode(payload)
        if sent and sent[-1].body == body:  # a duplicate repeats the very same request
            sent.append(sent[-1])
        else:
            sent.append(Request(kind.method, url, kind.headers(body, credentials, now), body))
    return sent
