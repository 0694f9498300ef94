"""Recognition given once per member: milestones and tier entry rewards."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, Member, MemberGrant
from storage.sql import insert_ignoring_conflicts


class GrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> MemberGrant | None:
        """Record a grant under its key; None when it was given before."""
        grant_id = await self.session.scalar(
            insert_ignoring_conflicts(self.session, MemberGrant, values).returning(MemberGrant.id)
        )
        return await self.session.get(MemberGrant, grant_id) if grant_id is not None else None

    async def set_voucher(self, grant_id: int, voucher_id: int) -> None:
        await self.session.execute(
            update(MemberGrant).where(MemberGrant.id == grant_id).values(voucher_id=voucher_id)
            .execution_options(synchronize_session=False)
        )

    async def given(self, member_id: int, kind: str) -> dict[str, list[datetime]]:
        """{ref: when each grant of `kind` was given} for one member."""
        stmt = select(MemberGrant.ref, MemberGrant.created_at).where(
            MemberGrant.member_id == member_id, MemberGrant.kind == kind
        )
        found: dict[str, list[datetime]] = {}
        for ref, created_at in (await self.session.execute(stmt)).all():
            found.setdefault(ref, []).append(created_at)
        return found

    async def for_member(self, member_id: int) -> list[MemberGrant]:
        stmt = select(MemberGrant).where(MemberGrant.member_id == member_id).order_by(MemberGrant.id)
        return list(await self.session.scalars(stmt))

    async def purchases(self, member_id: int) -> int:
        """How many purchases (ledger entries of kind purchase) the member has made."""
        stmt = select(func.count(LedgerEntry.id)).where(
            LedgerEntry.member_id == member_id, LedgerEntry.kind == "purchase"
        )
        return int(await self.session.scalar(stmt) or 0)

    async def joined_between(self, start: datetime, end: datetime) -> list[Any]:
        """Members (not erased) who joined in [start, end), on the joined_at index."""
        stmt = (
            select(Member.id, Member.telegram_id, Member.joined_at)
            .where(Member.joined_at >= start, Member.joined_at < end, Member.forgotten_at.is_(None))
            .order_by(Member.id)
        )
        return list((await self.session.execute(stmt)).all())

    async def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        stmt = (
            select(MemberGrant.kind, func.count(MemberGrant.id))
            .where(MemberGrant.created_at >= start, MemberGrant.created_at < end)
            .group_by(MemberGrant.kind)
        )
        return {kind: int(n) for kind, n in (await self.session.execute(stmt)).all()}
