"""Referral rules, NPS/CSAT arithmetic and KPI periods: pure functions, no I/O."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from bot.domain.kpis import (
    Activity,
    InvalidPeriod,
    PointsFlow,
    ProgramStats,
    Referrals,
    buckets,
    parse_days,
    periods,
)
from bot.domain.referrals import (
    Attribution,
    Payout,
    attribution_for,
    decide_payout,
    invite_link,
    month_start,
    referral_code_from_payload,
    share_link,
)
from bot.domain.surveys import csat, needs_alert, nps, nps_from_counts, valid_score
from bot.domain.team import parse_user_id

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# -- referrals -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("ref-W7K2QF", "W7K2QF"),
        ("ref-w7k2qf", "W7K2QF"),  # typed by hand in lower case
        ("REF-W7K2QF", "W7K2QF"),
        ("ref-W7K2Q", None),  # too short
        ("ref-W7K2QFX", None),  # too long
        ("ref-W7K2Q0", None),  # 0 is not in the code alphabet
        ("ref-", None),
        ("W7K2QF", None),  # not a referral link
        ("group", None),  # another deep link of ours
        ("ref-W7K2QF%", None),  # characters Telegram never sends
        ("ref-W7K2QF " , None),
        ("x" * 65, None),
        ("", None),
        (None, None),
    ],
)
def test_referral_code_from_start_payload(payload: str | None, code: str | None) -> None:
    assert referral_code_from_payload(payload) == code


def test_invite_and_share_links() -> None:
    link = invite_link("wafa_demo_bot", "W7K2QF")
    assert link == "https://t.me/wafa_demo_bot?start=ref-W7K2QF"
    assert referral_code_from_payload(parse_qs(urlsplit(link).query)["start"][0]) == "W7K2QF"
    share = urlsplit(share_link(link, "بیا به کافه وفا & get 50 points"))
    assert (share.scheme, share.netloc, share.path) == ("https", "t.me", "/share/url")
    query = parse_qs(share.query)
    assert query["url"] == [link] and query["text"] == ["بیا به کافه وفا & get 50 points"]


def attribution(**overrides: object) -> Attribution:
    values: dict[str, object] = {
        "user_telegram_id": 2,
        "is_new_member": True,
        "referrer_id": 10,
        "referrer_telegram_id": 1,
        "referrer_erased": False,
        "current_referrer_id": None,
    }
    values.update(overrides)
    return attribution_for(**values)  # type: ignore[arg-type]


def test_attribution_rules() -> None:
    assert attribution() is Attribution.ATTRIBUTED
    assert attribution(user_telegram_id=1) is Attribution.SELF
    assert attribution(user_telegram_id=1, is_new_member=False) is Attribution.SELF
    assert attribution(is_new_member=False) is Attribution.ALREADY_MEMBER
    assert attribution(is_new_member=False, current_referrer_id=10) is Attribution.IGNORED  # same friend again
    assert attribution(is_new_member=False, current_referrer_id=11) is Attribution.ALREADY_MEMBER
    assert attribution(referrer_id=None, referrer_telegram_id=None) is Attribution.IGNORED  # unknown code
    assert attribution(referrer_erased=True) is Attribution.IGNORED
    assert attribution(referrer_telegram_id=None) is Attribution.IGNORED


def payout(**overrides: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "referee_id": 5,
        "referrer_chain": [3],
        "referrer_active": True,
        "rewarded_this_month": 0,
        "monthly_cap": 10,
        "referrer_bonus": 100,
        "referee_bonus": 50,
    }
    values.update(overrides)
    return decide_payout(**values)  # type: ignore[arg-type]


def test_payout_rules() -> None:
    assert (payout().outcome, payout().referrer_points, payout().referee_points) == (Payout.REWARDED, 100, 50)
    capped = payout(rewarded_this_month=10)
    assert (capped.outcome, capped.referrer_points, capped.referee_points) == (Payout.CAPPED, 0, 50)
    assert payout(rewarded_this_month=9).outcome is Payout.REWARDED
    assert payout(monthly_cap=0, rewarded_this_month=500).outcome is Payout.REWARDED  # 0 = no cap
    circular = payout(referrer_chain=[3, 5, 3])
    assert (circular.outcome, circular.referrer_points, circular.referee_points) == (Payout.CIRCULAR, 0, 0)
    assert payout(referrer_chain=[3, 4, 9]).outcome is Payout.REWARDED  # a long chain without the friend
    gone = payout(referrer_active=False)
    assert (gone.outcome, gone.referrer_points, gone.referee_points) == (Payout.REFERRER_GONE, 0, 50)


def test_month_starts_in_merchant_time() -> None:
    tehran = ZoneInfo("Asia/Tehran")  # UTC+3:30
    # 28 Feb 21:00 UTC is already 1 March in Tehran.
    assert month_start(datetime(2026, 2, 28, 21, 0, tzinfo=UTC), tehran) == datetime(
        2026, 2, 28, 20, 30, tzinfo=UTC
    )
    assert month_start(datetime(2026, 2, 28, 20, 0, tzinfo=UTC), tehran) == datetime(
        2026, 1, 31, 20, 30, tzinfo=UTC
    )
    assert month_start(NOW, ZoneInfo("UTC")) == datetime(2026, 3, 1, tzinfo=UTC)


# -- surveys ---------------------------------------------------------------------------
def test_nps_against_a_hand_worked_example() -> None:
    # 20 answers: 8 promoters (9–10), 7 passives (7–8), 5 detractors (0–6).
    # % promoters = 8/20 = 40 %, % detractors = 5/20 = 25 %, NPS = 40 − 25 = +15.
    scores = [10, 10, 10, 9, 9, 9, 9, 10, 8, 8, 7, 7, 7, 8, 7, 6, 5, 0, 3, 6]
    result = nps(scores)
    assert (result.promoters, result.passives, result.detractors, result.answers) == (8, 7, 5, 20)
    assert result.score == 15
    assert nps_from_counts({10: 4, 9: 4, 8: 3, 7: 4, 6: 2, 5: 1, 3: 1, 0: 1}).score == 15


def test_nps_edges_and_rounding() -> None:
    assert nps([]).score is None
    assert nps([10]).score == 100 and nps([0]).score == -100 and nps([7, 8]).score == 0
    assert nps([9, 10, 6]).score == 33  # 66.7 − 33.3 = 33.3
    assert nps([9] + [7] * 7).score == 13  # 12.5 rounds away from zero
    assert nps([6] + [7] * 7).score == -13
    assert nps([6, 7]).score == -50  # a 6 is a detractor, a 7 is not


def test_csat_against_a_hand_worked_example() -> None:
    # 6 answers, 3 of them 4 or 5: CSAT 50 %; average (5+4+3+2+1+5)/6 = 3.33 → 3.3.
    result = csat([5, 4, 3, 2, 1, 5])
    assert (result.satisfied, result.answers, result.score, result.average) == (3, 6, 50, Decimal("3.3"))
    assert csat([]).score is None and csat([]).average is None


def test_alert_thresholds_and_scales() -> None:
    assert [s for s in range(11) if needs_alert("nps", s)] == [0, 1, 2, 3, 4, 5, 6]
    assert [s for s in range(1, 6) if needs_alert("csat", s)] == [1, 2]
    assert not needs_alert("nps", None)
    assert valid_score("nps", 0) and valid_score("nps", 10) and not valid_score("nps", 11)
    assert valid_score("csat", 1) and not valid_score("csat", 0) and not valid_score("csat", 6)
    assert not valid_score("other", 3)


# -- KPI periods --------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "days"), [(None, 30), ("", 30), ("7", 7), ("۹۰", 90), ("٣٦٥", 365), (" 1 ", 1)])
def test_stats_days(text: str | None, days: int) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["0", "3651", "-5", "abc", "7 8", "1.5", "۱۰ روز"])
def test_bad_stats_days(text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_days(text)


@pytest.mark.parametrize("zone", [UTC, ZoneInfo("Asia/Tehran"), ZoneInfo("America/Los_Angeles")])
@pytest.mark.parametrize("days", [1, 7, 12, 30, 90, 365, 3650])
def test_buckets_tile_the_period_on_local_midnights(days: int, zone: ZoneInfo) -> None:
    current, previous = periods(NOW, days)
    assert current.start == previous.end and current.end > NOW >= current.start
    assert current.end - current.start == previous.end - previous.start == timedelta(days=days)
    parts = buckets(current, zone)
    assert 1 <= len(parts) <= 12
    assert parts[0].start == current.start and parts[-1].end == current.end
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    for part in parts[1:]:  # every inner boundary is a midnight in the merchant's zone
        assert part.start.astimezone(zone).time() == datetime.min.time()
    assert parts[-1].last_day(zone) == NOW.astimezone(zone).date()


@pytest.mark.parametrize("zone", [ZoneInfo("Asia/Tehran"), ZoneInfo("Asia/Riyadh"), ZoneInfo("America/Los_Angeles")])
@pytest.mark.parametrize("days", [1, 7, 11, 30])
def test_a_sign_up_is_charted_under_the_day_it_happened(days: int, zone: ZoneInfo) -> None:
    """Today's sign-ups sit under today's label, yesterday's under yesterday's (merchant time)."""
    current, _previous = periods(NOW, days)
    parts = buckets(current, zone)
    local_now = NOW.astimezone(zone)
    today_midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    moments = [NOW, today_midnight, today_midnight + timedelta(minutes=1), today_midnight - timedelta(minutes=1),
               NOW - timedelta(hours=23), current.start]
    for moment in moments:
        [bucket] = [b for b in parts if b.start <= moment < b.end]
        day = moment.astimezone(zone).date()
        if days <= 11:  # one bar per calendar day (the period touches days + 1 of them)
            assert bucket.start.astimezone(zone).date() == bucket.last_day(zone) == day
        else:  # several days per bar: the day is one of them, and the bar is labelled with its last
            assert bucket.start.astimezone(zone).date() <= day <= bucket.last_day(zone)
    assert parts[-1].last_day(zone) == local_now.date()


def test_rates_from_counts() -> None:
    current, previous = periods(NOW, 30)
    stats = ProgramStats(
        current, previous,
        Activity(members=200, new_members=20, active=50, repeat_buyers=20, active_previous=40, retained=30, participants=60),
        PointsFlow(issued=1000, redeemed=250, expired=10, outstanding=5000),
        nps([]), csat([]), Referrals(joined=8, converted=2, rewarded=1),
    )
    assert stats.active_share == 25 and stats.repeat_rate == 40 and stats.participation == 30
    assert stats.retention == 75 and stats.churn == 25
    assert stats.referral_conversion == 25 and stats.redemption_ratio == 25
    empty = ProgramStats(current, previous, Activity(0, 0, 0, 0, 0, 0, 0), PointsFlow(0, 0, 0, 0), nps([]), csat([]),
                         Referrals(0, 0, 0))
    assert empty.retention is None and empty.churn is None and empty.repeat_rate is None


@pytest.mark.parametrize(("text", "user_id"), [("123456789", 123456789), ("۱۲۳۴۵", 12345), ("٧٧٧", 777),
                                               ("0", None), ("-5", None), ("12a", None), ("01234", None)])
def test_staff_user_ids(text: str, user_id: int | None) -> None:
    assert parse_user_id(text) == user_id
