"""/stats numbers on a seeded dataset, checked against counts computed here, independently,
from the seed itself (plain Python sets and sums, no SQL)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from bot.app import App
from bot.domain.surveys import SurveyKind
from storage.models import LedgerEntry, Member, OutboxMessage, ReferralConversion, Survey

pytestmark = pytest.mark.usefixtures("db_url")
DAYS = 30


@dataclass
class Seed:
    now: datetime
    members: dict[int, dict] = field(default_factory=dict)  # type: ignore[type-arg]
    entries: list[tuple[int, str, int, datetime]] = field(default_factory=list)  # member, kind, delta, at
    answers: list[tuple[str, int, datetime]] = field(default_factory=list)  # kind, score, answered at
    conversions: list[tuple[int, str, datetime]] = field(default_factory=list)  # referee, outcome, at
    messages: list[tuple[str, datetime]] = field(default_factory=list)  # status, created at


def moment(rng: random.Random, now: datetime, max_days: float) -> datetime:
    # Whole seconds plus a fraction: never exactly on a period boundary.
    return now - timedelta(seconds=rng.randint(1, int(max_days * 86400)) + 0.25)


async def seed(app: App, rng: random.Random) -> Seed:
    now = app.ctx.now()
    data = Seed(now)
    async with app.ctx.uow() as uow:
        session = uow.session
        for i in range(1, 61):
            joined = moment(rng, now, 120)
            forgotten = now - timedelta(days=1) if i % 17 == 0 else None
            referrer = rng.choice([m for m in data.members if data.members[m]["joined"] < joined] or [None]) \
                if i % 4 == 0 else None
            data.members[i] = {"joined": joined, "forgotten": forgotten, "referrer": referrer}
            entries = [(i, "signup", 20, joined)]
            for _ in range(rng.randint(0, 6)):
                at = moment(rng, now, 90)
                if at > joined:
                    entries.append((i, "purchase", rng.randint(1, 300), at))
            if rng.random() < 0.3:
                entries.append((i, "survey", 10, moment(rng, now, 70)))
            if rng.random() < 0.2:
                entries.append((i, "adjust", 15, moment(rng, now, 70)))
            credited = sum(delta for *_, delta, _at in [(e[0], e[1], e[2], e[3]) for e in entries])
            spend = [(i, "redeem", -min(credited // 3, 100), moment(rng, now, 60))] if credited >= 60 and rng.random() < 0.5 else []
            spend += [(i, "expire", -5, moment(rng, now, 60))] if credited >= 200 and rng.random() < 0.4 else []
            spend += [(i, "refund", 7, moment(rng, now, 60))] if spend and rng.random() < 0.3 else []
            entries += [e for e in spend if e[2] != 0]
            data.entries += entries
            session.add(Member(
                id=i, telegram_id=10_000 + i if forgotten is None else None, code=f"C{i:05d}", language="en",
                balance=sum(e[2] for e in entries), tier=0, marketing_opt_in=False, joined_at=joined,
                forgotten_at=forgotten, referrer_id=referrer,
            ))
        await session.flush()
        for n, (member_id, kind, delta, at) in enumerate(data.entries):
            session.add(LedgerEntry(member_id=member_id, delta=delta, kind=kind, idempotency_key=f"seed:{n}", created_at=at))
        for n in range(80):
            kind = rng.choice([SurveyKind.NPS, SurveyKind.NPS, SurveyKind.CSAT])
            score = rng.randint(0, 10) if kind == SurveyKind.NPS else rng.randint(1, 5)
            answered = moment(rng, now, 60) if n % 7 else None
            created = (answered or moment(rng, now, 60)) - timedelta(minutes=5)
            if answered is not None:
                data.answers.append((kind, score, answered))
            session.add(Survey(
                key=f"seed:{n}", member_id=rng.randint(1, 60), kind=kind, trigger="feedback",
                status="closed" if answered else "open", score=score if answered else None, bonus=0,
                created_at=created, answered_at=answered,
            ))
        referred = [m for m, info in data.members.items() if info["referrer"] is not None]
        for referee in referred[: len(referred) * 2 // 3]:
            at = moment(rng, now, 50)
            outcome = rng.choice(["rewarded", "rewarded", "capped", "circular"])
            data.conversions.append((referee, outcome, at))
            session.add(ReferralConversion(
                referee_id=referee, referrer_id=data.members[referee]["referrer"], outcome=outcome,
                referrer_points=100 if outcome == "rewarded" else 0, referee_points=50, converted_at=at,
            ))
        for n in range(30):
            status, at = rng.choice(["sent", "sent", "unknown", "blocked", "pending", "failed"]), moment(rng, now, 60)
            data.messages.append((status, at))
            session.add(OutboxMessage(
                key=f"seed:{n}", chat_id=1, kind="x", payload={}, category="service", status=status,
                attempts=0, not_before=at, created_at=at,
            ))
        await uow.commit()
    return data


def expected(data: Seed) -> dict:  # type: ignore[type-arg]
    now = data.now
    start, previous_start = now - timedelta(days=DAYS), now - timedelta(days=2 * DAYS)

    def within(at: datetime, lo: datetime = start, hi: datetime = now) -> bool:
        return lo <= at <= hi

    purchases_p = [e for e in data.entries if e[1] == "purchase" and within(e[3])]
    purchases_q = [e for e in data.entries if e[1] == "purchase" and within(e[3], previous_start, start) and e[3] < start]
    active_p = {e[0] for e in purchases_p}
    active_q = {e[0] for e in purchases_q}
    per_member = {m: sum(1 for e in purchases_p if e[0] == m) for m in active_p}
    participants = active_p | {e[0] for e in data.entries if e[1] == "redeem" and within(e[3])}
    members = [m for m, info in data.members.items() if info["forgotten"] is None]
    in_p = [e for e in data.entries if within(e[3])]
    nps_scores = [s for k, s, at in data.answers if k == "nps" and within(at)]
    csat_scores = [s for k, s, at in data.answers if k == "csat" and within(at)]
    return {
        "members": len(members),
        "new": sum(1 for m in members if within(data.members[m]["joined"])),
        "active": len(active_p),
        "repeat": sum(1 for n in per_member.values() if n >= 2),
        "active_previous": len(active_q),
        "retained": len(active_q & active_p),
        "participants": len(participants),
        "issued": sum(d for _m, k, d, _at in in_p if d > 0 and k != "refund"),
        "redeemed": -sum(d for _m, k, d, _at in in_p if k == "redeem"),
        "expired": -sum(d for _m, k, d, _at in in_p if k == "expire"),
        "outstanding": sum(e[2] for e in data.entries),
        "promoters": sum(1 for s in nps_scores if s >= 9),
        "passives": sum(1 for s in nps_scores if s in (7, 8)),
        "detractors": sum(1 for s in nps_scores if s <= 6),
        "csat_answers": len(csat_scores),
        "csat_satisfied": sum(1 for s in csat_scores if s >= 4),
        "referred_joins": sum(1 for info in data.members.values() if info["referrer"] and within(info["joined"])),
        "converted": sum(1 for _r, _o, at in data.conversions if within(at)),
        "rewarded": sum(1 for _r, o, at in data.conversions if o == "rewarded" and within(at)),
        "messages": {s: sum(1 for st, at in data.messages if st == s and within(at))
                     for s in {st for st, at in data.messages if within(at)}},
        "purchases": purchases_p,
        "joined": {m: info["joined"] for m, info in data.members.items() if info["forgotten"] is None},
    }


@pytest.mark.parametrize("rng_seed", [5, 2026])
async def test_stats_match_independent_counts(app: App, rng_seed: int) -> None:
    from bot.services.reports import program_stats

    data = await seed(app, random.Random(rng_seed))
    want = expected(data)
    stats = await program_stats(app.ctx, actor_id=500, days=DAYS)
    activity = stats.activity
    assert (activity.members, activity.new_members, activity.active, activity.repeat_buyers) == (
        want["members"], want["new"], want["active"], want["repeat"]
    )
    assert (activity.active_previous, activity.retained, activity.participants) == (
        want["active_previous"], want["retained"], want["participants"]
    )
    assert (stats.points.issued, stats.points.redeemed, stats.points.expired, stats.points.outstanding) == (
        want["issued"], want["redeemed"], want["expired"], want["outstanding"]
    )
    assert (stats.nps.promoters, stats.nps.passives, stats.nps.detractors) == (
        want["promoters"], want["passives"], want["detractors"]
    )
    assert (stats.csat.answers, stats.csat.satisfied) == (want["csat_answers"], want["csat_satisfied"])
    assert (stats.referrals.joined, stats.referrals.converted, stats.referrals.rewarded) == (
        want["referred_joins"], want["converted"], want["rewarded"]
    )
    assert stats.messages == want["messages"]
    # The seed is rich enough for every figure to mean something.
    assert min(want["active"], want["repeat"], want["retained"], want["redeemed"], want["converted"]) > 0
    assert want["promoters"] and want["detractors"] and want["csat_answers"]
    # Each bucket of the chart, counted independently too.
    for point in stats.series:
        lo, hi = point.period.start, point.period.end
        assert point.active == len({m for m, _k, _d, at in want["purchases"] if lo <= at < hi})
        assert point.new_members == sum(1 for at in want["joined"].values() if lo <= at < hi)
    assert sum(p.new_members for p in stats.series) == want["new"]
    # The rates the owner reads are these counts divided, as the README defines them.
    assert float(stats.retention or -1) == pytest.approx(100 * want["retained"] / want["active_previous"])
    assert float(stats.repeat_rate or -1) == pytest.approx(100 * want["repeat"] / want["active"])
    assert float(stats.participation or -1) == pytest.approx(100 * want["participants"] / want["members"])
    answers = want["promoters"] + want["passives"] + want["detractors"]
    exact = Fraction(100 * (want["promoters"] - want["detractors"]), answers)
    half_away = int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))
    assert stats.nps.score == half_away
