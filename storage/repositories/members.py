from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member
from storage.sql import affected, insert_ignoring_conflicts


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def by_telegram_id(self, telegram_id: int) -> Member | None:
        return await self.session.scalar(select(Member).where(Member.telegram_id == telegram_id))

    async def by_code(self, code: str) -> Member | None:
        return await self.session.scalar(select(Member).where(Member.code == code))

    async def by_username(self, username: str) -> list[Member]:
        result = await self.session.scalars(select(Member).where(Member.username == username.lower()).limit(2))
        return list(result)

    async def by_phone_suffix(self, suffix: str) -> list[Member]:
        result = await self.session.scalars(select(Member).where(Member.phone_suffix == suffix).limit(2))
        return list(result)

    async def by_phone(self, phone: str, suffix: str) -> list[Member]:
        """Members whose stored phone is exactly `phone` (E.164), through the suffix index."""
        stmt = select(Member).where(Member.phone_suffix == suffix, Member.phone == phone).limit(2)
        return list(await self.session.scalars(stmt))

    async def create(self, **values: Any) -> Member | None:
        """Insert a member; None if the Telegram id or the code is already taken."""
        stmt = insert_ignoring_conflicts(self.session, Member, values).returning(Member.id)
        member_id = await self.session.scalar(stmt)
        return await self.session.get(Member, member_id) if member_id is not None else None

    async def apply_delta(self, member_id: int, delta: int) -> bool:
        """Move the cached balance by `delta` unless it would go below zero.

        The guard lives in the WHERE clause so two concurrent spenders cannot
        both pass it: the second one re-reads the row after the first commits.
        """
        stmt = (
            update(Member)
            .where(Member.id == member_id, Member.balance + delta >= 0)
            .values(balance=Member.balance + delta)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return affected(result) == 1

    async def refresh(self, member: Member) -> Member:
        await self.session.refresh(member)
        return member

    async def set_fields(self, member_id: int, **values: Any) -> None:
        await self.session.execute(
            update(Member).where(Member.id == member_id).values(**values).execution_options(synchronize_session=False)
        )

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(Member.id))) or 0)

    async def touch_purchase(self, member_id: int, when: datetime) -> None:
        await self.set_fields(member_id, last_purchase_at=when)
