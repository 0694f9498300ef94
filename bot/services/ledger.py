"""Posting to the ledger inside a caller's unit of work: the primitives every
use case that moves points goes through (idempotency key, expiry, tier)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import errors
from bot.domain.ledger import EARNING_KINDS, PostOutcome, expiry_for, tier_window_start
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
) -> bool:
    """Add points under an idempotency key, in the caller's transaction.

    Returns False when the key was used before (nothing changed). Earnings
    get an expiry date per the program and may lift the member's tier.
    """
    result = await uow.ledger.post(
        member_id=member.id,
        delta=amount,
        kind=str(kind),
        key=key,
        now=now,
        amount=purchase_amount,
        note=note,
        actor_id=actor_id,
        expires_at=expiry_for(kind, now, ctx.program),
    )
    if result.outcome is PostOutcome.DUPLICATE:
        return False
    if kind in EARNING_KINDS:
        await refresh_tier(ctx, uow, member, now=now)
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
    return True


async def tier_earnings(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> int:
    return await uow.ledger.earned_since(member.id, EARNING_KINDS, tier_window_start(now, ctx.program))


async def refresh_tier(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> tuple[int, int]:
    """Recompute the tier from the ledger; returns (old, new) tier indexes."""
    earned = await tier_earnings(ctx, uow, member, now=now)
    old, new = member.tier, tier_index_for(earned, ctx.program.tiers)
    if new != old:
        member.tier = new
    return old, new
