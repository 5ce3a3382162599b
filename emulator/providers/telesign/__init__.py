"""Telesign: the Standard Messaging API (``/v1/messaging``), its auth and its callbacks."""

from emulator.providers.telesign.provider import TelesignProvider

PROVIDER = TelesignProvider
