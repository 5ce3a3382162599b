"""The webhook kinds the providers describe, chosen by name, and their credentials.

Kinds come from each provider plugin's ``webhook_kinds()``; the fuzzer names none itself. A
selection may name a kind (``telesign.mo_sms``), its short name when no other provider uses it
(``mo_sms``), a provider (``telesign``: all of its kinds) or ``all``.

Credentials are ``provider.name=value`` (``telesign.api_key=...``); each provider declares its
names, defaults (the emulator's own) and format checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from emulator.fuzz.options import UsageError
from emulator.providers import discover
from emulator.providers.webhooks import WebhookKind


def available() -> dict[str, WebhookKind]:
    """Every kind of every provider, by full name, in provider order."""
    return {kind.name: kind for provider in discover() for kind in provider.webhook_kinds()}


def select(names: Iterable[str]) -> list[WebhookKind]:
    """The kinds ``names`` designate, each once, in the providers' order."""
    known = available()
    chosen: dict[str, WebhookKind] = {}
    for raw in names:
        for name in filter(None, (part.strip() for part in raw.split(","))):
            if name == "all":
                matches = list(known.values())
            elif name in known:
                matches = [known[name]]
            elif any(k.provider == name for k in known.values()):
                matches = [k for k in known.values() if k.provider == name]
            else:
                matches = [k for k in known.values() if k.short_name == name]
                if len(matches) > 1:
                    raise UsageError(f"kind {name!r} is ambiguous: "
                                     + ", ".join(k.name for k in matches))
            if not matches:
                providers = sorted({k.provider for k in known.values()})
                raise UsageError(f"unknown kind {name!r}; known: all, "
                                 + ", ".join([*providers, *known]))
            chosen.update((k.name, k) for k in matches)
    if not chosen:
        raise UsageError("no kind given: name one (e.g. telesign.mo_sms) or all")
    return sorted(chosen.values(), key=list(known.values()).index)


def credentials_for(kinds: Iterable[WebhookKind],
                    given: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Per provider, the credentials to sign with: the given ones over the defaults."""
    declared = {}
    for kind in kinds:
        for credential in kind.credentials:
            declared[f"{kind.provider}.{credential.name}"] = credential
    everything = {f"{kind.provider}.{credential.name}"
                  for kind in available().values() for credential in kind.credentials}
    problems = []
    for name in given:
        if name not in everything:
            known = ", ".join(sorted(everything)) or "none"
            problems.append(f"unknown credential {name!r} (known: {known})")
    result: dict[str, dict[str, str]] = {}
    for name, credential in declared.items():
        value = given.get(name, credential.default)
        if not isinstance(value, str):
            problems.append(f"credential {name} must be text")
            continue
        problem = credential.check(value)
        if problem:
            problems.append(f"credential {name}: {problem}")
        provider = name.split(".", 1)[0]
        result.setdefault(provider, {})[credential.name] = value
    if problems:
        raise UsageError("; ".join(problems))
    return result


def parse_credential(text: str) -> tuple[str, str]:
    """``provider.name=value`` from the command line."""
    name, sep, value = text.partition("=")
    if not sep or "." not in name.strip():
        raise UsageError(f"--credential {text!r} must look like provider.name=value, e.g. "
                         "telesign.api_key=BASE64KEY")
    return name.strip(), value
