"""Birthdays in Gregorian, Jalali and Hijri: reading them, and when they are celebrated."""
from __future__ import annotations

from datetime import date

import jdatetime
import pytest
from hijridate import Hijri

from bot.domain.calendars import (
    BirthDate,
    DateInFuture,
    DateInPast,
    DateTooFar,
    DateTooOld,
    NoSuchDate,
    UnreadableDate,
    YearNotInFull,
    celebration_year,
    celebrations_between,
    celebrations_on,
    check_birth_date,
    month_bounds,
    parse_birth_date,
    parse_day_ahead,
)

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-05-17", [BirthDate("g", 1990, 5, 17)]),
        ("17/05/1990", [BirthDate("g", 1990, 5, 17)]),
        ("۱۷/۰۵/۱۹۹۰", [BirthDate("g", 1990, 5, 17)]),
        ("17.5.1990", [BirthDate("g", 1990, 5, 17)]),
        ("17 May 1990", [BirthDate("g", 1990, 5, 17)]),
        ("١٧ مايو ١٩٩٠", [BirthDate("g", 1990, 5, 17)]),
        # A Jalali year is also a Hijri one: both readings, the member picks.
        ("۱۳۶۹/۰۲/۲۷", [BirthDate("j", 1369, 2, 27), BirthDate("h", 1369, 2, 27)]),
        ("1369/02/27 شمسی", [BirthDate("j", 1369, 2, 27)]),
        ("۲۷ اردیبهشت ۱۳۶۹", [BirthDate("j", 1369, 2, 27)]),
        # 1410 as a Jalali year is still to come: only the Hijri reading is left.
        ("١٤١٠/١٠/٢١", [BirthDate("h", 1410, 10, 21)]),
        ("21 Shawwal 1410", [BirthDate("h", 1410, 10, 21)]),
        ("٢١ شوال ١٤١٠ هـ", [BirthDate("h", 1410, 10, 21)]),
        ("\u200f۱۳۶۹/۰۲/۲۷\u200f ش", [BirthDate("j", 1369, 2, 27)]),
    ],
)
def test_dates_in_every_calendar_and_digit_set(text: str, expected: list[BirthDate]) -> None:
    assert parse_birth_date(text, TODAY) == expected


def test_conversions_come_from_the_calendar_libraries() -> None:
    assert BirthDate("j", 1369, 2, 27).to_gregorian() == date(1990, 5, 17)
    assert BirthDate("j", 1370, 6, 31).to_gregorian() == date(1991, 9, 22)
    assert BirthDate("h", 1410, 10, 21).to_gregorian() == date(1990, 5, 16)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("1990-02-30", NoSuchDate),
        ("31/04/1990", NoSuchDate),
        ("1990-13-01", NoSuchDate),
        ("1403/12/31", NoSuchDate),  # Esfand never has 31 days; as Hijri, Dhu al-Hijjah neither
        ("2030-01-01", DateInFuture),
        ("2026-03-11", DateInFuture),
        ("1800-01-01", DateTooOld),
        ("17/05/90", YearNotInFull),
        ("hello", UnreadableDate),
        ("", UnreadableDate),
        ("1990-05", UnreadableDate),
        ("x" * 4096, UnreadableDate),
        ("17 Smarch 1990", UnreadableDate),
    ],
)
def test_dates_that_cannot_be_a_birthday_are_refused(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_birth_date(text, TODAY)


def test_day_30_exists_only_in_some_years_and_months() -> None:
    assert jdatetime.date(1403, 1, 1).isleap() and not jdatetime.date(1404, 1, 1).isleap()
    assert parse_birth_date("1403/12/30 jalali", TODAY) == [BirthDate("j", 1403, 12, 30)]
    with pytest.raises(NoSuchDate):
        parse_birth_date("1404/12/30 jalali", TODAY)
    assert Hijri(1410, 10, 1).month_length() == 29
    with pytest.raises(NoSuchDate):
        parse_birth_date("1410/10/30 hijri", TODAY)


def test_a_forged_button_date_is_checked_again() -> None:
    assert check_birth_date(BirthDate("g", 1992, 2, 29), TODAY)
    for forged in (BirthDate("g", 1990, 2, 30), BirthDate("x", 1990, 1, 1), BirthDate("j", 1404, 12, 30)):
        with pytest.raises(NoSuchDate):
            check_birth_date(forged, TODAY)
    with pytest.raises(DateInFuture):
        check_birth_date(BirthDate("g", 2027, 1, 1), TODAY)


def _celebrates(birth: BirthDate, day: date) -> bool:
    return celebration_year(birth, day) is not None


def test_gregorian_birthdays_and_29_february() -> None:
    leapling = BirthDate("g", 1992, 2, 29)
    assert _celebrates(leapling, date(2028, 2, 29))
    assert not _celebrates(leapling, date(2028, 2, 28))  # a leap year has its own 29th
    assert _celebrates(leapling, date(2027, 2, 28))  # common years: the last day of February
    assert not _celebrates(leapling, date(2027, 3, 1))
    assert celebration_year(BirthDate("g", 1990, 5, 17), date(2026, 5, 17)) == 2026


def test_a_jalali_birthday_comes_on_its_jalali_date_every_year() -> None:
    sara = BirthDate("j", 1369, 2, 27)
    for jalali_year in range(1400, 1411):
        day = jdatetime.date(jalali_year, 2, 27).togregorian()
        assert celebration_year(sara, day) == jalali_year
    assert not _celebrates(sara, date(2026, 5, 16))


def test_30_esfand_is_celebrated_on_29_esfand_in_common_years() -> None:
    born = BirthDate("j", 1375, 12, 30)  # 1375 was a leap year
    assert celebration_year(born, jdatetime.date(1403, 12, 30).togregorian()) == 1403
    assert not _celebrates(born, jdatetime.date(1403, 12, 29).togregorian())
    assert celebration_year(born, jdatetime.date(1404, 12, 29).togregorian()) == 1404


def test_a_hijri_birthday_moves_through_the_gregorian_year() -> None:
    layla = BirthDate("h", 1410, 10, 21)
    days = [Hijri(year, 10, 21).to_gregorian() for year in (1446, 1447, 1448)]
    assert [celebration_year(layla, date(d.year, d.month, d.day)) for d in days] == [1446, 1447, 1448]
    assert days[1] - days[0] < date(2026, 1, 1) - date(2025, 1, 1)  # a lunar year is shorter


def test_the_30th_of_a_hijri_month_falls_on_the_29th_when_the_month_is_short() -> None:
    born = BirthDate("h", 1400, 9, 30)
    short = next(y for y in range(1440, 1460) if Hijri(y, 9, 1).month_length() == 29)
    long = next(y for y in range(1440, 1460) if Hijri(y, 9, 1).month_length() == 30)
    on_29 = Hijri(short, 9, 29).to_gregorian()
    assert celebration_year(born, date(on_29.year, on_29.month, on_29.day)) == short
    on_30 = Hijri(long, 9, 30).to_gregorian()
    assert celebration_year(born, date(on_30.year, on_30.month, on_30.day)) == long
    before = Hijri(long, 9, 29).to_gregorian()
    assert not _celebrates(born, date(before.year, before.month, before.day))


def test_nobody_celebrates_before_they_were_born() -> None:
    assert celebration_year(BirthDate("g", 2026, 3, 1), date(2026, 3, 1)) is None


def test_every_day_of_a_year_is_found_once_per_calendar() -> None:
    for day in (date(2026, 1, 1), date(2027, 2, 28), date(2026, 3, 20)):
        assert [c.calendar for c in celebrations_on(day)] == ["g", "j", "h"]


def test_a_month_in_any_calendar_as_few_index_lookups() -> None:
    first, last = month_bounds(TODAY, "j")
    assert (first, last) == (date(2026, 2, 20), date(2026, 3, 20))  # Esfand 1404
    terms = celebrations_between(first, last)
    assert len(terms) <= 6
    jalali = [t for t in terms if t.calendar == "j"]
    assert [(t.month, t.days) for t in jalali] == [(12, tuple(range(1, 31)))]  # 30 Esfand on 29 Esfand
    g_first, g_last = month_bounds(date(2027, 2, 10), "g")
    assert (g_first, g_last) == (date(2027, 2, 1), date(2027, 2, 28))
    assert [t.days for t in celebrations_between(g_first, g_last) if t.calendar == "g"] == [tuple(range(1, 30))]


def test_days_ahead_for_scheduling() -> None:
    assert parse_day_ahead("2026-03-12", TODAY, horizon_days=60) == date(2026, 3, 12)
    assert parse_day_ahead("۱۴۰۴/۱۲/۲۲", TODAY, horizon_days=60) == date(2026, 3, 13)
    with pytest.raises(DateInPast):
        parse_day_ahead("2026-01-01", TODAY, horizon_days=60)
    with pytest.raises(DateTooFar):
        parse_day_ahead("2027-01-01", TODAY, horizon_days=60)
    with pytest.raises(NoSuchDate):
        parse_day_ahead("2026-02-30", TODAY, horizon_days=60)
