"""sms-emulator: a local, deterministic test double for the Telesign and TSG Global SMS APIs."""

__version__ = "0.1.0"
