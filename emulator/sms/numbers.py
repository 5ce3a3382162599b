"""Phone numbers, through the ``phonenumbers`` library (never a hand-written prefix table)."""

from __future__ import annotations

import phonenumbers

from emulator.schema_messages import show


class NotANumber(ValueError):
    """The text is not a phone number in international form."""


def parse_international(text: str) -> phonenumbers.PhoneNumber:
    """Parse digits with country code (an optional leading ``+``); refuse anything else."""
    cleaned = text.strip()
    digits = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not digits.isascii() or not digits.isdigit():
        raise NotANumber(f"{show(text)} is not a phone number: use digits with the country code")
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException as exc:
        raise NotANumber(f"{show(text)} is not a phone number: {exc}") from None
    if phonenumbers.region_code_for_country_code(number.country_code) == "ZZ":
        raise NotANumber(f"{show(text)} has no known country code")
    if not phonenumbers.is_possible_number(number):
        raise NotANumber(f"{show(text)} has the wrong length for its country")
    return number


def digits_of(number: phonenumbers.PhoneNumber) -> str:
    """E.164 without the ``+`` (the form both providers put on the wire)."""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def iso_country_code(number: phonenumbers.PhoneNumber) -> str:
    """The number's country; for a number valid nowhere in particular (a fictional NANP area
    code such as 123), the main country of its calling code ("US" for +1)."""
    region = phonenumbers.region_code_for_number(number)
    return region or phonenumbers.region_code_for_country_code(number.country_code)
