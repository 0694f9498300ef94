"""Digits in and out (SPEC §6).

Customers and cashiers type Latin, Persian (۰-۹) or Arabic-Indic (٠-٩)
digits, often with bidi marks or ZWNJ pasted in from RTL text. Everything
typed is normalised here before it is parsed; everything shown is mapped to
the reader's digits here, in one place.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
LATIN_DIGITS = "0123456789"

_TO_LATIN = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, LATIN_DIGITS * 2)
_TO_PERSIAN = str.maketrans(LATIN_DIGITS, PERSIAN_DIGITS)
_TO_ARABIC = str.maketrans(LATIN_DIGITS, ARABIC_DIGITS)

# Invisible formatting characters that ride along with copied RTL text:
# LRM/RLM/ALM, embeddings/overrides, isolates, ZWJ/ZWNJ/ZWSP, BOM, NBSP-likes
# are dropped or turned into plain spaces.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")
_SPACES = re.compile("[\u00a0\u2007\u202f\\s]+")

DECIMAL_SEPARATORS = ".٫"
GROUP_SEPARATORS = ",٬،'"


def to_latin(text: str) -> str:
    """Latin digits, no bidi marks or zero-width characters, single spaces."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text.translate(_TO_LATIN))).strip()


def localize_digits(text: str, digits: str) -> str:
    """Map Latin digits in `text` to `digits` ("latin", "persian" or "arabic")."""
    if digits == "persian":
        return text.translate(_TO_PERSIAN)
    if digits == "arabic":
        return text.translate(_TO_ARABIC)
    return text


class NotANumber(ValueError):
    """The text is not a plain decimal number."""


def parse_decimal(text: str, *, max_places: int = 2) -> Decimal:
    """Parse an amount typed in any digit set.

    Accepts `1500`, `۱۵۰۰`, `١٥٠٠`, `1,500.50`, `۱٬۵۰۰٫۵`, with an optional
    leading sign. Group separators (`,` `٬` `،` `'`) are dropped; `.` and the
    Arabic decimal separator `٫` mark decimals. Raises NotANumber for anything
    else (letters, two decimal points, more than `max_places` decimals).
    """
    cleaned = to_latin(text).replace(" ", "")
    for sep in GROUP_SEPARATORS:
        cleaned = cleaned.replace(sep, "")
    cleaned = cleaned.replace("٫", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise NotANumber(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        raise NotANumber(text) from None
    if value.as_tuple().exponent < -max_places:  # type: ignore[operator]
        raise NotANumber(text)
    return value


def parse_int(text: str) -> int:
    """An integer typed in any digit set (`-50`, `+۲۰`, `٣٠٠`), else NotANumber."""
    value = parse_decimal(text, max_places=0)
    return int(value)
