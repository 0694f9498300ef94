"""Quiet hours, consent categories, safe personalisation, broadcast segments and times."""
from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.broadcasts import (
    EmptyMessage,
    InvalidDays,
    MessageTooLong,
    Segment,
    TimeInPast,
    UnreadableTime,
    check_text,
    parse_days,
    parse_send_time,
)
from bot.domain.calendars import DateTooFar
from bot.domain.delivery import (
    MARKETING,
    OWNER_TEXT_LIMIT,
    REMINDER,
    SERVICE,
    fill_placeholders,
    parse_quiet_hours,
    release_time,
)
from bot.domain.program import Program, ProgramError, load_program

TEHRAN = ZoneInfo("Asia/Tehran")


def test_quiet_hours_cross_midnight() -> None:
    quiet = parse_quiet_hours("22:00-09:00")
    assert quiet is not None
    assert quiet.contains(time(22, 0)) and quiet.contains(time(2, 30)) and quiet.contains(time(8, 59))
    assert not quiet.contains(time(9, 0)) and not quiet.contains(time(21, 59))
    late = datetime(2026, 3, 10, 23, 15, tzinfo=TEHRAN)
    assert quiet.end_after(late) == datetime(2026, 3, 11, 9, 0, tzinfo=TEHRAN)
    early = datetime(2026, 3, 11, 6, 0, tzinfo=TEHRAN)
    assert quiet.end_after(early) == datetime(2026, 3, 11, 9, 0, tzinfo=TEHRAN)
    noon = datetime(2026, 3, 11, 12, 0, tzinfo=TEHRAN)
    assert quiet.end_after(noon) == noon
    assert parse_quiet_hours("off") is None and parse_quiet_hours("") is None
    day_window = parse_quiet_hours("13:00-14:30")
    assert day_window is not None and day_window.contains(time(14, 0)) and not day_window.contains(time(15, 0))
    for bad in ("22-09", "25:00-09:00", "10:00-10:00", "soon"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


def test_a_receipt_at_22_30_goes_at_once_a_reminder_waits_for_9() -> None:
    quiet = parse_quiet_hours("22:00-09:00")
    at = datetime(2026, 3, 10, 22, 30, tzinfo=TEHRAN).astimezone(UTC)
    assert release_time(SERVICE, at, quiet, TEHRAN) is None
    for category in (REMINDER, MARKETING):
        assert release_time(category, at, quiet, TEHRAN) == datetime(2026, 3, 11, 9, 0, tzinfo=TEHRAN)
    assert release_time(MARKETING, at, None, TEHRAN) is None


def test_quiet_hours_are_a_program_setting() -> None:
    assert str(Program().messaging.quiet) == "22:00-09:00"
    assert Program.model_validate({"messaging": {"quiet_hours": "off"}}).messaging.quiet is None


def test_a_bad_quiet_hours_setting_stops_start_up_naming_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "program.toml"
    path.write_text('[messaging]\nquiet_hours = "late"\n', encoding="utf-8")
    with pytest.raises(ProgramError, match=r"messaging\.quiet_hours"):
        load_program(path)


def test_placeholders_are_filled_and_anything_else_is_left_alone() -> None:
    values = {"first_name": "Sara", "points": "120 points"}
    assert fill_placeholders("Hi {first_name}, you have {points}!", values) == "Hi Sara, you have 120 points!"
    for typed in ("{price} {0} {first_name!r} {{first_name}} { } {", "{0.__class__}", "50% off {"):
        assert fill_placeholders(typed, values) == typed.replace("{first_name}", "Sara")


def test_owner_text_must_fit_once_personalised() -> None:
    check_text("Hello {first_name}", "Hello {first_name}")
    with pytest.raises(EmptyMessage):
        check_text("   ", "   ")
    with pytest.raises(MessageTooLong):
        check_text("x" * 4096, "x" * 4096)
    fits = "x" * (OWNER_TEXT_LIMIT - 200)
    check_text(fits, fits)
    with pytest.raises(MessageTooLong):  # two names could each take 128 characters
        check_text(fits + "{first_name}{first_name}", fits + "{first_name}{first_name}")


def test_segments_round_trip_and_refuse_nonsense() -> None:
    for segment in (Segment("all"), Segment("language", language="fa"), Segment("tier", tier=1),
                    Segment("inactive", days=30), Segment("birthdays", calendar="j"), Segment("never")):
        assert Segment.from_json(segment.to_json()) == segment
    for bad in ({"kind": "everyone"}, {"kind": "language", "language": "de"}, {"kind": "inactive", "days": 0},
                {"kind": "birthdays"}, {"kind": "tier"}):
        with pytest.raises(ValueError):
            Segment.from_json(bad)


def test_days_in_any_digits() -> None:
    assert parse_days("۳۰") == 30 and parse_days("٩٠") == 90 and parse_days("7") == 7
    for bad in ("0", "-5", "abc", "99999", "1.5"):
        with pytest.raises(InvalidDays):
            parse_days(bad)


def test_send_times_in_merchant_time() -> None:
    now = datetime(2026, 3, 10, 15, 30, tzinfo=TEHRAN)
    assert parse_send_time("18:30", now) == datetime(2026, 3, 10, 18, 30, tzinfo=TEHRAN)
    assert parse_send_time("۱۰:۰۰", now) == datetime(2026, 3, 11, 10, 0, tzinfo=TEHRAN)  # passed today: tomorrow
    assert parse_send_time("فردا ۰۹:۱۵", now) == datetime(2026, 3, 11, 9, 15, tzinfo=TEHRAN)
    for tomorrow in ("غدًا", "غداً", "غدا"):  # the catalog's example writes the tanwin before the alif
        assert parse_send_time(f"{tomorrow} ١٠:٠٠", now) == datetime(2026, 3, 11, 10, 0, tzinfo=TEHRAN)
    assert parse_send_time("tomorrow 21:00", now) == datetime(2026, 3, 11, 21, 0, tzinfo=TEHRAN)
    assert parse_send_time("2026-03-12 18:30", now) == datetime(2026, 3, 12, 18, 30, tzinfo=TEHRAN)
    assert parse_send_time("۱۴۰۴/۱۲/۲۲ ۱۸:۳۰", now) == datetime(2026, 3, 13, 18, 30, tzinfo=TEHRAN)
    with pytest.raises(TimeInPast):
        parse_send_time("2026-03-10 09:00", now)
    with pytest.raises(DateTooFar):
        parse_send_time("2026-12-01 09:00", now)
    for bad in ("soon", "25:00", "18:75", ""):
        with pytest.raises(UnreadableTime):
            parse_send_time(bad, now)
