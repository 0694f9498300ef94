"""Referrals: attribution at enrolment, the payout on the friend's first purchase, `/invite`.

Rules live in `bot.domain.referrals`; this module applies them inside the
caller's transaction (enrolment, `/award`), so an attribution or a payout
either happens with its enrolment or purchase, or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import errors
from bot.domain.ledger import Kind
from bot.domain.referrals import MAX_CHAIN, Attribution, Payout, attribution_for, decide_payout, month_start
from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import section


@dataclass(frozen=True)
class ReferralNote:
    """What a `/start ref-<code>` did, for the welcome message."""

    attribution: Attribution
    referrer_name: str | None = None
    bonus: int = 0  # what the new member gets after their first purchase


async def attribute(
    ctx: Context, uow: UnitOfWork, member: Any, code: str | None, *, created: bool, now: datetime
) -> ReferralNote | None:
    """Apply a referral code to a member who just started with it.

    A new member is attributed to the referrer and the referrer is told a
    friend joined; an existing member never changes referrer. None when
    there was no code or nothing worth saying (unknown or erased referrer).
    """
    if code is None:
        return None
    referrer = await uow.members.by_code(code)
    attribution = attribution_for(
        user_telegram_id=member.telegram_id,
        is_new_member=created,
        referrer_id=referrer.id if referrer is not None else None,
        referrer_telegram_id=referrer.telegram_id if referrer is not None else None,
        referrer_erased=referrer is not None and referrer.forgotten_at is not None,
        current_referrer_id=member.referrer_id,
    )
    if attribution is Attribution.IGNORED:
        return None
    if attribution is not Attribution.ATTRIBUTED:
        return ReferralNote(attribution)
    await uow.members.set_fields(member.id, referrer_id=referrer.id)
    member.referrer_id = referrer.id
    await uow.outbox.enqueue(
        key=f"referral:{member.id}:joined",
        chat_id=referrer.telegram_id,
        member_id=referrer.id,
        subject_id=member.id,
        kind="referral_joined",
        payload={"friend": member.first_name or "", "bonus": ctx.program.bonuses.referrer},
        now=now,
    )
    return ReferralNote(attribution, referrer.first_name, ctx.program.bonuses.referee)


async def reward_first_purchase(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> Payout | None:
    """Pay the referral bonuses when a referred member's first qualifying purchase is recorded.

    Runs in `/award`'s transaction after the purchase points were posted.
    Idempotent: the conversion row (one per friend) and the ledger keys
    `referral:<friend>:referrer` / `referral:<friend>:referee` make a second
    call change nothing. Returns None when there was nothing to do.
    """
    referrer_id = member.referrer_id
    if referrer_id is None:
        return None
    await uow.referrals.lock_referrer(referrer_id)
    if await uow.referrals.converted(member.id):
        return None  # not the first qualifying purchase
    referrer = await uow.members.by_id(referrer_id)
    program = ctx.program
    decision = decide_payout(
        referee_id=member.id,
        referrer_chain=await uow.referrals.referrer_chain(referrer_id, limit=MAX_CHAIN),
        referrer_active=referrer is not None and referrer.forgotten_at is None,
        rewarded_this_month=await uow.referrals.rewarded_since(referrer_id, month_start(now, ctx.zone)),
        monthly_cap=program.referrals.monthly_cap,
        referrer_bonus=program.bonuses.referrer,
        referee_bonus=program.bonuses.referee,
    )
    if not await uow.referrals.record(
        referee_id=member.id, referrer_id=referrer_id, outcome=decision.outcome,
        referrer_points=decision.referrer_points, referee_points=decision.referee_points, now=now,
    ):
        return None
    if decision.referee_points:
        await credit(ctx, uow, member, decision.referee_points, Kind.REFERRAL, key=f"referral:{member.id}:referee", now=now)
        if member.telegram_id is not None:
            await uow.outbox.enqueue(
                key=f"referral:{member.id}:referee:notice",
                chat_id=member.telegram_id,
                member_id=member.id,
                subject_id=referrer_id,
                kind="referral_bonus",
                payload={"friend": (referrer.first_name or "") if referrer else "", "points": decision.referee_points},
                now=now,
            )
    if decision.outcome in (Payout.REWARDED, Payout.CAPPED) and referrer is not None and referrer.telegram_id:
        if decision.referrer_points:
            await credit(
                ctx, uow, referrer, decision.referrer_points, Kind.REFERRAL,
                key=f"referral:{member.id}:referrer", now=now,
            )
        await uow.outbox.enqueue(
            key=f"referral:{member.id}:referrer:notice",
            chat_id=referrer.telegram_id,
            member_id=referrer.id,
            subject_id=member.id,
            kind="referral_reward",
            payload={
                "friend": member.first_name or "",
                "points": decision.referrer_points,
                "capped": decision.outcome is Payout.CAPPED,
                "cap": program.referrals.monthly_cap,
            },
            now=now,
        )
    return decision.outcome


@dataclass(frozen=True)
class InviteCard:
    member: Any
    joined: int  # friends who joined through the member's link
    purchased: int  # of them, friends who made a qualifying purchase
    earned: int  # points the member earned from referrals
    referrer_bonus: int
    referee_bonus: int
    monthly_cap: int
    rewarded_this_month: int


async def invite_card(ctx: Context, member: Any) -> InviteCard:
    """What `/invite` shows. Raises NotAMember for someone who has not joined."""
    if member is None:
        raise errors.NotAMember()
    async with ctx.uow(readonly=True) as uow:
        joined, purchased, earned = await uow.referrals.summary(member.id)
        this_month = await uow.referrals.rewarded_since(member.id, month_start(ctx.now(), ctx.zone))
    bonuses = ctx.program.bonuses
    return InviteCard(
        member, joined, purchased, earned, bonuses.referrer, bonuses.referee,
        ctx.program.referrals.monthly_cap, this_month,
    )


@section
async def _referrals_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    referrer = await uow.members.by_id(member.referrer_id) if member.referrer_id is not None else None
    joined, purchased, points = await uow.referrals.summary(member.id)
    return "referrals", {
        "invited_by": referrer.code if referrer is not None else None,
        "friends_joined": joined,
        "friends_who_purchased": purchased,
        "points_earned": points,
    }
