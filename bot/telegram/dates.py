"""Birthdays shown back in the calendar they were given in, with the reader's
month names and digits (SPEC §6). `Fmt.date` shows a day in the *reader's*
calendar; a birthday is shown in the *member's*."""
from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.domain.calendars import GREGORIAN, HIJRI, JALALI, BirthDate
from bot.telegram.render import Fmt


def calendar_name(calendar: str) -> str:
    if calendar == JALALI:
        return _("Solar Hijri (Jalali)")
    if calendar == HIJRI:
        return _("Lunar Hijri")
    return _("Gregorian")


def jalali_month(month: int) -> str:
    return (
        _("Farvardin"), _("Ordibehesht"), _("Khordad"), _("Tir"), _("Mordad"), _("Shahrivar"),
        _("Mehr"), _("Aban"), _("Azar"), _("Dey"), _("Bahman"), _("Esfand"),
    )[month - 1]


def hijri_month(month: int) -> str:
    return (
        _("Muharram"), _("Safar"), _("Rabi al-Awwal"), _("Rabi al-Thani"), _("Jumada al-Ula"),
        _("Jumada al-Akhirah"), _("Rajab"), _("Shaban"), _("Ramadan"), _("Shawwal"),
        _("Dhu al-Qadah"), _("Dhu al-Hijjah"),
    )[month - 1]


def birth_date(birth: BirthDate, fmt: Fmt) -> str:
    """`27 Ordibehesht 1369`, `۲۷ اردیبهشت ۱۳۶۹`, `٢١ شوال ١٤١٠ هـ`, `May 17, 1990`."""
    if birth.calendar == GREGORIAN:
        text = format_date(birth.to_gregorian(), "long", locale=fmt.lang)
    elif birth.calendar == JALALI:
        text = f"{birth.day} {jalali_month(birth.month)} {birth.year}"  # day-month-year in ar, fa and en alike
    else:
        text = _("{day} {month} {year} AH").format(day=birth.day, month=hijri_month(birth.month), year=birth.year)
    return fmt.digits_of(text)


def birth_date_with_equivalent(birth: BirthDate, fmt: Fmt) -> str:
    """The date in its calendar, plus the same day in the reader's calendar when that differs."""
    shown = birth_date(birth, fmt)
    reader = {"gregorian": GREGORIAN, "jalali": JALALI, "hijri": HIJRI}[fmt.calendar]
    if reader == birth.calendar:
        return shown
    return f"{shown} ({fmt.date(birth.to_gregorian())})"
