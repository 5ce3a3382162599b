"""The webhook fuzzer: sends an integrator's handler the webhooks the providers send, drawn from
the providers' schemas and biased toward what breaks handlers, plus forged ones, and reports
each failure shrunk to its smallest payload with a curl command and a replay scenario.

Python API, for a project's own tests::

    from emulator.fuzz import fuzz

    def test_my_telesign_handler(live_handler_url):
        result = fuzz(live_handler_url, ["telesign.mo_sms"], examples=200, seed=1,
                      credentials={"telesign.api_key": MY_KEY})
        result.assert_clean()      # AssertionError with each finding's reproduction

:func:`fuzz` blocks (Hypothesis is synchronous). From an ``async`` test whose handler is served
on the test's own event loop, ``await fuzz_async(...)``: it runs the fuzzer in a worker thread
so the loop keeps serving the handler.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Finding", "FuzzOptions", "FuzzResult", "KindStats", "UsageError", "fuzz",
           "fuzz_async"]


def __getattr__(name: str) -> Any:
    # loaded on first use: importing the package (as the CLI does to register its command)
    # must not pay for Hypothesis
    if name in __all__:
        from emulator.fuzz import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
