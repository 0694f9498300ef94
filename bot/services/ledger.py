"""Posting to the ledger inside a caller's unit of work: the primitives every
use case that moves points goes through (idempotency key, expiry lots, tier).

Earned credits open an expiry lot; every debit takes from the lots that
expire soonest (`bot.domain.expiry`). Earnings may promote the member at
once (recorded, and congratulated through the outbox); demotion waits for
the end of the tier period (`bot.services.expiry.review_tiers`).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import errors
from bot.domain.ledger import (
    EARNING_KINDS,
    TIER_CORRECTION_KINDS,
    Kind,
    PostOutcome,
    add_months,
    expiry_for,
    tier_window_start,
)
from bot.domain.tiers import tier_index_for
from bot.services.ports import Context, UnitOfWork


async def credit(
    ctx: Context,
    uow: UnitOfWork,
    member: Any,
    amount: int,
    kind: str,
    *,
    key: str,
    now: datetime,
    purchase_amount: Decimal | None = None,
    note: str | None = None,
    actor_id: int | None = None,
    earned_at: datetime | None = None,
) -> bool:
    """Add points under an idempotency key, in the caller's transaction.

    Returns False when the key was used before (nothing changed). Earnings
    get an expiry date per the program (counted from `earned_at`, default
    now: points that waited for their owner keep their purchase's expiry)
    and may lift the member's tier.
    """
    expires_at = expiry_for(kind, earned_at or now, ctx.program)
    result = await uow.ledger.post(
        member_id=member.id,
        delta=amount,
        kind=str(kind),
        key=key,
        now=now,
        amount=purchase_amount,
        note=note,
        actor_id=actor_id,
        expires_at=expires_at,
    )
    if result.outcome is PostOutcome.DUPLICATE:
        return False
    if expires_at is not None and result.entry_id is not None:
        await uow.lots.open(member_id=member.id, entry_id=result.entry_id, expires_at=expires_at, amount=amount)
    if kind in EARNING_KINDS:
        await refresh_tier(ctx, uow, member, now=now)
    if kind == Kind.PURCHASE:
        # Every way a purchase is recorded (counter, API, shop webhooks) comes through here.
        from bot.services.recognition import after_purchase  # it credits through this module

        await after_purchase(ctx, uow, member, now=now)
    return True


async def debit(
    ctx: Context,
    uow: UnitOfWork,
    member: Any,
    amount: int,
    kind: str,
    *,
    key: str,
    now: datetime,
    note: str | None = None,
    actor_id: int | None = None,
) -> bool:
    """Take points out; raises InsufficientPoints rather than going below zero.

    Returns False when the key was used before. On InsufficientPoints the
    caller's unit of work must not commit (raising guarantees that).
    """
    result = await uow.ledger.post(
        member_id=member.id, delta=-amount, kind=str(kind), key=key, now=now, note=note, actor_id=actor_id
    )
    if result.outcome is PostOutcome.DUPLICATE:
        return False
    if result.outcome is PostOutcome.INSUFFICIENT:
        raise errors.InsufficientPoints(needed=amount, balance=member.balance)
    await uow.lots.consume(member.id, amount)
    return True


async def tier_earnings(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> int:
    return int(
        await uow.ledger.earned_since(
            member.id, EARNING_KINDS, tier_window_start(now, ctx.program), corrections=TIER_CORRECTION_KINDS
        )
    )


async def refresh_tier(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> tuple[int, int]:
    """Promote the member if the window's earnings reach a higher tier; returns
    (old, new) tier indexes. Never lowers the tier: that happens only at the
    end of a tier period (`bot.services.expiry`)."""
    earned = await tier_earnings(ctx, uow, member, now=now)
    # The stored tier as of now: the balance UPDATE before this holds the
    # member's row, so a concurrent promotion has committed or waits for us.
    old = await uow.tier_events.current_tier(member.id)
    reached = min(tier_index_for(earned, ctx.program.tiers), len(ctx.program.tiers) - 1)
    member.tier = old
    if reached <= old:
        return old, old
    await change_tier(ctx, uow, member, old, reached, "promotion", earned=earned, now=now)
    return old, reached


async def change_tier(
    ctx: Context, uow: UnitOfWork, member: Any, old: int, new: int, reason: str, *, earned: int, now: datetime
) -> None:
    """Record a tier event (promotion, renewal or demotion) and tell the member about a change.

    A promotion or renewal holds the tier for `tiering.hold_months`; a
    demotion to the first tier has no period (nothing to lose).
    """
    held_until = add_months(now, ctx.program.tiering.hold_months) if new > 0 else None
    member.tier = new
    await uow.members.set_fields(member.id, tier=new)
    event_id = await uow.tier_events.record(
        member_id=member.id, from_tier=old, to_tier=new, reason=reason, earned=earned, held_until=held_until, now=now
    )
    if new != old and member.telegram_id is not None:
        kind = "tier_promoted" if new > old else "tier_demoted"
        await uow.outbox.enqueue(
            key=f"tier:{member.id}:{old}-{new}:{now.date().isoformat()}",
            chat_id=member.telegram_id,
            member_id=member.id,
            kind=kind,
            payload={"tier": new, "from": old, "earned": earned, "event": event_id},
            now=now,
        )
    if new > old:
        # Entry rewards of every tier entered, in the promotion's transaction (after its message).
        from bot.services.recognition import grant_tier_entries  # it credits through this module

        await grant_tier_entries(ctx, uow, member, old, new, now=now)
