from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ledger import PostOutcome as Posted
from bot.domain.ledger import PostResult
from storage.models import LedgerEntry
from storage.repositories.members import MemberRepository
from storage.sql import insert_ignoring_conflicts


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._members = MemberRepository(session)

    async def post(
        self,
        *,
        member_id: int,
        delta: int,
        kind: str,
        key: str,
        now: datetime,
        amount: Decimal | None = None,
        note: str | None = None,
        actor_id: int | None = None,
        expires_at: datetime | None = None,
    ) -> PostResult:
        """Append one entry and move the balance with it, in the caller's transaction.

        The entry goes first so a repeated key is detected before the balance
        is touched; INSUFFICIENT leaves the inserted row for the caller's
        rollback (services raise, the unit of work rolls back).
        """
        values = {
            "member_id": member_id,
            "delta": delta,
            "kind": kind,
            "idempotency_key": key,
            "amount": amount,
            "note": note,
            "actor_id": actor_id,
            "expires_at": expires_at,
            "created_at": now,
        }
        stmt = insert_ignoring_conflicts(self.session, LedgerEntry, values).returning(LedgerEntry.id)
        entry_id = await self.session.scalar(stmt)
        if entry_id is None:
            return PostResult(Posted.DUPLICATE)
        if not await self._members.apply_delta(member_id, delta):
            return PostResult(Posted.INSUFFICIENT, entry_id)
        return PostResult(Posted.POSTED, entry_id)

    async def by_key(self, key: str) -> LedgerEntry | None:
        return await self.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))

    async def by_id(self, entry_id: int) -> LedgerEntry | None:
        return await self.session.get(LedgerEntry, entry_id)

    async def recent(self, member_id: int, *, limit: int, before_id: int | None = None) -> list[LedgerEntry]:
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
        if before_id is not None:
            stmt = stmt.where(LedgerEntry.id < before_id)
        result = await self.session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(limit))
        return list(result)

    async def sum_for(self, member_id: int) -> int:
        stmt = select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(LedgerEntry.member_id == member_id)
        return int(await self.session.scalar(stmt) or 0)

    async def earned_since(
        self, member_id: int, kinds: Iterable[str], since: datetime | None, corrections: Iterable[str] = ()
    ) -> int:
        """Sum of credits of `kinds`, less the entries of `corrections` (refunds taking
        purchase points back), since `since` (None = lifetime): the tier basis."""
        earned = and_(LedgerEntry.kind.in_(list(kinds)), LedgerEntry.delta > 0)
        fixes = list(corrections)
        stmt = select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
            LedgerEntry.member_id == member_id,
            or_(earned, LedgerEntry.kind.in_(fixes)) if fixes else earned,
        )
        if since is not None:
            stmt = stmt.where(LedgerEntry.created_at >= since)
        return max(0, int(await self.session.scalar(stmt) or 0))
