"""Recognition given once (SPEC §11): milestones, tier entry rewards, and the vouchers
a stamp card or a milestone gives without points.

Everything here runs inside the caller's transaction: a purchase milestone
in the purchase's, a tier's entry reward in the promotion's, a card's
voucher in the stamp's. A grant row (unique key) and the ledger key of its
points make each one happen at most once, whatever retries or redeliveries
come.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.delivery import REMINDER, SERVICE
from bot.domain.ledger import Kind
from bot.domain.milestones import (
    anniversary_join_days,
    entry_gift,
    entry_tiers,
    entry_window_start,
    purchase_milestones_due,
    recent_days,
)
from bot.domain.program import Milestone
from bot.domain.rewards import RewardUnavailable, day_start, voucher_expiry
from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import row, section
from bot.services.rewards import unused_code

MILESTONE, TIER_ENTRY = "milestone", "tier_entry"
# A gift earned by a purchase is told just after the purchase's own receipt
# (which its caller queues once the purchase is recorded), so it reads in order.
AFTER_RECEIPT = timedelta(seconds=1)


async def give_voucher(ctx: Context, uow: UnitOfWork, member: Any, seed_id: str, *, source: str, now: datetime) -> Any:
    """A voucher for the catalog reward the program's [[rewards]] id `seed_id` seeded,
    without points. It takes no stock and counts toward no per-member limit: the
    member earned it, so a paused or sold-out reward is given all the same."""
    reward = await uow.rewards.by_seed(seed_id)
    if reward is None:
        raise RewardUnavailable()
    return await give_reward_voucher(ctx, uow, member, reward, source=source, now=now)


async def give_reward_voucher(ctx: Context, uow: UnitOfWork, member: Any, reward: Any, *, source: str, now: datetime) -> Any:
    """A voucher for the catalog row `reward`, without points (as `give_voucher`)."""
    voucher = await uow.vouchers.create(
        code=await unused_code(ctx, uow),
        reward_id=reward.id,
        member_id=member.id,
        points=0,
        status="active",
        created_at=now,
        expires_at=voucher_expiry(now, reward.valid_days, ctx.zone),
        source=source,
    )
    if voucher is None:  # pragma: no cover - the code was checked free a moment ago
        raise RuntimeError("voucher code collision")
    return voucher


def voucher_payload(voucher: Any, reward: Any) -> dict[str, Any]:
    """What a notice needs to show a voucher (rendered later, in the member's language)."""
    return {
        "voucher": voucher.id,
        "code": voucher.code,
        "reward_name": dict(reward.name) if reward is not None else {},
        "expires_at": voucher.expires_at.isoformat(),
    }


# -- milestones ----------------------------------------------------------------------


async def grant_milestone(
    ctx: Context, uow: UnitOfWork, member: Any, milestone: Milestone, *, now: datetime, category: str = SERVICE,
    after_receipt: bool = True,
) -> bool:
    """Give `milestone` to `member` once: its points, its voucher, and a message naming it
    (`after_receipt`: queued to follow the receipt of the purchase that reached it)."""
    key = f"milestone:{milestone.key}:{member.id}"
    grant = await uow.grants.add(
        key=key, member_id=member.id, kind=MILESTONE, ref=milestone.key, points=milestone.points, created_at=now
    )
    if grant is None:
        return False
    if milestone.points:
        await credit(ctx, uow, member, milestone.points, Kind.MILESTONE, key=key, now=now)
    extra: dict[str, Any] = {}
    if milestone.reward is not None:
        voucher = await give_voucher(ctx, uow, member, milestone.reward, source=MILESTONE, now=now)
        await uow.grants.set_voucher(grant.id, voucher.id)
        extra = voucher_payload(voucher, await uow.rewards.get(voucher.reward_id))
    await uow.members.refresh(member)
    if member.telegram_id is not None:
        await uow.outbox.enqueue(
            key=key,
            chat_id=member.telegram_id,
            member_id=member.id,
            kind="milestone_reached",
            category=category,
            not_before=now + AFTER_RECEIPT if after_receipt else now,
            payload={
                "milestone": milestone.key,
                "purchases": milestone.purchases,
                "years": milestone.anniversary_years,
                "name": dict(milestone.name),
                "points": milestone.points,
                "balance": member.balance,
                **extra,
            },
            now=now,
        )
    return True


async def after_purchase(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> int:
    """Purchase milestones the member just reached, in the purchase's transaction;
    returns how many were given. A milestone added to the program later is
    given at the member's next purchase if they are already past it."""
    milestones = [m for m in ctx.program.milestones if m.purchases is not None]
    if not milestones:
        return 0
    purchases = await uow.grants.purchases(member.id)
    given = await uow.grants.given(member.id, MILESTONE)
    granted = 0
    for milestone in purchase_milestones_due(milestones, purchases):
        if milestone.key not in given:
            granted += await grant_milestone(ctx, uow, member, milestone, now=now)
    return granted


@dataclass
class AnniversaryReport:
    day: date
    granted: int = 0
    already: int = 0


async def run_anniversaries(ctx: Context, day: date | None = None) -> AnniversaryReport:
    """The daily job: members whose membership turns N years old today (or did in
    the last few days, if the bot was stopped) get the `anniversary_years = N`
    milestone. Each is given once, so running it twice changes nothing."""
    today = day or ctx.now().astimezone(ctx.zone).date()
    report = AnniversaryReport(today)
    milestones = [m for m in ctx.program.milestones if m.anniversary_years is not None]
    moment = max(ctx.now(), day_start(today, ctx.zone))
    for milestone in milestones:
        years = int(milestone.anniversary_years or 0)
        for celebrated in recent_days(today):
            for joined in anniversary_join_days(celebrated, years):
                start = day_start(joined, ctx.zone)
                end = day_start(joined + timedelta(days=1), ctx.zone)
                async with ctx.uow(readonly=True) as uow:
                    rows = await uow.grants.joined_between(start, end)
                for found in rows:
                    async with ctx.uow() as uow:
                        member = await uow.lots.lock_member(found.id)
                        if member is None or member.forgotten_at is not None:
                            continue
                        if await grant_milestone(
                            ctx, uow, member, milestone, now=moment, category=REMINDER, after_receipt=False
                        ):
                            report.granted += 1
                            await uow.commit()
                        else:
                            report.already += 1
    return report


# -- tier entry rewards -----------------------------------------------------------------


async def grant_tier_entries(ctx: Context, uow: UnitOfWork, member: Any, old: int, new: int, *, now: datetime) -> int:
    """Entry rewards of every tier a promotion from `old` to `new` enters (the ones
    jumped over too), in the promotion's transaction. A tier's reward is given
    once per tier window: a member who drops out and comes back within the window
    gets nothing again. Returns how many tiers gave something."""
    window_start = entry_window_start(now, ctx.program)
    given = await uow.grants.given(member.id, TIER_ENTRY)
    granted = 0
    for tier in entry_tiers(old, new):
        if tier >= len(ctx.program.tiers):
            break
        points, reward_id = entry_gift(ctx.program, tier)
        if not points and reward_id is None:
            continue
        before = given.get(str(tier), [])
        if any(window_start is None or moment > window_start for moment in before):
            continue
        key = f"tier-entry:{member.id}:{tier}:{len(before) + 1}"
        grant = await uow.grants.add(
            key=key, member_id=member.id, kind=TIER_ENTRY, ref=str(tier), points=points, created_at=now
        )
        if grant is None:
            continue
        if points:
            await credit(ctx, uow, member, points, Kind.TIER_BONUS, key=key, now=now)
        extra: dict[str, Any] = {}
        if reward_id is not None:
            voucher = await give_voucher(ctx, uow, member, reward_id, source=TIER_ENTRY, now=now)
            await uow.grants.set_voucher(grant.id, voucher.id)
            extra = voucher_payload(voucher, await uow.rewards.get(voucher.reward_id))
        granted += 1
        if member.telegram_id is not None:
            await uow.members.refresh(member)
            await uow.outbox.enqueue(
                key=key,
                chat_id=member.telegram_id,
                member_id=member.id,
                kind="tier_entry_gift",
                payload={"tier": tier, "points": points, "balance": member.balance, **extra},
                now=now,
                not_before=now + AFTER_RECEIPT,
            )
    return granted


# -- what /mydata includes ---------------------------------------------------------------


@section
async def _grants_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    grants = await uow.grants.for_member(member.id)
    return "milestones_and_tier_gifts", [row(g, "created_at", "kind", "ref", "points", "voucher_id") for g in grants]
