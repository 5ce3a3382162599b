"""Where log lines go: journal subscribers that write :mod:`emulator.core.logline` lines.

- :class:`StreamLog` writes to a text stream (``serve``: standard output, where the banner is,
  so one ``> file`` or pipe keeps both). It formats lazily: recording an entry only queues it
  (entries that make no line are dropped at once), and the queue is formatted and written in
  one ``write`` and ``flush`` at most ``interval`` seconds later (default 0.01: too soon for a
  person to notice, and under load one system call for a burst of requests rather than one
  per request; not longer, because formatting is the cost, several µs a line: every 0.05 s,
  a flush at 1,500 requests a second paused everything in flight for about 2 ms). With
  ``interval=0`` it writes when the event loop next gets to it, after the current loop
  iteration. Outside a running loop it writes at once.
- :class:`LoggingLog` hands lines to Python :mod:`logging` (logger ``sms_emulator.events``,
  level INFO), formatted only if a handler takes them: the pytest plugin and ``replay`` use
  it, so they print nothing unless logging is set up to show INFO (``pytest
  --log-level=INFO``, or ``log_cli``).

Colour (:func:`wants_colour`) only on a terminal, and never with ``NO_COLOR`` set (no-color.org)
or ``TERM=dumb``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from typing import TextIO

from emulator.core import logline
from emulator.core.journal import Entry, Journal

FORMATS = ("text", "json")
EVENTS_LOGGER = "sms_emulator.events"


def wants_colour(stream: TextIO, env: Mapping[str, str] = os.environ) -> bool:
    """ANSI colours for ``stream``: a terminal, no ``NO_COLOR`` (non-empty), not ``TERM=dumb``."""
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class StreamLog:
    """A journal subscriber writing one line per event to ``stream``."""

    def __init__(self, stream: TextIO, log_format: str = "text", colour: bool = False,
                 interval: float = 0.01) -> None:
        if log_format not in FORMATS:
            raise ValueError(f"unknown log format {log_format!r} (text or json)")
        self._stream = stream
        self._format: Callable[[Entry], str] = (
            logline.json_line if log_format == "json"
            else (lambda entry: logline.text(entry, colour)))
        self._interval = interval
        self._pending: list[Entry] = []
        self._scheduled = False
        self._broken = False

    def __call__(self, entry: Entry) -> None:
        if entry.kind in logline.SILENT_KINDS or self._broken:
            return
        self._pending.append(entry)
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        if self._interval > 0:
            loop.call_later(self._interval, self.flush)
        else:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Format and write every queued entry now."""
        self._scheduled = False
        pending, self._pending = self._pending, []
        if not pending or self._broken:
            return
        try:
            self._stream.write("".join([self._format(entry) + "\n" for entry in pending]))
            self._stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe or file: stop, say so once
            self._broken = True
            logging.getLogger("sms_emulator").warning("log lines stopped: %s", exc)


class _Line:
    """Formats its entry only when a logging handler asks for the message."""

    __slots__ = ("entry",)

    def __init__(self, entry: Entry) -> None:
        self.entry = entry

    def __str__(self) -> str:
        return logline.text(self.entry)


class LoggingLog:
    """A journal subscriber passing lines to ``logging`` at INFO, when anyone listens."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(EVENTS_LOGGER)

    def __call__(self, entry: Entry) -> None:
        if entry.kind not in logline.SILENT_KINDS and self._logger.isEnabledFor(logging.INFO):
            self._logger.info("%s", _Line(entry))


def attach(journal: Journal, stream: TextIO | None, log_format: str = "text",
           colour: bool | None = None) -> StreamLog | LoggingLog:
    """Subscribe the log to ``journal``: lines to ``stream`` (colour if ``None``: as
    :func:`wants_colour` decides), or to :mod:`logging` when ``stream`` is ``None``."""
    if stream is None:
        sink: StreamLog | LoggingLog = LoggingLog()
    else:
        sink = StreamLog(stream, log_format,
                         wants_colour(stream) if colour is None else colour)
    journal.subscribe(sink)
    return sink
