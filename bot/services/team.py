"""The owner's staff list (SPEC §4 `/staff`): who may use the counter commands."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import errors
from bot.domain.digits import to_latin
from bot.domain.team import InvalidUserId, NeverOpenedBot, StaffIsOwner, parse_user_id
from bot.services.members import find_member
from bot.services.ports import Context, UnitOfWork


@dataclass(frozen=True)
class StaffChange:
    telegram_id: int
    changed: bool  # False: already staff (add) or not staff (remove)
    member: Any | None  # their member record, when they joined as a customer too


@dataclass(frozen=True)
class StaffEntry:
    telegram_id: int
    added_by: int
    added_at: datetime
    member: Any | None


async def _resolve(uow: UnitOfWork, who: str) -> tuple[int, Any | None]:
    """A Telegram user id, or a member (code, @username, phone) who has one."""
    text = to_latin(who)
    if not text:
        raise InvalidUserId(text=who)
    if re.fullmatch(r"-?\d+", text):
        telegram_id = parse_user_id(text)
        if telegram_id is None:
            raise InvalidUserId(text=who)
        return telegram_id, await uow.members.by_telegram_id(telegram_id)
    member = await find_member(uow, text)
    if member.telegram_id is None:  # pragma: no cover - find_member refuses erased members first
        raise errors.MemberForgotten(query=who)
    return member.telegram_id, member


async def add_staff(ctx: Context, *, actor_id: int, who: str) -> StaffChange:
    now = ctx.now()
    async with ctx.uow() as uow:
        telegram_id, member = await _resolve(uow, who)
        if telegram_id in ctx.owners:
            raise StaffIsOwner(telegram_id=telegram_id)
        if member is None and not await uow.staff.is_staff(telegram_id):
            raise NeverOpenedBot(telegram_id=telegram_id)
        added = await uow.staff.add(telegram_id, added_by=actor_id, now=now)
        if added:
            uow.audit.record(
                actor_id=actor_id, action="staff_add", member_id=member.id if member else None, now=now,
                telegram_id=telegram_id,
            )
            await uow.outbox.enqueue(
                key=f"staff_added:{telegram_id}:{now.isoformat()}",
                chat_id=telegram_id,
                member_id=member.id if member else None,
                kind="staff_added",
                payload={},
                now=now,
            )
            await uow.commit()
    return StaffChange(telegram_id, added, member)


async def remove_staff(ctx: Context, *, actor_id: int, who: str) -> StaffChange:
    now = ctx.now()
    async with ctx.uow() as uow:
        telegram_id, member = await _resolve(uow, who)
        if telegram_id in ctx.owners:
            raise StaffIsOwner(telegram_id=telegram_id)
        removed = await uow.staff.remove(telegram_id)
        if removed:
            uow.audit.record(
                actor_id=actor_id, action="staff_remove", member_id=member.id if member else None, now=now,
                telegram_id=telegram_id,
            )
            await uow.commit()
    return StaffChange(telegram_id, removed, member)


async def list_staff(ctx: Context) -> list[StaffEntry]:
    async with ctx.uow(readonly=True) as uow:
        entries = []
        for person in await uow.staff.all():
            member = await uow.members.by_telegram_id(person.telegram_id)
            entries.append(StaffEntry(person.telegram_id, person.added_by, person.added_at, member))
    return entries
