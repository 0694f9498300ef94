"""Points in and out of the ledger: purchases, manual adjustments, and the balance card."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.domain import errors
from bot.domain.adjustments import ReasonRequired, parse_adjustment
from bot.domain.earning import parse_purchase_amount, points_for_purchase
from bot.domain.ledger import Kind
from bot.domain.tiers import TierStanding, standing
from bot.services.ledger import credit, debit, tier_earnings
from bot.services.members import find_member, refuse_self_service
from bot.services.ports import Context, UnitOfWork
from bot.services.referrals import reward_first_purchase
from bot.services.stamps import CardState, card_state

NOTE_LIMIT = 200


@dataclass(frozen=True)
class Award:
    member: Any
    amount: Decimal
    points: int
    balance: int
    multiplier: Decimal
    duplicate: bool
    campaign: Decimal | None = None  # the campaign multiplier included in `multiplier`
    tier: int = 0  # the tier whose multiplier the purchase earned at (before any promotion it caused)


def _validate_note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise errors.NoteTooLong(limit=NOTE_LIMIT, length=len(note))
    return note


async def award_purchase(
    ctx: Context, *, actor_id: int, member_text: str, amount_text: str, note: str | None, key: str
) -> Award:
    """Record a purchase and its points (SPEC §4 `/award`), exactly once per `key`.

    The earning itself is `earn_purchase`, which the shop's systems use too
    (`bot.services.orders`); this adds what is particular to the counter:
    the cashier's typed member and amount, and the audit under their id.
    """
    amount = parse_purchase_amount(amount_text, ctx.program.earning)
    note = _validate_note(note)
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await find_member(uow, member_text)
        own = refuse_self_service(ctx, member, actor_id, "award")
        previous = await uow.ledger.by_key(key)
        if previous is not None:
            return Award(member, previous.amount or amount, previous.delta, member.balance, Decimal(1), True)
        tier = member.tier
        earned = await earn_purchase(ctx, uow, member, amount, key=key, now=now, note=note, actor_id=actor_id)
        if earned.duplicate:
            return Award(member, amount, earned.points, member.balance, earned.multiplier, True, earned.campaign)
        uow.audit.record(
            actor_id=actor_id, action="award", member_id=member.id, now=now,
            amount=str(amount), points=earned.points, note=note, key=key, **({"own_account": True} if own else {}),
        )
        await uow.commit()
        return Award(member, amount, earned.points, member.balance, earned.multiplier, False, earned.campaign, tier)


@dataclass(frozen=True)
class Earned:
    points: int
    multiplier: Decimal  # tier multiplier × campaign multiplier
    campaign: Decimal | None  # the campaign multiplier included in `multiplier`
    duplicate: bool  # `key` was used before: nothing changed


async def purchase_multiplier(ctx: Context, uow: UnitOfWork, tier: int, now: datetime) -> tuple[Decimal, Decimal | None]:
    """(tier multiplier × running campaign's, the campaign's) for a purchase now."""
    campaign = await uow.campaigns.active(now)
    boost = campaign.multiplier if campaign is not None else None
    return ctx.program.tiers[min(tier, len(ctx.program.tiers) - 1)].multiplier * (boost or 1), boost


async def earn_purchase(
    ctx: Context,
    uow: UnitOfWork,
    member: Any,
    amount: Decimal,
    *,
    key: str,
    now: datetime,
    note: str | None,
    actor_id: int | None,
) -> Earned:
    """The earning rules of a purchase, in the caller's transaction, once per `key`:
    amount × rate × tier multiplier × running campaign, rounded and capped per
    the program; the referral payout at a referred friend's first purchase;
    the member's last visit; and the receipt through the outbox. Every edge
    that records a purchase (`/award`, the counter, the API, shop webhooks)
    comes through here."""
    multiplier, boost = await purchase_multiplier(ctx, uow, member.tier, now)
    earned = points_for_purchase(amount, ctx.program.earning, multiplier)
    # The receipt's row is written first, so it reaches the member before the
    # tier-up, entry-reward and referral notices this purchase causes (the outbox
    # sends in row order); its balance is filled in once everything is posted.
    receipt = f"notify:{key}"
    queued = member.telegram_id is not None and await uow.outbox.enqueue(
        key=receipt, chat_id=member.telegram_id, member_id=member.id, kind="points_awarded",
        payload={"points": earned, "balance": member.balance, "amount": str(amount)}, now=now,
    )
    if earned and not await credit(
        ctx, uow, member, earned, Kind.PURCHASE,
        key=key, now=now, purchase_amount=amount, note=note, actor_id=actor_id,
    ):
        if queued:
            await uow.outbox.discard(receipt)  # the first time's receipt stands
        return Earned(earned, multiplier, boost, True)
    if earned and member.referrer_id is not None:
        # A referred friend's first qualifying purchase pays both sides, in this transaction.
        await reward_first_purchase(ctx, uow, member, now=now)
    await uow.members.touch_purchase(member.id, now)
    await uow.members.refresh(member)
    if queued:
        await uow.outbox.set_payload(receipt, {"points": earned, "balance": member.balance, "amount": str(amount)})
    return Earned(earned, multiplier, boost, False)


@dataclass(frozen=True)
class BalanceCard:
    member: Any
    standing: TierStanding
    expiring: int = 0  # points expiring within `expiry.soon_days`
    expiring_from: datetime | None = None  # the first of them
    campaign: Any | None = None  # the running campaign
    stamps: CardState | None = None  # the stamp card, when the program has one


async def balance_card(ctx: Context, member: Any) -> BalanceCard:
    """What `/balance` shows for `member` (as loaded for this update).

    A handful of indexed queries, none of which reads more than this member's
    rows of the tier window: the card costs the same with a million entries.
    Raises NotAMember for a user who has not joined (member is None).
    """
    if member is None:
        raise errors.NotAMember()
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        earned = await tier_earnings(ctx, uow, member, now=now)
        expiring, first = await uow.lots.expiring_for(member.id, now + timedelta(days=ctx.program.expiry.soon_days))
        campaign = await uow.campaigns.active(now)
        card = await card_state(ctx, uow, member)
    return BalanceCard(member, standing(earned, ctx.program.tiers, member.tier), expiring, first, campaign, card)


@dataclass(frozen=True)
class Adjustment:
    member: Any
    points: int
    balance: int
    duplicate: bool


async def adjust_points(
    ctx: Context, *, actor_id: int, member_text: str, points_text: str, reason: str, key: str
) -> Adjustment:
    """A manual correction by an owner (SPEC §4 `/adjust`), with a required reason,
    audited, exactly once per `key`; the member is told. Adjustments neither
    count toward tiers nor expire; a removal beyond the balance is refused."""
    points = parse_adjustment(points_text)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    reason = _validate_note(reason) or reason
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await find_member(uow, member_text)
        own = refuse_self_service(ctx, member, actor_id, "award")  # /adjust is the owner's: audited as own
        previous = await uow.ledger.by_key(key)
        if previous is not None:
            return Adjustment(member, previous.delta, member.balance, True)
        if points > 0:
            await credit(ctx, uow, member, points, Kind.ADJUST, key=key, now=now, note=reason, actor_id=actor_id)
        else:
            await debit(ctx, uow, member, -points, Kind.ADJUST, key=key, now=now, note=reason, actor_id=actor_id)
        await uow.members.refresh(member)
        if member.telegram_id is not None:
            await uow.outbox.enqueue(
                key=f"notify:{key}",
                chat_id=member.telegram_id,
                member_id=member.id,
                kind="points_adjusted",
                payload={"points": points, "balance": member.balance, "reason": reason},
                now=now,
            )
        uow.audit.record(
            actor_id=actor_id, action="adjust", member_id=member.id, now=now, points=points, reason=reason, key=key,
            **({"own_account": True} if own else {}),
        )
        await uow.commit()
        return Adjustment(member, points, member.balance, False)
