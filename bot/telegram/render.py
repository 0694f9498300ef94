"""Showing numbers, money, dates and codes to a reader of ar, fa or en (SPEC §6).

Babel formats separators but leaves digits Latin, so digits are mapped
here; Jalali dates come from jdatetime, Hijri from hijridate. Codes and
links are wrapped in Unicode isolates so they never break right-to-left
text. All text here is HTML (the bot's parse mode), so user-provided text
is escaped on the way in.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_date
from babel.numbers import format_decimal, get_currency_name
from hijridate import Gregorian

from bot.domain.digits import localize_digits
from bot.domain.program import Display, pick_text

FSI, PDI = "\u2068", "\u2069"
BAR_CELLS = 10
# Babel's numbering system per digit set: it decides the group and decimal separators.
NUMBERING = {"latin": "latn", "arabic": "arab", "persian": "arabext"}


def currency_names() -> dict[str, Callable[[], str]]:
    """Translatable unit names of the currencies shops in the region use; others fall
    back to CLDR's localized name (`get_currency_name`)."""
    return {
        "IRT": lambda: _("toman"),
        "IRR": lambda: _("IRR"),
        "SAR": lambda: _("SAR"),
        "AED": lambda: _("AED"),
        "KWD": lambda: _("KWD"),
        "QAR": lambda: _("QAR"),
        "BHD": lambda: _("BHD"),
        "OMR": lambda: _("OMR"),
        "EGP": lambda: _("EGP"),
        "USD": lambda: _("USD"),
        "EUR": lambda: _("EUR"),
    }


def language_name(lang: str) -> str:
    """A language named in the reader's language (`الفارسية`, `عربی`), for running text;
    the language picker shows endonyms (`LANGUAGE_NAMES`) instead."""
    return {"en": _("English"), "ar": _("Arabic"), "fa": _("Persian")}[lang]


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def isolate(text: str) -> str:
    """Keep `text` (a code, a link, a Latin name) in its own direction inside RTL text."""
    return f"{FSI}{text}{PDI}"


class Fmt:
    """Formatting for one reader: language plus the program's display choices."""

    def __init__(self, lang: str, display: Display | None = None, zone: ZoneInfo | None = None) -> None:
        display = display or Display()
        self.lang = lang
        self.zone = zone or ZoneInfo("UTC")
        if lang == "fa":
            self.digits = "persian"
        elif lang == "ar":
            self.digits = display.arabic_digits
        else:
            self.digits = "latin"
        self.calendar = "jalali" if lang == "fa" else ("hijri" if lang == "ar" and display.arabic_calendar == "hijri" else "gregorian")

    # numbers ---------------------------------------------------------------
    def num(self, value: int | Decimal | float) -> str:
        """`١٬٣٧٩`, `١٫٥`, `۲۵۰٬۰۰۰`, `1,379.5`: the reader's digits *and* separators.

        Babel's `ar` defaults to Latin numbering, whose `,` and `.` between
        Arabic-Indic digits read as ٠ (`١.٥` looks like ١٠٥), so the separators
        come from the numbering system that goes with the digits; Babel still
        writes Latin digits, which are mapped afterwards."""
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        text = format_decimal(value, locale=self.lang, numbering_system=NUMBERING[self.digits],
                              decimal_quantization=False)
        return localize_digits(text, self.digits)

    def digits_of(self, text: str) -> str:
        """Map the digits inside already-composed text (e.g. a date string)."""
        return localize_digits(text, self.digits)

    def points(self, value: int | Decimal) -> str:
        # A fractional count takes the general plural form (100 selects it in ar, fa and en).
        count = abs(int(value)) if value == int(value) else 100
        return ngettext("{count} point", "{count} points", count).format(count=self.num(value))

    def money(self, amount: Decimal, currency: str) -> str:
        return f"{self.num(amount)} {self.currency(currency)}"

    def currency(self, code: str) -> str:
        """The currency's unit name in running text: `ريال`, `ریال سعودی`, `SAR`.

        Not the CLDR symbol: Persian has none for most currencies (Latin `SAR`
        would land in Persian text) and the Arabic ones end in a dot that
        doubles the sentence's own full stop (`ر.س..`)."""
        unit = currency_names().get(code)
        if unit is not None:
            return unit()
        if self.lang == "en":
            return code
        name = get_currency_name(code, locale=self.lang)
        return isolate(code) if name == code else name

    def join(self, items: Iterable[str]) -> str:
        """A plain list: `/award، /member` in Arabic and Persian, `/award, /member` in English."""
        return ("، " if self.lang in ("ar", "fa") else ", ").join(items)

    def percent_bar(self, share: float) -> str:
        filled = round(max(0.0, min(1.0, share)) * BAR_CELLS)
        return "▰" * filled + "▱" * (BAR_CELLS - filled)

    # dates -----------------------------------------------------------------
    def date(self, value: date | datetime) -> str:
        day = value.astimezone(self.zone).date() if isinstance(value, datetime) else value
        if self.calendar == "jalali":
            jalali = jdatetime.date.fromgregorian(date=day, locale="fa_IR")
            return self.digits_of(f"{jalali.day} {jalali.j_months_fa[jalali.month - 1]} {jalali.year}")
        if self.calendar == "hijri":
            hijri = Gregorian(day.year, day.month, day.day).to_hijri()
            return self.digits_of(f"{hijri.day} {hijri.month_name('ar')} {hijri.year}")
        return self.digits_of(format_date(day, "long", locale=self.lang))

    # text ------------------------------------------------------------------
    def code(self, text: str) -> str:
        """A member or voucher code: monospace (tap to copy), isolated for RTL."""
        return isolate(f"<code>{esc(text)}</code>")

    def name(self, texts: dict[str, str]) -> str:
        """A merchant-provided name (tier, reward) in this language, escaped."""
        return esc(pick_text(texts, self.lang))
