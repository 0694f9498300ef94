"""`/stats`: the program's KPIs over a period (definitions in `bot.domain.kpis` and the README)."""
from __future__ import annotations

from typing import Any

from bot.domain.kpis import (
    Activity,
    EarningStats,
    PointsFlow,
    ProgramStats,
    Referrals,
    RewardCount,
    SeriesPoint,
    buckets,
    periods,
)
from bot.domain.ledger import Kind
from bot.domain.surveys import SurveyKind, csat_from_counts, nps_from_counts
from bot.services.ports import Context

TOP_REWARDS = 3  # how many rewards /stats names


async def program_stats(ctx: Context, *, actor_id: int, days: int) -> ProgramStats:
    """KPIs of the last `days` days (compared with the `days` before), read in one snapshot.

    Viewing the numbers is an admin action too, so it is audited.
    """
    now = ctx.now()
    current, previous = periods(now, days)
    span = (current.start, current.end)
    async with ctx.uow(readonly=True) as uow:
        reports = uow.reports
        activity = Activity(
            members=await reports.members(),
            new_members=await reports.new_members(*span),
            active=await reports.active(*span),
            repeat_buyers=await reports.repeat_buyers(*span),
            active_previous=await reports.active(previous.start, previous.end),
            retained=await reports.retained((previous.start, previous.end), span),
            participants=await reports.participants(*span),
        )
        flows = await reports.points_by_kind(*span)
        points = PointsFlow(
            issued=sum(plus for kind, (plus, _minus) in flows.items() if kind != Kind.REFUND),
            redeemed=flows.get(Kind.REDEEM, (0, 0))[1],
            expired=flows.get(Kind.EXPIRE, (0, 0))[1],
            outstanding=await reports.outstanding_points(),
        )
        conversions = await reports.referral_conversions(*span)
        referrals = Referrals(
            joined=await reports.referred_joins(*span),
            converted=sum(conversions.values()),
            rewarded=conversions.get("rewarded", 0),
        )
        stats = ProgramStats(
            period=current,
            previous=previous,
            activity=activity,
            points=points,
            nps=nps_from_counts(await uow.surveys.score_counts(SurveyKind.NPS, *span)),
            csat=csat_from_counts(await uow.surveys.score_counts(SurveyKind.CSAT, *span)),
            referrals=referrals,
            messages=await reports.messages(*span),
            series=[
                SeriesPoint(bucket, await reports.active(bucket.start, bucket.end),
                            await reports.new_members(bucket.start, bucket.end))
                for bucket in buckets(current, ctx.zone)
            ],
            top_rewards=[RewardCount(*row) for row in await reports.top_rewards(*span, limit=TOP_REWARDS)],
            earning=await _earning(uow, span),
        )
    async with ctx.uow() as uow:
        uow.audit.record(actor_id=actor_id, action="stats", now=now, days=days)
        await uow.commit()
    return stats


async def _earning(uow: Any, span: tuple[Any, Any]) -> EarningStats:
    stamps = await uow.stamps.totals_between(*span)
    grants = await uow.grants.counts_between(*span)
    return EarningStats(
        stamps_given=stamps.get("stamp", (0, 0))[1],
        cards_completed=stamps.get("card", (0, 0))[0],
        stamps_lapsed=stamps.get("expire", (0, 0))[1],
        stamps_on_cards=await uow.stamps.on_cards(),
        actions=await uow.actions.credited_between(*span),
        milestones=grants.get("milestone", 0),
        tier_gifts=grants.get("tier_entry", 0),
    )
