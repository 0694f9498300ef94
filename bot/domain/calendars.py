"""Birthdays in three calendars (SPEC §3 `/birthday`, §5 birthdays).

A member's birthday is kept in the calendar they gave it in: Gregorian (g),
Jalali / Solar Hijri (j) or Lunar Hijri (h, Umm al-Qura). It is celebrated
on its anniversary *in that calendar*: a Jalali birthday on its Jalali date
every year, a Hijri one about eleven days earlier each Gregorian year.
Conversions come from jdatetime and hijridate; nothing here does calendar
arithmetic by hand.

Days that do not exist every year:
- 29 February is celebrated on 28 February in common years (it stays in the
  birth month, so a "birthdays this month" list still finds it);
- 30 Esfand (Jalali leap years only) on 29 Esfand, the last day of the year;
- the 30th of a Hijri month on the 29th when that month has 29 days.
"""
from __future__ import annotations

import calendar as gregorian_calendar
import contextlib
import re
from dataclasses import dataclass
from datetime import date, timedelta

import jdatetime
from hijridate import Gregorian, Hijri

from bot.domain.digits import to_latin
from bot.domain.errors import DomainError

GREGORIAN, JALALI, HIJRI = "g", "j", "h"
CALENDARS = (GREGORIAN, JALALI, HIJRI)
MAX_AGE_YEARS = 120
HIJRI_FIRST_YEAR = 1343  # hijridate (Umm al-Qura) covers 1343–1500 AH

# Month names people type, per calendar (lower case; Latin and the scripts of our readers).
_MONTH_NAMES: dict[str, dict[str, int]] = {
    GREGORIAN: {
        **{name.lower(): i for i, name in enumerate(gregorian_calendar.month_name) if name},
        **{name.lower(): i for i, name in enumerate(gregorian_calendar.month_abbr) if name},
        "sept": 9,
        **{name: i for i, name in enumerate(
            ("", "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
             "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")) if name},
        "ابريل": 4, "اغسطس": 8, "اكتوبر": 10,
    },
    JALALI: {
        **{name.lower(): i for i, name in enumerate(jdatetime.date.j_months_en, 1)},
        **{name: i for i, name in enumerate(jdatetime.date.j_months_fa, 1)},
        "ordibehesht": 2, "mordad": 5, "esfand": 12,
    },
    HIJRI: {
        **{Hijri(1440, i, 1).month_name("en").lower(): i for i in range(1, 13)},
        **{Hijri(1440, i, 1).month_name("ar"): i for i in range(1, 13)},
    },
}
# Words that name a calendar, e.g. `1369/02/27 شمسی` or `17 Shawwal 1410 AH`.
_CALENDAR_WORDS: dict[str, str] = {
    **dict.fromkeys(("jalali", "shamsi", "solar", "شمسی", "شمسي", "خورشیدی", "جلالی", "ش", "ه.ش", "هش"), JALALI),
    **dict.fromkeys(("hijri", "qamari", "lunar", "ah", "قمری", "قمري", "هجري", "هجری", "هـ", "ه", "ق", "ه.ق", "هق"), HIJRI),
    **dict.fromkeys(("gregorian", "miladi", "ad", "ce", "میلادی", "ميلادي", "م"), GREGORIAN),
}
_SEPARATORS = re.compile(r"[\s/\-.,،٫٬_\\]+")


@dataclass(frozen=True, order=True)
class BirthDate:
    calendar: str  # g | j | h
    year: int
    month: int
    day: int

    def to_gregorian(self) -> date:
        return to_gregorian(self.calendar, self.year, self.month, self.day)


# -- errors ---------------------------------------------------------------------
class UnreadableDate(DomainError):
    code = "unreadable_date"


class YearNotInFull(DomainError):
    code = "year_not_in_full"


class NoSuchDate(DomainError):
    """The numbers make no date in any calendar they could be meant in."""

    code = "no_such_date"


class DateInFuture(DomainError):
    code = "date_in_future"


class DateTooOld(DomainError):
    code = "date_too_old"


class BirthdayAlreadySet(DomainError):
    code = "birthday_already_set"


class AmbiguousCalendar(DomainError):
    """Staff typed a year that fits two calendars without naming one."""

    code = "ambiguous_calendar"


# -- conversions ----------------------------------------------------------------
def to_gregorian(calendar: str, year: int, month: int, day: int) -> date:
    """The Gregorian day of a date in `calendar`; ValueError if it does not exist."""
    if calendar == GREGORIAN:
        return date(year, month, day)
    if calendar == JALALI:
        if not 1 <= month <= 12:
            raise ValueError("month out of range")
        gregorian: date = jdatetime.date(year, month, day).togregorian()  # jdatetime ships no types
        return gregorian
    if calendar == HIJRI:
        try:
            gregorian = Hijri(year, month, day).to_gregorian()
        except OverflowError as exc:
            raise ValueError(str(exc)) from None
        return date(gregorian.year, gregorian.month, gregorian.day)
    raise ValueError(f"unknown calendar {calendar!r}")


def in_calendar(day: date, calendar: str) -> tuple[int, int, int]:
    """(year, month, day) of a Gregorian day in `calendar`; ValueError outside hijridate's range."""
    if calendar == GREGORIAN:
        return day.year, day.month, day.day
    if calendar == JALALI:
        jalali = jdatetime.date.fromgregorian(date=day)
        return jalali.year, jalali.month, jalali.day
    if calendar == HIJRI:
        try:
            hijri = Gregorian(day.year, day.month, day.day).to_hijri()
        except OverflowError as exc:
            raise ValueError(str(exc)) from None
        return hijri.year, hijri.month, hijri.day
    raise ValueError(f"unknown calendar {calendar!r}")


def _year_range(calendar: str, today: date) -> range:
    """Years a living member's birth can carry in `calendar`: at most 120 years ago, not after this year."""
    current = in_calendar(today, calendar)[0]
    if calendar == HIJRI:  # hijridate starts in 1343 AH (1924); 120 solar years are ~124 lunar ones
        return range(max(HIJRI_FIRST_YEAR, current - 124), current + 1)
    oldest = in_calendar(today - timedelta(days=round(365.2425 * MAX_AGE_YEARS)), calendar)[0]
    return range(oldest, current + 1)


def _distance(year: int, years: range) -> int:
    return 0 if year in years else min(abs(year - years.start), abs(year - (years.stop - 1)))



# -- reading what people type ---------------------------------------------------
@dataclass(frozen=True)
class _Pieces:
    year: int
    day: int
    months: dict[str, int]  # month number per calendar the text allows (a month name fixes the calendar)


def _pieces(text: str) -> _Pieces:
    raw = to_latin(text).lower()
    if len(raw) > 64:
        raise UnreadableDate(text=text)
    tokens = [t for t in _SEPARATORS.split(raw) if t]
    hinted: set[str] = set()
    words = []
    for token in tokens:
        if not token.isdigit() and token in _CALENDAR_WORDS:
            hinted.add(_CALENDAR_WORDS[token])
        else:
            words.append(token)
    if JALALI in hinted:  # `هجری شمسی` names the solar Hijri calendar
        hinted = {JALALI}
    allowed = [c for c in CALENDARS if not hinted or c in hinted]
    numbers = [t for t in words if t.isdigit()]
    names = [t for t in words if not t.isdigit()]
    if names:
        if len(names) != 1 or len(numbers) != 2:
            raise UnreadableDate(text=text)
        months = {c: _MONTH_NAMES[c][names[0]] for c in allowed if names[0] in _MONTH_NAMES[c]}
        if not months:
            raise UnreadableDate(text=text)
        long = [n for n in numbers if len(n) >= 3]
        if len(long) != 1:
            raise YearNotInFull(text=text) if not long else UnreadableDate(text=text)
        short = numbers[1] if numbers[0] is long[0] else numbers[0]
        return _Pieces(int(long[0]), int(short), months)
    if len(numbers) != 3:
        raise UnreadableDate(text=text)
    if len(numbers[0]) >= 3:  # year first: Y-M-D (ISO order, and how Jalali dates are written)
        year, month, day = int(numbers[0]), int(numbers[1]), int(numbers[2])
    elif len(numbers[2]) >= 3:  # year last: D/M/Y (day first, as in Arabic, Persian and most of the world)
        day, month, year = int(numbers[0]), int(numbers[1]), int(numbers[2])
    else:
        raise YearNotInFull(text=text)
    return _Pieces(year, day, dict.fromkeys(allowed, month))


def parse_birth_date(text: str, today: date, *, calendar: str | None = None) -> list[BirthDate]:
    """Every date of birth `text` can mean; the caller asks the member to
    choose when there is more than one.

    Accepts `1990-05-17`, `17/05/1990`, `۱۳۶۹/۰۲/۲۷`, `١٤١٠/١٠/٢١`, `17 May 1990`,
    `۲۷ اردیبهشت ۱۳۶۹`, with Latin, Persian or Arabic-Indic digits and an
    optional calendar word (`شمسی`, `هـ`, `AH`, …). The year decides which
    calendars are possible (a Gregorian, Jalali or Hijri year of someone
    alive); the date must exist in its calendar, not lie in the future and
    be at most 120 years ago. Raises a DomainError subclass when no reading
    is left, naming the most plausible reason.
    """
    pieces = _pieces(text)
    months = {c: m for c, m in pieces.months.items() if calendar is None or c == calendar}
    if not months:
        raise UnreadableDate(text=text)
    found: list[BirthDate] = []
    reasons: dict[str, tuple[int, type[DomainError]]] = {}
    for cal, month in months.items():
        years = _year_range(cal, today)
        if pieces.year not in years:
            reason = DateInFuture if pieces.year >= years.stop else DateTooOld
            reasons[cal] = (_distance(pieces.year, years), reason)
            continue
        try:
            gregorian = to_gregorian(cal, pieces.year, month, pieces.day)
        except ValueError:
            reasons[cal] = (0, NoSuchDate)
            continue
        if gregorian > today:
            reasons[cal] = (0, DateInFuture)
            continue
        found.append(BirthDate(cal, pieces.year, month, pieces.day))
    if not found:
        _, closest = min(reasons.values(), key=lambda item: (item[0], item[1] is not NoSuchDate))
        raise closest(text=text)
    return found


def check_birth_date(birth: BirthDate, today: date) -> BirthDate:
    """Validate a date that arrived as numbers (a button): exists, not future, not too old."""
    if birth.calendar not in CALENDARS:
        raise NoSuchDate(text="")
    if birth.year not in _year_range(birth.calendar, today):
        raise DateInFuture(text="") if birth.year > _year_range(birth.calendar, today).stop - 1 else DateTooOld(text="")
    try:
        gregorian = birth.to_gregorian()
    except ValueError:
        raise NoSuchDate(text="") from None
    if gregorian > today:
        raise DateInFuture(text="")
    return birth


# -- celebrating ----------------------------------------------------------------
@dataclass(frozen=True)
class Celebration:
    """Birthdays celebrated on one Gregorian day in one calendar.

    Members whose birthday is (`calendar`, `month`, one of `days`) have their
    anniversary that day; `year` is the year it is in their calendar (the
    idempotency key of the bonus).
    """

    calendar: str
    year: int
    month: int
    days: tuple[int, ...]


def celebrations_on(day: date) -> list[Celebration]:
    """Which (calendar, month, day) birthdays fall on the Gregorian `day`."""
    found = []
    # Gregorian: 29 Feb on 28 Feb in common years.
    days = [day.day]
    if day.month == 2 and day.day == 28 and not gregorian_calendar.isleap(day.year):
        days.append(29)
    found.append(Celebration(GREGORIAN, day.year, day.month, tuple(days)))
    # Jalali: months 1–6 have 31 days, 7–11 have 30, Esfand 29 or 30.
    jalali = jdatetime.date.fromgregorian(date=day)
    days = [jalali.day]
    if jalali.month == 12 and jalali.day == 29 and not jalali.isleap():
        days.append(30)
    found.append(Celebration(JALALI, jalali.year, jalali.month, tuple(days)))
    # Hijri (Umm al-Qura): a month has 29 or 30 days, differently each year.
    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    except OverflowError:
        return found
    days = [hijri.day]
    if hijri.day == 29 and hijri.month_length() == 29:
        days.append(30)
    found.append(Celebration(HIJRI, hijri.year, hijri.month, tuple(days)))
    return found


def celebration_year(birth: BirthDate, day: date) -> int | None:
    """The year (in the member's calendar) whose birthday falls on `day`, or None."""
    for celebration in celebrations_on(day):
        if (
            celebration.calendar == birth.calendar
            and celebration.month == birth.month
            and birth.day in celebration.days
            and celebration.year > birth.year
        ):
            return celebration.year
    return None


def celebrations_between(first: date, last: date) -> list[Celebration]:
    """Every birthday celebrated from `first` to `last` (inclusive), grouped by
    calendar and month so a query stays a handful of indexed lookups."""
    grouped: dict[tuple[str, int, int], set[int]] = {}
    day = first
    while day <= last:
        for celebration in celebrations_on(day):
            grouped.setdefault((celebration.calendar, celebration.year, celebration.month), set()).update(
                celebration.days
            )
        day += timedelta(days=1)
    return [Celebration(cal, year, month, tuple(sorted(days))) for (cal, year, month), days in grouped.items()]


def month_bounds(today: date, calendar: str) -> tuple[date, date]:
    """First and last Gregorian day of the month containing `today` in `calendar`."""
    if calendar == GREGORIAN:
        last = gregorian_calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=1), today.replace(day=last)
    year, month, _day = in_calendar(today, calendar)
    first = to_gregorian(calendar, year, month, 1)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return first, to_gregorian(calendar, next_year, next_month, 1) - timedelta(days=1)


class DateInPast(DomainError):
    code = "date_in_past"


class DateTooFar(DomainError):
    code = "date_too_far"


def parse_day_ahead(text: str, today: date, *, horizon_days: int) -> date:
    """A day from `today` to `today + horizon_days`, typed in any calendar and digits
    (scheduling: `2026-03-12`, `۱۴۰۴/۱۲/۲۲`, `12/03/2026`). Past readings are dropped,
    so a Jalali year is never mistaken for the Hijri year of the same number."""
    pieces = _pieces(text)
    last = today + timedelta(days=horizon_days)
    days: set[date] = set()
    outside: list[date] = []
    for cal, month in pieces.months.items():
        try:
            gregorian = to_gregorian(cal, pieces.year, month, pieces.day)
        except ValueError:
            with contextlib.suppress(ValueError):
                if abs(pieces.year - in_calendar(today, cal)[0]) <= 1:
                    raise NoSuchDate(text=text) from None  # this year's calendar, a day it lacks
            continue
        if today <= gregorian <= last:
            days.add(gregorian)
        else:
            outside.append(gregorian)
    if len(days) == 1:
        return days.pop()
    if len(days) > 1:
        raise AmbiguousCalendar(text=text)
    if not outside:
        raise NoSuchDate(text=text)
    nearest = min(outside, key=lambda day: abs((day - today).days))  # the reading the person most likely meant
    if nearest < today:
        raise DateInPast(text=text)
    raise DateTooFar(text=text, days=horizon_days)

