"""The member's data: a full copy on request (/mydata) and erasure (/forget), SPEC §3 and §7.

Each feature that stores something about a member registers a *section*
(what to export) and, if it keeps personal data, an *eraser*. Erasure keeps
the ledger and the member row (its id and code become an anonymous key) so
point totals stay auditable; names, contact details, birthday, Telegram id
and free text go.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.domain import errors
from bot.domain.ledger import Kind
from bot.domain.privacy import former_key
from bot.services.ports import Context, UnitOfWork

Section = Callable[[UnitOfWork, Any], Awaitable[tuple[str, Any]]]
Eraser = Callable[[UnitOfWork, Any, datetime], Awaitable[None]]
SECTIONS: list[Section] = []
ERASERS: list[Eraser] = []


def section(func: Section) -> Section:
    SECTIONS.append(func)
    return func


def eraser(func: Eraser) -> Eraser:
    ERASERS.append(func)
    return func


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


def row(obj: Any, *fields: str) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


@section
async def _profile(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    return "member", row(
        member,
        "code", "telegram_id", "first_name", "last_name", "username", "phone", "language",
        "balance", "tier", "marketing_opt_in", "consent_at", "birth_calendar", "birth_year",
        "birth_month", "birth_day", "joined_at", "last_purchase_at", "blocked_at",
    )


@section
async def _ledger(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    entries = await uow.privacy.ledger_of(member.id)
    return "points_ledger", [
        row(e, "created_at", "kind", "delta", "amount", "note", "expires_at") for e in entries
    ]


@section
async def _messages(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    messages = await uow.privacy.messages_to(member.id)
    return "messages_sent_by_the_bot", [row(m, "created_at", "kind", "category", "status", "sent_at") for m in messages]


@eraser
async def _erase_profile(uow: UnitOfWork, member: Any, now: datetime) -> None:
    await uow.members.set_fields(
        member.id,
        telegram_id=None, first_name=None, last_name=None, username=None, phone=None, phone_suffix=None,
        birth_calendar=None, birth_year=None, birth_month=None, birth_day=None,
        marketing_opt_in=False, forgotten_at=now,
    )
    await uow.privacy.cancel_pending_messages(member.id, now=now)


async def export_member_data(ctx: Context, member: Any) -> dict[str, Any]:
    """Everything stored about `member`, as JSON-ready data."""
    if member is None:
        raise errors.NotAMember()
    async with ctx.uow(readonly=True) as uow:
        fresh = await uow.members.by_id(member.id)
        data: dict[str, Any] = {"exported_at": ctx.now().isoformat()}
        for collect in SECTIONS:
            name, value = await collect(uow, fresh)
            data[name] = value
    return data


async def forget_member(ctx: Context, telegram_id: int, *, token: str) -> int:
    """Erase the member's personal data once; returns the points given up.

    `token` is the one-time token behind the confirmation button: a double tap
    or an old button changes nothing (StaleAction).
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        if not await uow.tokens.consume(token, telegram_id, "forget", now=now):
            raise errors.StaleAction()
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            raise errors.StaleAction()
        balance: int = member.balance
        personal = await _personal_values(uow, member)
        await remember_former(ctx, uow, member, now=now)
        for erase in ERASERS:
            await erase(uow, member, now)
        await uow.privacy.rewrite_keys(member.id, telegram_id)
        await uow.privacy.erase_messages(member.id, telegram_id, personal)
        await uow.privacy.erase_audit(member.id, telegram_id, personal)
        await uow.privacy.erase_ledger_notes(member.id)
        await uow.privacy.drop_tokens(telegram_id)
        # The member's own Telegram id is not kept even as the actor of their erasure.
        uow.audit.record(actor_id=0, action="forget", member_id=member.id, now=now, points_forfeited=balance)
        await uow.commit()
    await ctx.after_erasure()
    return balance


async def _personal_values(uow: UnitOfWork, member: Any) -> tuple[str, ...]:
    """The strings that identify the member, to find them in free text and payloads."""
    values = [member.first_name, member.last_name, member.username, member.phone]
    full = " ".join(p for p in (member.first_name, member.last_name) if p)
    values.append(full)
    values += [s.comment for s in await uow.surveys.for_member(member.id) if s.comment]
    return tuple(v for v in dict.fromkeys(values) if v and len(v) >= 2)


async def remember_former(ctx: Context, uow: UnitOfWork, member: Any, *, now: datetime) -> None:
    """Keep a keyed hash of the Telegram id and which one-time bonuses this
    membership earned, so that rejoining earns none of them again (SPEC §7)."""
    key = ctx.erasure_key
    if key is None:  # the bot always has BOT_TOKEN; only a misconfigured tool gets here
        raise RuntimeError("ERASURE_KEY or BOT_TOKEN is needed to erase a member")
    await uow.privacy.remember_former(
        former_key(key, member.telegram_id),
        signup_bonus=await uow.privacy.last_credit_at(member.id, Kind.SIGNUP) is not None,
        referred=member.referrer_id is not None,
        birthday_bonus_at=await uow.privacy.last_credit_at(member.id, Kind.BIRTHDAY),
        now=now,
    )


async def former_membership(ctx: Context, uow: UnitOfWork, telegram_id: int) -> Any | None:
    """What an earlier, erased membership of this Telegram user earned (None: never a member)."""
    key = ctx.erasure_key
    return None if key is None else await uow.privacy.former(former_key(key, telegram_id))


async def offer_forget(ctx: Context, member: Any) -> str:
    """The one-time token for the confirmation button of /forget."""
    if member is None:
        raise errors.NotAMember()
    async with ctx.uow() as uow:
        token: str = await uow.tokens.issue(member.telegram_id, "forget", {}, now=ctx.now())
        await uow.commit()
        return token
