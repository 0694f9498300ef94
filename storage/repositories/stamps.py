"""The stamp ledger (SPEC §11 stamp cards): entries and the cached count move together."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, StampEntry, Voucher
from storage.sql import affected, insert_ignoring_conflicts


class StampRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def post(
        self, *, member_id: int, delta: int, kind: str, key: str, now: datetime,
        actor_id: int | None = None, voucher_id: int | None = None,
    ) -> int | None:
        """Append an entry and move `members.stamps` with it, in the caller's transaction.

        Returns the entry id, or None when the key was used before (nothing
        changed). The entry goes first, so a repeated key is found before the
        count moves; the count's UPDATE then holds the member's row until commit.
        A removal beyond what is on the card raises (the caller never asks for one).
        """
        values = {
            "member_id": member_id, "delta": delta, "kind": kind, "idempotency_key": key,
            "actor_id": actor_id, "voucher_id": voucher_id, "created_at": now,
        }
        entry_id = await self.session.scalar(
            insert_ignoring_conflicts(self.session, StampEntry, values).returning(StampEntry.id)
        )
        if entry_id is None:
            return None
        result = await self.session.execute(
            update(Member)
            .where(Member.id == member_id, Member.stamps + delta >= 0)
            .values(stamps=Member.stamps + delta)
            .execution_options(synchronize_session=False)
        )
        if affected(result) != 1:
            raise RuntimeError(f"stamps of member {member_id} would go below zero")
        return int(entry_id)

    async def by_key(self, key: str) -> StampEntry | None:
        return await self.session.scalar(select(StampEntry).where(StampEntry.idempotency_key == key))

    async def by_key_prefix(self, prefix: str) -> list[StampEntry]:
        """The entries one request wrote (its stamps and the cards they filled)."""
        stmt = select(StampEntry).where(StampEntry.idempotency_key.startswith(prefix, autoescape=True))
        return list(await self.session.scalars(stmt.order_by(StampEntry.id)))

    async def on_card(self, member_id: int) -> int:
        return int(await self.session.scalar(select(Member.stamps).where(Member.id == member_id)) or 0)

    async def given_since(self, member_id: int, since: datetime, until: datetime | None = None) -> int:
        """Stamps given to the member in [since, until) (expired or carded ones included)."""
        stmt = select(func.coalesce(func.sum(StampEntry.delta), 0)).where(
            StampEntry.member_id == member_id, StampEntry.kind == "stamp", StampEntry.created_at >= since
        )
        if until is not None:
            stmt = stmt.where(StampEntry.created_at < until)
        return int(await self.session.scalar(stmt) or 0)

    async def sum_for(self, member_id: int) -> int:
        stmt = select(func.coalesce(func.sum(StampEntry.delta), 0)).where(StampEntry.member_id == member_id)
        return int(await self.session.scalar(stmt) or 0)

    async def cards_completed(self, member_id: int) -> int:
        stmt = select(func.count(StampEntry.id)).where(StampEntry.member_id == member_id, StampEntry.kind == "card")
        return int(await self.session.scalar(stmt) or 0)

    async def recent(self, member_id: int, *, limit: int) -> list[StampEntry]:
        stmt = select(StampEntry).where(StampEntry.member_id == member_id).order_by(StampEntry.id.desc()).limit(limit)
        return list(await self.session.scalars(stmt))

    async def for_member(self, member_id: int) -> list[StampEntry]:
        stmt = select(StampEntry).where(StampEntry.member_id == member_id).order_by(StampEntry.id)
        return list(await self.session.scalars(stmt))

    async def oldest_on_card(self, member_id: int, on_card: int) -> datetime | None:
        """When the oldest stamp still on the card was given (the card holds the newest stamps)."""
        if on_card <= 0:
            return None
        covered = 0
        stmt = (
            select(StampEntry.delta, StampEntry.created_at)
            .where(StampEntry.member_id == member_id, StampEntry.kind == "stamp")
            .order_by(StampEntry.created_at.desc(), StampEntry.id.desc())
            .limit(on_card)  # each entry gives at least one stamp
        )
        for delta, created_at in (await self.session.execute(stmt)).all():
            covered += delta
            if covered >= on_card:
                return created_at
        return None

    async def members_with_stamps(self, *, after_member: int, limit: int) -> list[int]:
        stmt = (
            select(Member.id).where(Member.stamps > 0, Member.id > after_member).order_by(Member.id).limit(limit)
        )
        return [int(i) for i in await self.session.scalars(stmt)]

    # -- reports ------------------------------------------------------------------
    async def totals_between(self, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """{kind: (entries, sum of |delta|)} in [start, end)."""
        stmt = (
            select(StampEntry.kind, func.count(StampEntry.id), func.coalesce(func.sum(func.abs(StampEntry.delta)), 0))
            .where(StampEntry.created_at >= start, StampEntry.created_at < end)
            .group_by(StampEntry.kind)
        )
        return {kind: (int(n), int(total)) for kind, n, total in (await self.session.execute(stmt)).all()}

    async def on_cards(self) -> int:
        return int(await self.session.scalar(select(func.coalesce(func.sum(Member.stamps), 0))) or 0)

    EXPORT_COLUMNS = ("id", "created_at", "member_id", "member_code", "kind", "delta", "voucher_code", "actor_id")

    async def export_page(self, after_id: int, limit: int) -> list[Any]:
        stmt = (
            select(
                StampEntry.id, StampEntry.created_at, StampEntry.member_id, Member.code, StampEntry.kind,
                StampEntry.delta, Voucher.code, StampEntry.actor_id,
            )
            .join(Member, Member.id == StampEntry.member_id)
            .outerjoin(Voucher, Voucher.id == StampEntry.voucher_id)
            .where(StampEntry.id > after_id)
            .order_by(StampEntry.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())
