"""Rules of issue 15: the draw's selection (properties), commitments, entry rules, the
/surprise and /draw parsers, the budget month, and the program's [recovery] / [surprise] keys."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.draws import (
    InvalidDrawWindow,
    InvalidWinners,
    NameTooLong,
    Ticketed,
    commitment,
    entries_for,
    new_seed,
    parse_names,
    parse_window,
    parse_winners,
    pick,
    select_winners,
    ticket_owners,
)
from bot.domain.program import ProgramError, load_program
from bot.domain.recovery import (
    InvalidCount,
    RecoveryStats,
    UnknownGift,
    UnknownSegment,
    budget_period,
    median_delay,
    parse_count,
    parse_gift,
    parse_segment,
)

seeds = st.binary(min_size=32, max_size=32).map(bytes.hex)
holders = st.lists(st.integers(min_value=1, max_value=12), min_size=0, max_size=60)


@settings(max_examples=300, deadline=None)
@given(seed=seeds, owners=holders, count=st.integers(min_value=1, max_value=15))
def test_winners_are_distinct_entrants_and_the_pick_is_reproducible(seed: str, owners: list[int], count: int) -> None:
    tickets = select_winners(seed, owners, count)
    winners = [owners[t - 1] for t in tickets]
    assert len(set(winners)) == len(winners), "a member wins at most once"
    assert set(winners) <= set(owners), "only entrants win"
    assert all(1 <= t <= len(owners) for t in tickets)
    assert len(tickets) == min(count, len(set(owners))), "as many winners as asked, or every entrant"
    assert select_winners(seed, list(owners), count) == tickets, "the same seed and entries give the same result"


@settings(max_examples=100, deadline=None)
@given(seed=seeds, owners=holders.filter(lambda o: len(set(o)) >= 2))
def test_asking_for_more_winners_extends_the_list_without_changing_it(seed: str, owners: list[int]) -> None:
    one = select_winners(seed, owners, 1)
    assert select_winners(seed, owners, 2)[:1] == one


def test_the_selection_follows_the_documented_recipe() -> None:
    seed = "ab" * 32
    owners = [7, 7, 3, 9]
    first = int.from_bytes(hashlib.sha256(f"{seed}:0".encode()).digest(), "big") % 4 + 1
    assert select_winners(seed, owners, 1) == [first]
    assert commitment(seed) == hashlib.sha256(seed.encode("ascii")).hexdigest()
    assert len(new_seed()) == 64 and new_seed() != new_seed()


def test_different_seeds_pick_differently_somewhere() -> None:
    candidates = list(range(1, 101))
    picks = {tuple(pick(new_seed(), candidates, 3)) for _ in range(20)}
    assert len(picks) > 1


def test_entry_rules() -> None:
    assert entries_for("purchase", None, Decimal("0.50")) == 1
    assert entries_for("amount", Decimal(50), Decimal(120)) == 2
    assert entries_for("amount", Decimal(50), Decimal("49.99")) == 0
    assert entries_for("purchase", None, None) == 0
    assert ticket_owners([Ticketed(5, 2), Ticketed(3, 1)]) == [5, 5, 3]


def test_windows_names_and_winners() -> None:
    zone = ZoneInfo("Asia/Tehran")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_window("7d", now, zone) == (now, now + timedelta(days=7))
    assert parse_window("۴۸h", now, zone) == (now, now + timedelta(hours=48))
    opens, closes = parse_window("2026-03-20", now, zone)
    assert opens == now and closes == datetime(2026, 3, 21, tzinfo=zone)
    opens, closes = parse_window("2026-03-15 2026-03-20", now, zone)
    assert opens == datetime(2026, 3, 15, tzinfo=zone)
    for bad in ("forever", "2020-01-01", "0d", "900d", "2026-03-20 2026-03-15", "a b c"):
        with pytest.raises(InvalidDrawWindow):
            parse_window(bad, now, zone)
    assert parse_names("Spring") == {"ar": "Spring", "fa": "Spring", "en": "Spring"}
    assert parse_names("en: Spring\nfa: بهار") == {"en": "Spring", "fa": "بهار"}
    with pytest.raises(NameTooLong):
        parse_names("x" * 81)
    assert parse_winners("٣") == 3
    for bad in ("0", "101", "two"):
        with pytest.raises(InvalidWinners):
            parse_winners(bad)


def test_surprise_arguments() -> None:
    tiers = [{"en": "Silver", "fa": "نقره‌ای"}, {"en": "Gold"}]
    assert parse_segment("all", tiers) == {"kind": "all"}
    assert parse_segment("FA", tiers) == {"kind": "language", "language": "fa"}
    assert parse_segment("tier-۲", tiers) == {"kind": "tier", "tier": 1}
    assert parse_segment("نقره‌ای", tiers) == {"kind": "tier", "tier": 0}
    assert parse_segment("inactive-30", tiers) == {"kind": "inactive", "days": 30}
    for bad in ("vip", "tier-3", "tier-0", "inactive-x"):
        with pytest.raises(UnknownSegment):
            parse_segment(bad, tiers)
    assert parse_count("۵", 10) == 5
    for bad in ("0", "11", "-1", "five"):
        with pytest.raises(InvalidCount):
            parse_count(bad, 10)
    assert parse_gift("٥٠") == 50 and parse_gift("coffee") == "coffee"
    with pytest.raises(UnknownGift):
        parse_gift("0")


def test_budget_month_median_and_shares() -> None:
    assert budget_period(datetime(2026, 3, 31).date()) == "2026-03"
    assert median_delay([]) is None
    assert median_delay([timedelta(minutes=m) for m in (1, 5, 30)]) == timedelta(minutes=5)
    stats = RecoveryStats(alerts=4, resolved=1, answered=2, recovered=1)
    assert stats.resolved_share == 25 and stats.recovered_share == 50
    assert RecoveryStats().recovered_share is None


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[recovery]\ngoodwill_points = -5\n", "recovery.goodwill_points"),
        ("[recovery]\nbudget_points = \"lots\"\n", "recovery.budget_points"),
        ("[recovery]\napology = { de = \"Entschuldigung\" }\n", "recovery.apology"),
        ("[recovery]\nfollowup_days = 0\n", "recovery.followup_days"),
        ("[recovery]\ncolour = 1\n", "recovery.colour"),
        ("[surprise]\nbudget_points = -1\n", "surprise.budget_points"),
        ("[surprise]\nmax_count = 0\n", "surprise.max_count"),
    ],
)
def test_invalid_recovery_and_surprise_keys_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "program.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ProgramError) as caught:
        load_program(path)
    assert str(caught.value).startswith(message)


def test_the_documented_example_program_loads_with_recovery_keys() -> None:
    program = load_program(Path(__file__).resolve().parents[2] / "docs" / "program.example.toml")
    assert program.recovery.goodwill_points > 0 and program.recovery.apology["fa"]
    assert program.surprise.budget_points > 0
