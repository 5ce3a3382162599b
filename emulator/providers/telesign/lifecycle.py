"""Which status steps a Telesign message goes through after the 290 of its POST answer.

In order of precedence:

1. a lifecycle rule in the configuration that matches the number (see
   :mod:`emulator.core.lifecycle`);
2. a magic number ``15005550`` + a three-digit code of the status table: the message ends in that
   status. Carrier and handset outcomes pass through 203 first (290 → 203 → code); blocks and
   rejections do not (290 → code). ``...290`` stays in progress, ``...203`` stops at 203;
3. the default: 290 → 203 after 2 s → 200 after 3 more seconds.
"""

from __future__ import annotations

from typing import Any

from emulator.core.lifecycle import Step, plan_steps
from emulator.providers.telesign.statuses import STATUSES

MAGIC_PREFIX = "15005550"
GATEWAY_DELAY = 2.0
HANDSET_DELAY = 3.0
DEFAULT_STEPS = [Step(203, GATEWAY_DELAY), Step(200, HANDSET_DELAY)]


def accepts_status(status: Any) -> bool:
    return isinstance(status, int) and not isinstance(status, bool) and status in STATUSES


def magic_steps(number: str) -> list[Step] | None:
    if len(number) != 11 or not number.startswith(MAGIC_PREFIX) or not number.isdigit():
        return None
    code = int(number[-3:])
    status = STATUSES.get(code)
    if status is None:
        return None
    if code == 290:
        return []
    if code == 203:
        return [Step(203, GATEWAY_DELAY)]
    if status.via_gateway:
        return [Step(203, GATEWAY_DELAY), Step(code, HANDSET_DELAY)]
    return [Step(code, GATEWAY_DELAY)]


def plan(number: str, rules: list[dict[str, Any]]) -> list[Step]:
    return plan_steps(rules, "telesign", number, accepts_status, magic_steps, DEFAULT_STEPS)
