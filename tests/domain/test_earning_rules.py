"""Stamp cards, earning actions, milestones, tier entry and early access: the pure rules (SPEC §11).

Limits are counted in merchant time: across midnight in Asia/Tehran (UTC+03:30,
where the UTC date lags the local one in the small hours) and on the days a DST
zone moves its clocks (23- and 25-hour days).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.actions import (
    ChannelMembership,
    CheckinCodeUnknown,
    code_expiry,
    code_from_payload,
    day_bounds,
    membership_from_status,
    new_action_code,
    normalize_code,
    period_of,
    points_key,
)
from bot.domain.milestones import (
    anniversary_join_days,
    entry_tiers,
    purchase_milestones_due,
    recent_days,
)
from bot.domain.program import Milestone, Program, ProgramError, load_program
from bot.domain.rewards import (
    Availability,
    availability,
    early_access_ends,
    tier_locked,
)
from bot.domain.stamps import InvalidStampCount, dots, fill, lapsed, parse_stamp_count

TEHRAN = ZoneInfo("Asia/Tehran")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = UTC


# -- periods in merchant time --------------------------------------------------------------


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (subtracting in one zone would give wall-clock time)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def test_a_tehran_day_starts_at_local_midnight_not_at_utc_midnight() -> None:
    before = datetime(2026, 3, 10, 20, 29, tzinfo=UTC)  # 23:59 in Tehran on the 10th
    after = datetime(2026, 3, 10, 20, 31, tzinfo=UTC)  # 00:01 in Tehran on the 11th: same UTC date
    assert period_of("daily", before, TEHRAN).key == "2026-03-10"
    assert period_of("daily", after, TEHRAN).key == "2026-03-11"
    assert period_of("daily", before, TEHRAN).ends == datetime(2026, 3, 11, tzinfo=TEHRAN)
    late_utc = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # still the 11th in Tehran
    assert period_of("daily", late_utc, TEHRAN).key == "2026-03-11"


def test_the_same_instants_in_utc_fall_on_one_day() -> None:
    before = datetime(2026, 3, 10, 20, 29, tzinfo=UTC)
    after = datetime(2026, 3, 10, 20, 31, tzinfo=UTC)
    assert period_of("daily", before, ZoneInfo("UTC")).key == period_of("daily", after, ZoneInfo("UTC")).key


def test_a_new_york_spring_forward_day_has_23_hours_and_still_is_one_day() -> None:
    start, end = day_bounds(datetime(2026, 3, 8, 12, 0, tzinfo=NEW_YORK), NEW_YORK)
    assert elapsed(start, end) == timedelta(hours=23)
    early = datetime(2026, 3, 8, 0, 30, tzinfo=NEW_YORK)  # before the jump (EST)
    late = datetime(2026, 3, 8, 23, 30, tzinfo=NEW_YORK)  # after it (EDT)
    assert period_of("daily", early, NEW_YORK).key == period_of("daily", late, NEW_YORK).key == "2026-03-08"
    assert period_of("daily", late + timedelta(hours=1), NEW_YORK).key == "2026-03-09"


def test_a_berlin_autumn_day_has_25_hours_and_its_repeated_hour_is_the_same_day() -> None:
    start, end = day_bounds(datetime(2026, 10, 25, 12, 0, tzinfo=BERLIN), BERLIN)
    assert elapsed(start, end) == timedelta(hours=25)
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the repeated hour
    assert period_of("daily", first, BERLIN).key == period_of("daily", second, BERLIN).key == "2026-10-25"
    last = datetime(2026, 10, 25, 22, 59, tzinfo=UTC)  # 23:59 CET
    assert period_of("daily", last, BERLIN).key == "2026-10-25"
    assert period_of("daily", last + timedelta(minutes=2), BERLIN).key == "2026-10-26"


def test_weeks_start_on_the_configured_day_in_merchant_time() -> None:
    friday_night = datetime(2026, 3, 13, 20, 31, tzinfo=UTC)  # 00:01 Saturday 14 March in Tehran
    assert period_of("weekly", friday_night, TEHRAN, week_starts="saturday").key == "w2026-03-14"
    assert period_of("weekly", friday_night - timedelta(minutes=2), TEHRAN, week_starts="saturday").key == "w2026-03-07"
    assert period_of("weekly", friday_night, TEHRAN).key == "w2026-03-09"  # ISO weeks start on Monday
    week = period_of("weekly", friday_night, TEHRAN, week_starts="sunday")
    assert week.key == "w2026-03-08" and week.ends == datetime(2026, 3, 15, tzinfo=TEHRAN)
    # A week across the US clock change is 7 local days, 167 hours.
    across = period_of("weekly", datetime(2026, 3, 9, 12, tzinfo=NEW_YORK), NEW_YORK, week_starts="sunday")
    assert across.key == "w2026-03-08"
    assert across.ends is not None
    assert elapsed(datetime(2026, 3, 8, tzinfo=NEW_YORK), across.ends) == timedelta(days=7, hours=-1)


def test_months_are_calendar_months_in_merchant_time_and_once_is_forever() -> None:
    new_year_tehran = datetime(2026, 12, 31, 20, 31, tzinfo=UTC)  # 1 January 2027, 00:01 in Tehran
    assert period_of("monthly", new_year_tehran, TEHRAN).key == "m2027-01"
    december = period_of("monthly", new_year_tehran - timedelta(minutes=2), TEHRAN)
    assert december.key == "m2026-12" and december.ends == datetime(2027, 1, 1, tzinfo=TEHRAN)
    once = period_of("once", new_year_tehran, TEHRAN)
    assert once.key == "once" and once.ends is None
    with pytest.raises(ValueError):
        period_of("hourly", new_year_tehran, TEHRAN)


def test_the_points_key_is_one_per_member_action_and_period() -> None:
    moment = datetime(2026, 3, 10, 12, tzinfo=UTC)
    daily = period_of("daily", moment, TEHRAN)
    assert points_key("visit", daily, 7) == "action:visit:2026-03-10:7"
    assert points_key("visit", daily, 7) != points_key("visit", daily, 8)
    assert points_key("visit", daily, 7) != points_key("visit", period_of("daily", moment + timedelta(days=1), TEHRAN), 7)


# -- check-in codes ------------------------------------------------------------------------


def test_codes_are_read_in_any_case_and_digits_and_come_from_deep_links() -> None:
    assert normalize_code(" spring ") == "SPRING"
    assert normalize_code("ab۱۲٣") == "AB123"
    for bad in ("", "a", "has space!", "x" * 40, "کد"):
        with pytest.raises(CheckinCodeUnknown):
            normalize_code(bad)
    assert code_from_payload("act-K7QM2P") == "K7QM2P"
    assert code_from_payload("act-spring") == "SPRING"
    assert code_from_payload("ref-W7K2QF") is None and code_from_payload(None) is None
    assert code_from_payload("act-") is None
    code = new_action_code()
    assert len(code) == 6 and normalize_code(code) == code


def test_a_code_valid_for_n_days_works_through_the_end_of_the_last_merchant_day() -> None:
    made = datetime(2026, 3, 10, 20, 31, tzinfo=UTC)  # already the 11th in Tehran
    assert code_expiry(made, 1, TEHRAN) == datetime(2026, 3, 12, tzinfo=TEHRAN)
    assert code_expiry(made, 7, TEHRAN) == datetime(2026, 3, 18, tzinfo=TEHRAN)


def test_channel_member_statuses() -> None:
    for status in ("creator", "administrator", "member"):
        assert membership_from_status(status) is ChannelMembership.MEMBER
    assert membership_from_status("restricted", is_member=True) is ChannelMembership.MEMBER
    for status in ("left", "kicked"):
        assert membership_from_status(status) is ChannelMembership.LEFT
    assert membership_from_status("restricted", is_member=False) is ChannelMembership.LEFT


# -- stamps ----------------------------------------------------------------------------------


def test_stamp_counts_in_any_digits_within_the_daily_cap() -> None:
    assert parse_stamp_count(None, 3) == 1
    assert parse_stamp_count("", 3) == 1
    assert parse_stamp_count("۲", 3) == 2 and parse_stamp_count("٣", 3) == 3
    for bad in ("0", "-1", "4", "1000000000000", "two", "1.5"):
        with pytest.raises(InvalidStampCount) as refused:
            parse_stamp_count(bad, 3)
        assert refused.value.details["maximum"] == 3


def test_full_cards_and_what_is_left_on_the_card() -> None:
    assert fill(6, 1, 8) == (0, 7)
    assert fill(7, 1, 8) == (1, 0)
    assert fill(7, 10, 8) == (2, 1)
    assert dots(3, 8) == "●●●○○○○○"
    assert dots(0, 4) == "○○○○" and dots(9, 4) == "●●●●"


def test_lapsed_stamps_are_the_oldest_ones_on_the_card() -> None:
    assert lapsed(5, 5) == 0  # every stamp on the card is recent
    assert lapsed(5, 2) == 3
    assert lapsed(2, 9) == 0  # recent stamps filled a card since: the card holds only recent ones
    assert lapsed(3, 0) == 3


# -- milestones and tiers --------------------------------------------------------------------


def test_anniversaries_of_29_february_are_on_28_february_in_other_years() -> None:
    assert anniversary_join_days(date(2026, 5, 17), 1) == [date(2025, 5, 17)]
    assert anniversary_join_days(date(2025, 2, 28), 1) == [date(2024, 2, 28), date(2024, 2, 29)]
    assert anniversary_join_days(date(2028, 2, 29), 4) == [date(2024, 2, 29)]
    assert anniversary_join_days(date(2028, 2, 28), 4) == [date(2024, 2, 28)]  # 29 Feb 2024 waits a day
    assert anniversary_join_days(date(2029, 2, 28), 1) == [date(2028, 2, 28), date(2028, 2, 29)]
    assert anniversary_join_days(date(2027, 2, 28), 1) == [date(2026, 2, 28)]
    assert recent_days(date(2026, 3, 10), 3) == [date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]


def test_purchase_milestones_due_and_tiers_entered() -> None:
    ten = Milestone(purchases=10, points=50)
    five = Milestone(purchases=5, reward="coffee")
    year = Milestone(anniversary_years=1, points=100)
    assert purchase_milestones_due([ten, five, year], 4) == []
    assert purchase_milestones_due([ten, five, year], 5) == [five]
    assert purchase_milestones_due([ten, five, year], 12) == [ten, five]
    assert list(entry_tiers(0, 2)) == [1, 2] and list(entry_tiers(1, 1)) == []
    assert (ten.key, year.key) == ("purchases-10", "anniversary-1")


@dataclass
class _Reward:
    cost: int = 10
    active: bool = True
    stock: int | None = None
    per_member_limit: int | None = None
    min_tier: int = 1
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_at: datetime = datetime(2026, 3, 1, 9, tzinfo=UTC)
    early_access_hours: int | None = 48


def test_early_access_opens_to_everyone_after_its_hours() -> None:
    reward = _Reward()
    opens = datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert early_access_ends(reward) == opens
    assert tier_locked(reward, now=opens - timedelta(seconds=1), tier=0)
    assert not tier_locked(reward, now=opens - timedelta(hours=40), tier=1)  # the top tier sees it at once
    assert not tier_locked(reward, now=opens, tier=0)
    assert availability(reward, now=opens, tier=0, balance=100, taken=0) is Availability.AVAILABLE
    started = _Reward(starts_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert early_access_ends(started) == datetime(2026, 4, 3, tzinfo=UTC)
    plain = _Reward(early_access_hours=None)
    assert tier_locked(plain, now=opens + timedelta(days=900), tier=0)  # without early access: a tier lock


# -- the program file --------------------------------------------------------------------------


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "program.example.toml"


def test_the_documented_example_runs_a_cafe_stamp_card_and_a_channel_action() -> None:
    program = load_program(EXAMPLE)
    assert program.stamps is not None and program.stamps.every == 8 and program.stamps.reward == "coffee"
    channel = next(a for a in program.actions if a.verify == "channel")
    assert channel.points == 20 and channel.channel and channel.channel.startswith("@")
    assert {a.verify for a in program.actions} == {"channel", "code", "staff", "api"}
    assert any(m.purchases for m in program.milestones) and any(m.anniversary_years for m in program.milestones)
    assert any(t.entry_points or t.entry_reward for t in program.tiers)
    assert any(r.early_access_hours for r in program.rewards)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "program.toml"
    path.write_text(text, encoding="utf-8")
    return path


ACTION = "[[actions]]\nid='join'\nname={en='Join'}\npoints=20\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[stamps]\nevery=8\nreward='nothing'\n", "stamps.reward: no [[rewards]] has id 'nothing'"),
        ("[stamps]\nevery=1\nreward='coffee'\n", "stamps.every"),
        ("[stamps]\nevery=8\nreward='coffee'\nmax_per_day=0\n", "stamps.max_per_day"),
        ("[stamps]\nevery=8\nreward='coffee'\nexpiry_days=-3\n", "stamps.expiry_days"),
        ("[stamps]\nreward='coffee'\n", "stamps.every"),
        (ACTION + "verify='channel'\n", "actions[0].channel: a verify = \"channel\" action needs"),
        (ACTION + "verify='channel'\nchannel='shop'\n", "actions[0].channel"),
        (ACTION + "verify='staff'\nchannel='@shopnews'\n", "actions[0].channel: only"),
        (ACTION + "verify='staff'\ncode='SPRING'\n", "actions[0].code: only"),
        (ACTION + "verify='carrier-pigeon'\n", "actions[0].verify"),
        (ACTION + "verify='staff'\nlimit='hourly'\n", "actions[0].limit"),
        ("[[actions]]\nid='join'\nname={en='Join'}\npoints=-5\nverify='staff'\n", "actions[0].points"),
        (ACTION + "verify='code'\ncode='has space'\n", "actions[0].code"),
        (ACTION + "verify='staff'\n" + ACTION + "verify='api'\n", "actions[1].id: 'join' is used twice"),
        (
            ACTION + "verify='code'\ncode='spring'\n[[actions]]\nid='b'\nname={en='B'}\npoints=1\nverify='code'\ncode='SPRING'\n",
            "actions[1].code: 'SPRING' is used twice",
        ),
        ("[[milestones]]\npoints=5\n", "milestones[0]: give exactly one of"),
        ("[[milestones]]\npurchases=5\nanniversary_years=1\npoints=5\n", "milestones[0]: give exactly one of"),
        ("[[milestones]]\npurchases=5\n", "milestones[0].points: give points"),
        ("[[milestones]]\npurchases=5\nreward='cake'\n", "milestones[0].reward: no [[rewards]] has id 'cake'"),
        ("[[milestones]]\npurchases=5\npoints=1\n[[milestones]]\npurchases=5\npoints=2\n", "milestones[1]: the same"),
        (
            "[[tiers]]\nname={en='A'}\nthreshold=0\nentry_points=5\n",
            "tiers[0].entry_points: every member starts in the first tier",
        ),
        (
            "[[tiers]]\nname={en='A'}\nthreshold=0\n[[tiers]]\nname={en='B'}\nthreshold=9\nentry_reward='gold-bar'\n",
            "tiers[1].entry_reward: no [[rewards]] has id 'gold-bar'",
        ),
        (
            "[[rewards]]\nid='x'\nname={en='X'}\ncost=5\nearly_access_hours=24\n",
            "rewards[0].early_access_hours: early access is for a higher tier",
        ),
        ("[display]\nweek_starts='friday'\n", "display.week_starts"),
    ],
)
def test_invalid_earning_keys_stop_start_up_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProgramError) as refused:
        load_program(_write(tmp_path, text))
    assert message in str(refused.value)


def test_a_minimal_stamp_card_and_action_take_the_defaults() -> None:
    program = Program.model_validate(
        {"stamps": {"every": 8, "reward": "coffee"},
         "actions": [{"id": "join", "name": {"en": "Join"}, "points": 20, "verify": "channel", "channel": "@wafa_cafe"}]}
    )
    assert program.stamps is not None and (program.stamps.max_per_day, program.stamps.expiry_days) == (1, 0)
    assert program.actions[0].limit == "once" and program.action("join") is program.actions[0]
    assert program.action("nope") is None
