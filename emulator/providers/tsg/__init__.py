"""TSG Global: the SMS messages API (``/messages``), number webhooks (``/v1/sms/webhook``), the
``sms``/``sms_dlr`` webhook objects, their redelivery and webhook auto-replies."""

from emulator.providers.tsg.provider import TsgProvider

PROVIDER = TsgProvider
