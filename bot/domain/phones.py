"""Phone numbers in E.164 (SPEC §9): the key that joins a shop's order to a member.

Shops send phones the way customers typed them (`0501234567`, `(555) 555-5555`,
`966501234567`, `+98 912 …`, in any digits); Telegram's contact button sends
international digits without the `+`. Google's libphonenumber (the
`phonenumbers` port) decides what a number is; a number written without a
country code is read in `region` (the order's billing country, else
`DEFAULT_REGION`).
"""

from __future__ import annotations

import phonenumbers

from bot.domain.digits import to_latin

# Currencies used by exactly one country: a program's currency gives the
# default region for numbers written without a country code. Currencies
# shared by many countries (USD, EUR, …) give none. IRT is the toman.
_CURRENCY_REGION = {
    "AED": "AE",
    "AFN": "AF",
    "BHD": "BH",
    "DZD": "DZ",
    "EGP": "EG",
    "GBP": "GB",
    "IQD": "IQ",
    "IRR": "IR",
    "IRT": "IR",
    "JOD": "JO",
    "KWD": "KW",
    "LBP": "LB",
    "LYD": "LY",
    "MAD": "MA",
    "OMR": "OM",
    "PKR": "PK",
    "QAR": "QA",
    "SAR": "SA",
    "SDG": "SD",
    "SYP": "SY",
    "TND": "TN",
    "TRY": "TR",
    "YER": "YE",
    "INR": "IN",
    "JPY": "JP",
    "CAD": "CA",
    "TJS": "TJ",
}


def region_for_currency(currency: str) -> str | None:
    return _CURRENCY_REGION.get(currency.upper())


def is_region(code: str) -> bool:
    """True for a region libphonenumber knows (`SA`, `IR`, `EG`, …)."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


def to_e164(text: str | int | None, region: str | None = None) -> str | None:
    """`text` as `+<country><number>`, or None when it is not a valid phone number.

    A number that fails as written in `region` is tried once more as an
    international number without its `+` (`966501234567`), which is how
    Telegram and several shops send them.
    """
    if text is None:
        return None
    raw = to_latin(str(text)).strip()
    if not raw:
        return None
    candidates = [raw]
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw.startswith("+") and not digits.startswith("0") and len(digits) >= 8:
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region.upper() if region else None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
