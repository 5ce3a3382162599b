"""Settings and the configuration document.

Two layers:

- :class:`Settings`: how this process runs (host, port, clock, speed, seed, start time, log
  format, quiet, connection limits and timeouts, who may use the control API); set by
  command-line flags or ``SMS_EMULATOR_*`` environment variables.
- :class:`Config`: the configuration document of DESIGN.md (accounts, webhook URLs, lifecycle
  rules), the same shape in a ``--config`` YAML file, ``GET /_emulator/config`` and the JSON
  that ``PATCH /_emulator/config`` deep-merges in. Each top-level section is validated by its JSON
  Schema (``core/config`` for ``webhooks`` and ``lifecycle``, ``<provider>/config`` for a
  provider's own section); a bad value is refused with a message naming the field, and the
  document is left as it was. Before any merge or schema check, a change is checked for what
  would break them or the readers: nesting deeper than 32 levels, integers beyond ±2**64,
  numbers that are not finite (:mod:`emulator.core.strictjson`), so that an accepted
  configuration can never make a provider API fail.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from emulator import schema_messages, schemas
from emulator.control import events
from emulator.core import journal, strictjson
from emulator.core.dispatcher import DEFAULT_MAX_DELIVERIES
from emulator.core.store import DEFAULT_MAX_MESSAGES
from emulator.problems import Problems
from emulator.schema_messages import field_name

if TYPE_CHECKING:  # jsonschema is imported when a document is first validated
    from jsonschema import Draft202012Validator

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025
DEFAULT_SMPP_PORT = 2775

CORE_DEFAULTS: dict[str, Any] = {
    "webhooks": {"timeout_seconds": 10.0, "max_connections_per_host": 64,
                 "max_queued_per_host": 1000},
    "lifecycle": {"rules": []},
}


class ConfigError(Problems):
    """A configuration problem; ``problems`` each name the field at fault."""


@dataclass
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: the SMPP listener's port on ``host`` (0: a free one); ``None``: no SMPP. ``serve``
    #: defaults to :data:`DEFAULT_SMPP_PORT`
    smpp_port: int | None = None
    clock: str = "real"
    speed: float = 1.0
    seed: int | None = None
    start: float | None = None
    config_path: str | None = None
    #: ``serve``'s event lines: ``text`` or ``json`` (one object a line)
    log_format: str = "text"
    #: ``serve`` prints the banner but no event lines
    quiet: bool = False
    # connections (:mod:`emulator.server`); real seconds, whatever the emulated clock does
    #: connections open at once; one more is answered 503 and closed
    max_connections: int = 1000
    #: a request's headers must arrive in full this soon after connecting or its first byte
    header_timeout: float = 10.0
    #: a request's body must arrive in full this soon after its headers (else 408)
    body_timeout: float = 30.0
    #: an idle keep-alive connection is closed after this long
    keepalive_timeout: float = 30.0
    #: on Ctrl-C or SIGTERM, how long requests in flight get before they are cancelled
    shutdown_timeout: float = 2.0
    #: retention (README "Memory and retention"): finished messages and deliveries kept, and
    #: the journal's bounds in entries, estimated bytes and bytes of one text field
    max_messages: int = DEFAULT_MAX_MESSAGES
    max_deliveries: int = DEFAULT_MAX_DELIVERIES
    journal_max_entries: int = journal.DEFAULT_MAX_ENTRIES
    journal_max_bytes: int = journal.DEFAULT_MAX_BYTES
    journal_max_field_bytes: int = journal.DEFAULT_MAX_FIELD_BYTES
    #: required as ``Authorization: Bearer <token>`` on ``/_emulator/*`` when set
    control_token: str | None = None
    #: host names accepted in the ``Host`` header of the control API besides loopback names,
    #: IP addresses and ``host`` (e.g. a docker-compose service name; ``*``: any name)
    allow_hosts: tuple[str, ...] = ()
    #: ``GET /_emulator/events`` (:mod:`emulator.control.events`): a ``: keep-alive`` comment
    #: after this many real seconds without an event, and the entries one stream may queue
    #: unwritten before it ends with ``event: overflow``
    events_heartbeat_seconds: float = events.DEFAULT_HEARTBEAT_SECONDS
    events_queue_limit: int = events.DEFAULT_QUEUE_LIMIT

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Settings from ``SMS_EMULATOR_*``; :class:`ConfigError` names a bad variable."""
        settings = cls()
        problems = []
        for name, (attribute, parse) in _ENV.items():
            if name not in env:
                continue
            try:
                setattr(settings, attribute, parse(env[name]))
            except ValueError as exc:
                problems.append(f"{name}: {env[name]!r} {exc}")
        if problems:
            raise ConfigError(problems)
        return settings


def port_number(text: str) -> int:
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise ValueError("is not a port number (0 to 65535)")
    return int(text)


def smpp_port(text: str) -> int | None:
    """A port number, or ``off``."""
    if text.strip().lower() == "off":
        return None
    try:
        return port_number(text)
    except ValueError:
        raise ValueError("is not a port number (0 to 65535) or off") from None


def _clock_mode(text: str) -> str:
    if text not in ("real", "manual"):
        raise ValueError("is not a clock mode (real or manual)")
    return text


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not value > 0 or not math.isfinite(value):
        raise ValueError("must be a number greater than 0")
    return value


def _log_format(text: str) -> str:
    if text not in ("text", "json"):
        raise ValueError("is not a log format (text or json)")
    return text


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError("is not a yes/no value (1, true, yes, on or 0, false, no, off)")


def count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("is not a whole number >= 1")
    return int(text)


def _token(text: str) -> str | None:
    return text.strip() or None


def host_name(text: str) -> str:
    """A host name for ``--allow-host`` (``*``: any)."""
    name = text.strip()
    if not name or any(char.isspace() or char in "/@,?#" for char in name):
        raise ValueError("is not a host name (such as sms-emulator, or * for any)")
    return name


def host_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of host names (``SMS_EMULATOR_ALLOW_HOSTS``)."""
    return tuple(host_name(name) for name in text.split(",") if name.strip())


def _seed(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError("is not a whole number >= 0")
    return int(text)


_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "SMS_EMULATOR_HOST": ("host", str),
    "SMS_EMULATOR_PORT": ("port", port_number),
    "SMS_EMULATOR_SMPP_PORT": ("smpp_port", smpp_port),
    "SMS_EMULATOR_CLOCK": ("clock", _clock_mode),
    "SMS_EMULATOR_SPEED": ("speed", positive),
    "SMS_EMULATOR_SEED": ("seed", _seed),
    "SMS_EMULATOR_CONFIG": ("config_path", str),
    "SMS_EMULATOR_LOG_FORMAT": ("log_format", _log_format),
    "SMS_EMULATOR_QUIET": ("quiet", _flag),
    "SMS_EMULATOR_MAX_CONNECTIONS": ("max_connections", count),
    "SMS_EMULATOR_HEADER_TIMEOUT": ("header_timeout", positive),
    "SMS_EMULATOR_BODY_TIMEOUT": ("body_timeout", positive),
    "SMS_EMULATOR_KEEPALIVE_TIMEOUT": ("keepalive_timeout", positive),
    "SMS_EMULATOR_SHUTDOWN_TIMEOUT": ("shutdown_timeout", positive),
    "SMS_EMULATOR_MAX_MESSAGES": ("max_messages", count),
    "SMS_EMULATOR_MAX_DELIVERIES": ("max_deliveries", count),
    "SMS_EMULATOR_JOURNAL_MAX_ENTRIES": ("journal_max_entries", count),
    "SMS_EMULATOR_JOURNAL_MAX_BYTES": ("journal_max_bytes", count),
    "SMS_EMULATOR_JOURNAL_MAX_FIELD_BYTES": ("journal_max_field_bytes", count),
    "SMS_EMULATOR_CONTROL_TOKEN": ("control_token", _token),
    "SMS_EMULATOR_ALLOW_HOSTS": ("allow_hosts", host_names),
}


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``patch`` merged into a copy of ``base``: objects merge key by key, anything else replaces
    (lists included; ``null`` sets the value to null rather than removing it)."""
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


SectionCheck = Callable[[dict[str, Any]], list[str]]


def shape_problems(document: Any, prefix: Sequence[str | int] = ()) -> list[str]:
    """What no schema can be trusted to catch, each naming its field (under ``prefix``):
    nesting too deep for a merge or a validator to walk, integers too large for arithmetic,
    ``.nan`` and ``.inf`` from a YAML file (which pass every schema bound)."""
    return [f"{field_name([*prefix, *path])}: {message}"
            for message, path in strictjson.problems(document)]


_MISSING = object()


def _entry_steps(schema: dict[str, Any], section: str, path: tuple[str, ...]
                 ) -> tuple[str, ...]:
    """How ``path`` goes down ``schema``: ``"properties/<key>"`` or ``"additionalProperties"``
    at each step (so that every number of ``tsg.numbers`` shares one pair of validators)."""
    steps: list[str] = []
    for key in path:
        if key in schema.get("properties", {}):
            steps.append(f"properties/{key}")
            schema = schema["properties"][key]
        elif isinstance(schema.get("additionalProperties"), dict):
            steps.append("additionalProperties")
            schema = schema["additionalProperties"]
        else:
            where = field_name([section, *path[:len(steps) + 1]])
            raise ConfigError([f"{where}: not a field of the configuration"])
    return tuple(steps)


@cache
def _validators_at(schema_name: str, steps: tuple[str, ...]
                   ) -> tuple[Draft202012Validator | None, Draft202012Validator]:
    schema, names = schemas.load(schema_name), None
    for step in steps:
        parent = schema
        if step == "additionalProperties":
            schema, names = parent["additionalProperties"], parent.get("propertyNames")
        else:
            schema, names = parent["properties"][step.removeprefix("properties/")], None
    return (None if names is None else schemas.validator_of(names),
            schemas.validator_of(schema))


def _entry_validators(schema_name: str, section: str, path: tuple[str, ...]
                      ) -> tuple[Draft202012Validator | None, Draft202012Validator]:
    """Validators of the key (its ``propertyNames``, if any) and of the value of the entry at
    ``path`` of section ``section`` (schema ``schema_name``)."""
    return _validators_at(schema_name, _entry_steps(schemas.load(schema_name), section, path))


def _explained(validator: Draft202012Validator, instance: Any) -> list[tuple[list[Any], str]]:
    return [(list(e.path), e.sentence)
            for e in schema_messages.explain_all(validator.iter_errors(instance))]


class Config:
    """The live configuration document. Readers call :meth:`section` each time they need a
    value, so a ``PATCH`` takes effect at once."""

    def __init__(self, defaults: dict[str, Any], section_schemas: dict[str, str],
                 extra_checks: dict[str, SectionCheck] | None = None) -> None:
        self._section_schemas = section_schemas
        self._extra_checks = extra_checks or {}
        self._defaults = copy.deepcopy(defaults)
        self._document = copy.deepcopy(defaults)
        # The defaults are not validated here: they are the code's own, and
        # tests/test_schemas.py holds them to the schemas. Validating them took a sixth of
        # serve's start-up, most of it importing jsonschema, which a plain serve may never need.

    @property
    def document(self) -> dict[str, Any]:
        return copy.deepcopy(self._document)

    def section(self, name: str) -> dict[str, Any]:
        return self._document[name]

    def validate(self, document: Mapping[str, Any]) -> None:
        problems = shape_problems(document)
        if problems:  # the schemas would recurse into it
            raise ConfigError(problems)
        for key in document:
            if key not in self._section_schemas:
                known = ", ".join(sorted(self._section_schemas))
                problems.append(f"{field_name([key])}: unknown section (known: {known})")
        for key, schema_name in self._section_schemas.items():
            if key not in document:
                continue
            section_problems = schemas.errors(schema_name, document[key], prefix=key)
            problems += section_problems
            if not section_problems and key in self._extra_checks:
                problems += [f"{key}.{p}" for p in self._extra_checks[key](document[key])]
        if problems:
            raise ConfigError(problems)

    def replace(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Make ``document`` (merged over the defaults) the whole configuration; all or
        nothing."""
        return self._merge_into(self._defaults, document)

    def patch(self, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Deep-merge ``patch``; all or nothing."""
        return self._merge_into(self._document, patch)

    def set_entry(self, section: str, path: Sequence[str], value: Any) -> None:
        """Set one entry of a section in place, e.g. ``("numbers", "15550555055")`` of ``tsg``:
        ``value`` and its key are validated against that entry's own subschema, not the whole
        document, and nothing is copied but ``value``, so one entry costs the same however
        many others there are. All or nothing, like :meth:`patch`. The entry's parents must
        exist (the section's schema requires them). The section's extra check, if it has one,
        still reads the whole section (the providers' are constant-time)."""
        where = [section, *path]
        if section not in self._section_schemas or not path:
            raise ConfigError([f"{field_name(where)}: not an entry of the configuration"])
        problems = shape_problems(value, where)
        if problems:
            raise ConfigError(problems)
        key_check, entry_check = _entry_validators(self._section_schemas[section], section,
                                                   tuple(path))
        if key_check is not None:
            problems += [f"{field_name(where)}: is not a valid key: {sentence}"
                         for _, sentence in _explained(key_check, path[-1])]
        problems += [f"{field_name([*where, *at])}: {sentence}"
                     for at, sentence in _explained(entry_check, value)]
        if problems:
            raise ConfigError(problems)
        parent = self._document[section]
        for key in path[:-1]:
            parent = parent[key]
        previous = parent.get(path[-1], _MISSING)
        parent[path[-1]] = copy.deepcopy(value)
        check = self._extra_checks.get(section)
        extra = [f"{section}.{p}" for p in check(self._document[section])] if check else []
        if extra:  # undo
            if previous is _MISSING:
                del parent[path[-1]]
            else:
                parent[path[-1]] = previous
            raise ConfigError(extra)

    def _merge_into(self, base: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(change, Mapping):
            raise ConfigError(["(top level): expected a JSON object"])
        problems = shape_problems(change)
        if problems:  # before the merge, which recurses into it
            raise ConfigError(problems)
        merged = deep_merge(base, change)
        self.validate(merged)
        self._document = merged
        return self.document


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML (or JSON) configuration file; problems name the file and line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read: {exc.strerror or exc}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        raise ConfigError([f"{where}: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: {exc}"]) from exc
    except RecursionError:
        raise ConfigError([f"{file}: nested too deeply to read"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{file}: the configuration must be a mapping of sections"])
    return data
