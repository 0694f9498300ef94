"""Purchases and refunds from the shop's systems (SPEC §9.1–9.2): the API and the
shop webhooks are two callers of these two use cases.

A purchase earns through `points.earn_purchase`, the same code as `/award`
(rate, tier, campaign, referral payout, receipt); only the key differs: the
order's source and id (`order:<source>:<id>`), so a replayed order changes
nothing. A purchase for a phone nobody has yet waits as a claim
(`bot.services.claims`). A refund takes back the order's points in proportion,
never more than the balance: what was already spent is reported as
unrecovered.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.domain import errors
from bot.domain.earning import parse_purchase_amount, points_for_purchase
from bot.domain.ledger import Kind, add_months
from bot.domain.members import parse_member_ref, phone_suffix
from bot.domain.orders import (
    SOURCES,
    InvalidPhone,
    OrderConflict,
    OrderNotFound,
    RefundConflict,
    RefundExceedsOrder,
    check_reference,
    parse_refund_amount,
    refund_share,
)
from bot.domain.phones import to_e164
from bot.services.ledger import debit
from bot.services.members import find_member
from bot.services.points import NOTE_LIMIT, earn_purchase, purchase_multiplier
from bot.services.ports import Context, UnitOfWork
from bot.services.stamps import post_stamps, stamp_card, stamps_left_today

API_ACTOR = 0  # the audit's actor for the shop's systems (Telegram ids are positive)


@dataclass(frozen=True)
class Customer:
    """Who a purchase is for: a member, or a phone number no member has yet."""

    member: Any | None
    phone: str | None  # E.164, when the reference was a phone number


async def resolve_customer(ctx: Context, uow: UnitOfWork, ref: str) -> Customer:
    """`ref` as the API reads it: member code, Telegram id, @username, or a phone
    (with `+`, `00` or a leading `0`, any digits; in `DEFAULT_REGION` without a
    country code). A phone nobody has is a `Customer` without a member."""
    parsed = parse_member_ref(ref)
    if parsed is None:
        raise errors.MemberNotFound(query=ref)
    if parsed.kind != "phone":
        return Customer(await find_member(uow, ref), None)
    phone = to_e164(ref, ctx.region)
    if phone is None:
        raise InvalidPhone(query=ref, region=ctx.region)
    return Customer(await member_by_phone(uow, phone), phone)


async def member_by_phone(uow: UnitOfWork, phone: str) -> Any | None:
    """The member whose shared phone is `phone` (E.164); AmbiguousMember if two are."""
    found = await uow.members.by_phone(phone, phone_suffix(phone))
    if len(found) > 1:
        raise errors.AmbiguousMember(query=phone)
    return found[0] if found else None


def _check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown order source {source!r}")
    return source


def _check_note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise errors.NoteTooLong(limit=NOTE_LIMIT, length=len(note))
    return note


def order_key(source: str, reference: str) -> str:
    """The ledger key of an order's points: one credit per order, ever."""
    return f"order:{source}:{reference}"


# -- purchases -----------------------------------------------------------------
@dataclass(frozen=True)
class PurchaseResult:
    order_id: str
    member_code: str | None  # None while the points wait for the phone
    points: int
    balance: int | None
    pending: bool  # the points wait as a claim (SPEC §9.3)
    replayed: bool  # this order was recorded before: nothing changed
    stamps: int | None = None  # stamps given with it (None: none were asked for)
    stamps_over_cap: int | None = None  # asked for but over the member's daily cap
    stamps_on_card: int | None = None


async def record_purchase(
    ctx: Context,
    *,
    source: str,
    order_id: str,
    member_ref: str,
    amount_text: str,
    note: str | None,
    via: str,
    stamps: int | None = None,
) -> PurchaseResult:
    """A paid order, once per (source, order id); the member is told in Telegram.

    `stamps` (the API's `"stamps": n`) adds stamps to the member's card in the
    same transaction, under the order's key: as many as the day's cap leaves,
    the rest reported, never refusing the purchase for them. A purchase that
    waits for a phone carries no stamps (a claim holds points only).

    Raises InvalidAmount / AmountTooLarge (the program's cap), InvalidReference,
    MemberNotFound, MemberForgotten, AmbiguousMember, InvalidPhone, NoteTooLong,
    OrderConflict (the order id again with another member or amount), NoStampCard
    (stamps asked for, the program has no stamp card) and StampCapReached (only
    when another stamping of the same member raced this one past the cap: the
    whole purchase is rolled back, and the same request again succeeds).
    """
    _check_source(source)
    reference = check_reference(order_id, field="order_id")
    amount = parse_purchase_amount(amount_text, ctx.program.earning)
    note = _check_note(note)
    if stamps:
        stamp_card(ctx)  # NoStampCard before anything is written
    now = ctx.now()
    async with ctx.uow() as uow:
        customer = await resolve_customer(ctx, uow, member_ref)
        existing = await uow.orders.get(source, reference)
        if existing is not None:
            return await _replay(uow, existing, customer, amount, stamps)
        order = await uow.orders.create(
            source=source,
            reference=reference,
            member_id=customer.member.id if customer.member else None,
            amount=amount,
            points=0,
            refunded_amount=Decimal(0),
            refunded_points=0,
            note=note,
            via=via[:80],
            created_at=now,
        )
        if order is None:  # the same order, a moment earlier, from another request
            raced = await uow.orders.get(source, reference)
            assert raced is not None
            return await _replay(uow, raced, customer, amount, stamps)
        member = customer.member
        given: tuple[int, int, int] | None = None
        if member is not None:
            earned = await earn_purchase(
                ctx, uow, member, amount, key=order_key(source, reference), now=now, note=note, actor_id=None
            )
            order.points, order.balance_after = earned.points, member.balance
            if stamps:
                given = await _stamps_with_purchase(ctx, uow, member, stamps, order_key(source, reference), now)
        else:
            assert customer.phone is not None
            # Fixed now: the base rate, the first tier's multiplier and the campaign running now.
            multiplier, _boost = await purchase_multiplier(ctx, uow, 0, now)
            order.points = points_for_purchase(amount, ctx.program.earning, multiplier)
            expires = add_months(now, ctx.program.expiry.months) if ctx.program.expiry.months else None
            await uow.claims.create(
                order_id=order.id, phone=customer.phone, points=order.points, now=now, expires_at=expires
            )
        uow.audit.record(
            actor_id=API_ACTOR,
            action="order_purchase",
            member_id=member.id if member else None,
            now=now,
            source=source,
            order=reference,
            amount=str(amount),
            points=order.points,
            via=via,
            pending=member is None,
            **({"stamps": given[0]} if given else {}),
        )
        await uow.commit()
        return _purchase_result(order, member.code if member else None, replayed=False, stamps=given)


def _stamp_key(order_key_text: str) -> str:
    return f"{order_key_text}:stamps"


async def _stamps_with_purchase(
    ctx: Context, uow: UnitOfWork, member: Any, asked: int, key: str, now: Any
) -> tuple[int, int, int]:
    """(given, over the cap, on the card afterwards) for stamps sent with a purchase."""
    give = min(asked, await stamps_left_today(ctx, uow, member, now))
    if give:
        result = await post_stamps(ctx, uow, member, give, key=_stamp_key(key), now=now)
        return give, asked - give, result.on_card
    return 0, asked, int(member.stamps)


async def _replay(
    uow: UnitOfWork, order: Any, customer: Customer, amount: Decimal, stamps: int | None = None
) -> PurchaseResult:
    claim = await uow.claims.for_order(order.id) if order.member_id is None else None
    same_member = customer.member is not None and order.member_id == customer.member.id
    same_phone = customer.phone is not None and claim is not None and claim.phone == customer.phone
    if order.amount != amount or not (same_member or same_phone):
        raise OrderConflict(order_id=order.reference)
    member = await uow.members.by_id(order.member_id) if order.member_id is not None else None
    given = None
    if stamps and member is not None:
        # What the first call gave; the stamps asked for again are not compared (the order is the key).
        entry = await uow.stamps.by_key(_stamp_key(order_key(order.source, order.reference)))
        first = int(entry.delta) if entry is not None else 0
        given = (first, max(0, stamps - first), int(member.stamps))
    return _purchase_result(order, member.code if member else None, replayed=True, stamps=given)


def _purchase_result(
    order: Any, member_code: str | None, *, replayed: bool, stamps: tuple[int, int, int] | None = None
) -> PurchaseResult:
    pending = order.member_id is None
    return PurchaseResult(
        order_id=order.reference,
        member_code=member_code,
        points=order.points,
        balance=None if pending else order.balance_after,
        pending=pending,
        stamps=stamps[0] if stamps else None,
        stamps_over_cap=stamps[1] if stamps else None,
        stamps_on_card=stamps[2] if stamps else None,
        replayed=replayed,
    )


# -- refunds -------------------------------------------------------------------
@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    order_id: str
    amount: Decimal
    reversed: int  # points taken from the balance
    unrecovered: int  # points the refund should take back that were already spent
    balance: int | None  # None while the order's points wait as a claim
    pending: bool
    replayed: bool


async def record_refund(
    ctx: Context,
    *,
    source: str,
    refund_id: str,
    order_id: str,
    amount_text: str | None,
    via: str,
    clamp: bool = False,
) -> RefundResult:
    """Take back the points that `amount` (default: the rest of the order) earned.

    Idempotent by (source, refund id). Raises OrderNotFound, RefundConflict,
    RefundExceedsOrder (refunds of one order never exceed it; with `clamp`
    the amount is cut to what is left instead, for shop webhooks whose
    refunds include shipping), InvalidAmount, InvalidReference.
    """
    _check_source(source)
    refund_ref = check_reference(refund_id, field="refund_id")
    reference = check_reference(order_id, field="order_id")
    wanted = parse_refund_amount(amount_text) if amount_text is not None else None
    now = ctx.now()
    async with ctx.uow() as uow:
        previous = await uow.orders.refund(source, refund_ref)
        if previous is not None:
            return await _refund_replay(uow, previous, reference, wanted)
        order = await uow.orders.get(source, reference, lock=True)
        if order is None:
            raise OrderNotFound(order_id=reference)
        previous = await uow.orders.refund(source, refund_ref)  # a twin that held the lock before us
        if previous is not None:
            return await _refund_replay(uow, previous, reference, wanted)
        remaining = order.amount - order.refunded_amount
        amount = remaining if wanted is None else wanted
        if amount > remaining and clamp:
            amount = remaining
        if amount <= 0 or amount > remaining:
            raise RefundExceedsOrder(order_id=reference, remaining=str(remaining), amount=str(amount))
        share = refund_share(
            order_amount=order.amount,
            order_points=order.points,
            refunded_before=order.refunded_amount,
            amount=amount,
        )
        refund = await uow.orders.create_refund(
            source=source,
            reference=refund_ref,
            order_id=order.id,
            amount=amount,
            points=share,
            reversed=0,
            unrecovered=0,
            via=via[:80],
            created_at=now,
        )
        assert refund is not None  # the order's lock serialises refunds of one order
        member = None
        if order.member_id is not None:
            member = await uow.lots.lock_member(order.member_id)
            assert member is not None
            taken = min(share, member.balance)
            if taken:
                await debit(
                    ctx,
                    uow,
                    member,
                    taken,
                    Kind.REVERSAL,
                    key=f"refund:{source}:{refund_ref}",
                    now=now,
                    note=f"{source} {reference}"[:200],
                )
                await uow.members.refresh(member)
            refund.reversed, refund.unrecovered, refund.balance_after = taken, share - taken, member.balance
            if taken and member.telegram_id is not None:
                await uow.outbox.enqueue(
                    key=f"notify:refund:{source}:{refund_ref}",
                    chat_id=member.telegram_id,
                    member_id=member.id,
                    kind="points_reversed",
                    payload={"points": taken, "balance": member.balance, "amount": str(amount)},
                    now=now,
                )
        else:
            claim = await uow.claims.for_order(order.id)
            if claim is not None and claim.status == "pending":
                refund.reversed = min(share, claim.points)
                claim.points -= refund.reversed
                if claim.points == 0:
                    claim.status = "void"
        order.refunded_amount += amount
        order.refunded_points += share
        uow.audit.record(
            actor_id=API_ACTOR,
            action="order_refund",
            member_id=order.member_id,
            now=now,
            source=source,
            order=reference,
            refund=refund_ref,
            amount=str(amount),
            points=share,
            reversed=refund.reversed,
            unrecovered=refund.unrecovered,
            via=via,
        )
        await uow.commit()
        return _refund_result(refund, reference, member is None, replayed=False)


async def _refund_replay(uow: UnitOfWork, refund: Any, reference: str, wanted: Decimal | None) -> RefundResult:
    order = await uow.orders.by_id(refund.order_id)
    assert order is not None
    if order.reference != reference or (wanted is not None and wanted != refund.amount):
        raise RefundConflict(refund_id=refund.reference)
    return _refund_result(refund, reference, order.member_id is None, replayed=True)


def _refund_result(refund: Any, reference: str, pending: bool, *, replayed: bool) -> RefundResult:
    return RefundResult(
        refund_id=refund.reference,
        order_id=reference,
        amount=refund.amount,
        reversed=refund.reversed,
        unrecovered=refund.unrecovered,
        balance=refund.balance_after,
        pending=pending,
        replayed=replayed,
    )


async def lookup_member(ctx: Context, ref: str) -> Any:
    """The member `ref` names, for the API's `GET /members/{ref}`; a phone nobody
    has is MemberNotFound here."""
    async with ctx.uow(readonly=True) as uow:
        customer = await resolve_customer(ctx, uow, ref)
    if customer.member is None:
        raise errors.MemberNotFound(query=ref)
    return customer.member
