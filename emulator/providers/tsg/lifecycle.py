"""Which delivery statuses a TSG message goes through once it has been submitted (``sent``).

In order of precedence:

1. a lifecycle rule in the configuration matching the destination (see
   :mod:`emulator.core.lifecycle`); its first step's ``after`` counts from the submission;
2. a magic number ``150055510NN``, NN from 01 to 10: the NN-th delivery status in the order the
   document lists them (01 delivered, 02 expired, 03 deleted, 04 undelivered, 05 accepted,
   06 unknown, 07 rejected, 08 failed, 09 enroute, 10 skipped), 3 s after submission;
3. the default: ``delivered`` 3 s after submission.

Submission is at once, or at the request's ``deliver_at``.
"""

from __future__ import annotations

from typing import Any

from emulator.core.lifecycle import Step, plan_steps
from emulator.providers.tsg.statuses import DELIVERY_STATUSES, accepts

MAGIC_PREFIX = "150055510"
DELIVERY_DELAY = 3.0
DEFAULT_STEPS = (Step("delivered", DELIVERY_DELAY),)


def magic_steps(number: str) -> list[Step] | None:
    if len(number) != 11 or not number.startswith(MAGIC_PREFIX) or not number.isdigit():
        return None
    index = int(number[-2:])
    if not 1 <= index <= len(DELIVERY_STATUSES):
        return None
    return [Step(DELIVERY_STATUSES[index - 1], DELIVERY_DELAY)]


def plan(number: str, rules: list[dict[str, Any]]) -> list[Step]:
    return plan_steps(rules, "tsg", number, accepts, magic_steps, DEFAULT_STEPS)
