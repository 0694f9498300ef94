"""The daily `expiry` job: vouchers that lapsed, points that expired, reminders
of points about to expire, and tier periods that ended.

Safe to run twice: every change carries a key made of the job, the date and
the member (or the voucher), and every step only touches what is still due.
`day` lets an operator or a test run it as of another date
(`wafa run-job expiry --date 2027-01-01`): what is due is decided by the
merchant midnight that starts that day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.delivery import REMINDER
from bot.domain.expiry import batch_end, reminder_batch
from bot.domain.ledger import Kind
from bot.domain.rewards import day_start
from bot.domain.tiers import tier_index_for
from bot.services.ledger import change_tier, credit, debit, tier_earnings
from bot.services.ports import Context

BATCH = 500


@dataclass
class ExpiryReport:
    vouchers_expired: int = 0
    points_refunded: int = 0
    members_expired: int = 0
    points_expired: int = 0
    reminders: int = 0
    renewals: int = 0
    demotions: int = 0

    def __str__(self) -> str:
        return (
            f"{self.vouchers_expired} vouchers expired ({self.points_refunded} points refunded), "
            f"{self.points_expired} points expired for {self.members_expired} members, "
            f"{self.reminders} reminders queued, tiers: {self.renewals} renewed, {self.demotions} lowered"
        )


async def run_expiry(ctx: Context, day: date | None = None) -> ExpiryReport:
    today = day or ctx.now().astimezone(ctx.zone).date()
    cutoff = day_start(today, ctx.zone)
    moment = max(ctx.now(), cutoff)
    report = ExpiryReport()
    await expire_vouchers(ctx, cutoff, moment, report)
    await expire_points(ctx, today, cutoff, moment, report)
    await remind(ctx, cutoff, moment, report)
    await review_tiers(ctx, moment, report)
    return report


async def expire_vouchers(ctx: Context, cutoff: datetime, moment: datetime, report: ExpiryReport) -> None:
    """Vouchers whose last valid day is over: expired, their points back if the
    program says so (a ledger entry), their unit back in stock."""
    refund = ctx.program.expiry.refund_unused_vouchers
    seen: set[int] = set()
    while True:
        async with ctx.uow(readonly=True) as uow:
            due = [(v, m) for v, m in await uow.vouchers.expiring(cutoff, limit=BATCH) if v not in seen]
        if not due:
            return
        for voucher_id, member_id in due:
            seen.add(voucher_id)
            async with ctx.uow() as uow:
                member = await uow.lots.lock_member(member_id)
                voucher = await uow.vouchers.by_id(voucher_id)
                points = voucher.points if refund else 0
                if member is None or not await uow.vouchers.mark_expired(voucher_id, cutoff=cutoff, refunded=points):
                    continue
                if points:
                    await credit(ctx, uow, member, points, Kind.REFUND, key=f"voucher-refund:{voucher_id}",
                                 now=moment, note=voucher.code)
                if voucher.source is None:  # a given voucher never took a unit of stock
                    await uow.rewards.put_back(voucher.reward_id)
                if member.telegram_id is not None:
                    reward = await uow.rewards.get(voucher.reward_id)
                    await uow.members.refresh(member)
                    await uow.outbox.enqueue(
                        key=f"voucher-expired:{voucher_id}",
                        chat_id=member.telegram_id,
                        member_id=member.id,
                        kind="voucher_expired",
                        payload={
                            "code": voucher.code,
                            "reward": voucher.reward_id,
                            "reward_name": dict(reward.name) if reward is not None else {},
                            "refunded": points,
                            "balance": member.balance,
                        },
                        now=moment,
                    )
                await uow.commit()
                report.vouchers_expired += 1
                report.points_refunded += points


async def expire_points(ctx: Context, today: date, cutoff: datetime, moment: datetime, report: ExpiryReport) -> None:
    """What is left of each lot whose date has passed expires: one ledger entry per member and day."""
    after = 0
    while True:
        async with ctx.uow(readonly=True) as uow:
            members = await uow.lots.members_due(cutoff, after_member=after, limit=BATCH)
        if not members:
            return
        for member_id in members:
            after = member_id
            async with ctx.uow() as uow:
                member = await uow.lots.lock_member(member_id)
                due = await uow.lots.due(member_id, cutoff) if member is not None else 0
                if not due or not await debit(
                    ctx, uow, member, due, Kind.EXPIRE, key=f"expire:{today.isoformat()}:{member_id}", now=moment
                ):
                    continue
                if member.telegram_id is not None:
                    await uow.members.refresh(member)
                    await uow.outbox.enqueue(
                        key=f"expired:{today.isoformat()}:{member_id}",
                        chat_id=member.telegram_id,
                        member_id=member_id,
                        kind="points_expired",
                        payload={"points": due, "balance": member.balance},
                        now=moment,
                    )
                await uow.commit()
                report.members_expired += 1
                report.points_expired += due


async def remind(ctx: Context, cutoff: datetime, moment: datetime, report: ExpiryReport) -> None:
    """Points expiring within `expiry.reminder_days`: one reminder per member and
    batch (a block of that many days of expiry dates, see `bot.domain.expiry`),
    telling all the points of the batch, never twice."""
    days = ctx.program.expiry.reminder_days
    if days == 0:
        return
    end = cutoff + timedelta(days=days)
    after = 0
    while True:
        async with ctx.uow(readonly=True) as uow:
            rows = await uow.lots.expiring_between(cutoff, end, after_member=after, limit=BATCH)
        if not rows:
            return
        async with ctx.uow() as uow:
            for member_id, chat_id, _soon, first in rows:
                after = member_id
                batch = reminder_batch(first.astimezone(ctx.zone).date(), days)
                points, _first = await uow.lots.expiring_for(member_id, day_start(batch_end(batch, days), ctx.zone))
                if await uow.outbox.enqueue(
                    key=f"expiry-reminder:{member_id}:{batch}",
                    chat_id=chat_id,
                    member_id=member_id,
                    kind="points_expiring",
                    payload={"points": points, "first": first.isoformat()},
                    category=REMINDER,  # the bot speaks unprompted: not in quiet hours
                    now=moment,
                ):
                    report.reminders += 1
            await uow.commit()


async def review_tiers(ctx: Context, moment: datetime, report: ExpiryReport) -> None:
    """Tier periods that ended: renewed when the window's earnings still reach
    the tier, lowered to the tier they reach otherwise (and the member told)."""
    after = 0
    while True:
        async with ctx.uow(readonly=True) as uow:
            members = await uow.tier_events.due_for_review(moment, after_member=after, limit=BATCH)
        if not members:
            return
        for member_id in members:
            after = member_id
            async with ctx.uow() as uow:
                member = await uow.lots.lock_member(member_id)
                if member is None or member.tier == 0:
                    continue
                latest = await uow.tier_events.latest(member_id)
                if latest is not None and latest.held_until is not None and latest.held_until > moment:
                    continue  # a promotion got in first
                earned = await tier_earnings(ctx, uow, member, now=moment)
                reached = min(tier_index_for(earned, ctx.program.tiers), len(ctx.program.tiers) - 1)
                old = min(member.tier, len(ctx.program.tiers) - 1)
                reason = "demotion" if reached < old else ("renewal" if reached == old else "promotion")
                await change_tier(ctx, uow, member, member.tier, reached, reason, earned=earned, now=moment)
                await uow.commit()
                if reason == "demotion":
                    report.demotions += 1
                else:
                    report.renewals += 1
