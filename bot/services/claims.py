"""Points waiting for their owner (SPEC §9.3).

A purchase from the shop's systems for a phone number no member has yet
waits as a claim. When a member shares their own phone with Telegram's
contact button (the Telegram layer checks that the contact is the sender's
own: a typed number proves nothing), every claim for that number is
credited to them once, under the order's ledger key, with the expiry the
purchase would have had. Claims are in `/member` and `/mydata`, go with
`/forget`, and expire with the program's expiry (the `expiry` job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.ledger import Kind
from bot.domain.members import phone_suffix
from bot.domain.phones import to_e164
from bot.services.ledger import credit
from bot.services.orders import order_key
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import eraser, row, section
from bot.services.referrals import reward_first_purchase


@dataclass(frozen=True)
class PhoneShared:
    member: Any
    phone: str
    claimed: int  # points credited from claims now
    orders: int  # how many orders those points came from


def contact_phone(raw: str) -> str:
    """A contact's phone in E.164. Telegram sends international digits, usually
    without the `+`; a number libphonenumber does not know is kept as sent."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    return to_e164("+" + digits) or ("+" + digits)[:16]


async def share_phone(ctx: Context, telegram_id: int, raw_phone: str) -> PhoneShared | None:
    """Keep the member's own phone (from the contact button) and credit what waited
    for it. None when the sender is not a member."""
    phone = contact_phone(raw_phone)
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            return None
        member.phone = phone
        member.phone_suffix = phone_suffix(phone)
        claimed, orders = await credit_claims(ctx, uow, member, phone, now=now)
        await uow.commit()
        return PhoneShared(member, phone, claimed, orders)


async def credit_claims(ctx: Context, uow: UnitOfWork, member: Any, phone: str, *, now: datetime) -> tuple[int, int]:
    """Credit every claim waiting for `phone` to `member`, once: (points, orders)."""
    waiting = await uow.claims.pending_for(phone, now=now, lock=True)
    points = orders = 0
    credited_orders: list[int] = []
    for claim, order in waiting:
        if claim.points and await credit(
            ctx,
            uow,
            member,
            claim.points,
            Kind.PURCHASE,
            key=order_key(order.source, order.reference),
            now=now,
            purchase_amount=order.amount,
            note=order.note,
            earned_at=order.created_at,
        ):
            points += claim.points
            orders += 1
        claim.status, claim.member_id, claim.credited_at = "credited", member.id, now
        credited_orders.append(order.id)
    if not credited_orders:
        return 0, 0
    await uow.orders.assign(credited_orders, member.id)
    if points and member.referrer_id is not None:
        await reward_first_purchase(ctx, uow, member, now=now)
    last = max(order.created_at for _claim, order in waiting)
    if member.last_purchase_at is None or member.last_purchase_at < last:
        await uow.members.touch_purchase(member.id, last)
    await uow.members.refresh(member)
    for _claim, order in waiting:
        order.member_id, order.balance_after = member.id, member.balance
    uow.audit.record(
        actor_id=member.telegram_id or 0,
        action="claims_credited",
        member_id=member.id,
        now=now,
        points=points,
        orders=[order.reference for _claim, order in waiting],
    )
    return points, orders


@dataclass(frozen=True)
class Waiting:
    claims: int
    points: int


async def waiting_for_phone(ctx: Context, text: str) -> Waiting | None:
    """What waits for the phone number `text` (for a cashier's `/member <phone>`);
    None when `text` is no phone number."""
    phone = to_e164(text, ctx.region)
    if phone is None:
        return None
    async with ctx.uow(readonly=True) as uow:
        claims, points = await uow.claims.waiting_for(phone, now=ctx.now())
    return Waiting(claims, points)


@dataclass(frozen=True)
class MemberClaims:
    credited: int  # points credited from claims, ever
    waiting: int  # points still waiting for the member's phone
    orders: int


async def member_claims(ctx: Context, member: Any) -> MemberClaims:
    """Claims credited to `member` and any still waiting for their phone (`/member`)."""
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        rows = await uow.claims.of_member(member.id, member.phone)
    credited = sum(order.points for claim, order in rows if claim.status == "credited")
    waiting = sum(
        claim.points
        for claim, _order in rows
        if claim.status == "pending" and (claim.expires_at is None or claim.expires_at > now)
    )
    return MemberClaims(credited, waiting, len(rows))


async def expire_claims(ctx: Context) -> int:
    """Claims past the program's expiry: expired, their phone forgotten."""
    async with ctx.uow() as uow:
        count = int(await uow.claims.expire(now=ctx.now()))
        await uow.commit()
    return count


@section
async def _claims(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    rows = await uow.claims.of_member(member.id, member.phone)
    return "points_that_waited_for_your_phone", [
        {
            **row(claim, "status", "points", "created_at", "expires_at", "credited_at"),
            "shop": order.source,
            "order": order.reference,
            "amount": str(order.amount),
        }
        for claim, order in rows
    ]


@eraser
async def _erase_claims(uow: UnitOfWork, member: Any, now: datetime) -> None:
    # `member` is the row as loaded before the profile eraser ran: its phone is still known here.
    await uow.claims.erase(member.id, member.phone)
    await uow.orders.erase_notes(member.id)
