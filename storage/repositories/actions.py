"""Earning actions (SPEC §11): what members did or asked for, and the owners' check-in codes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionClaim, ActionCode, OutboxMessage
from storage.sql import affected, insert_ignoring_conflicts


class ActionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_claim(self, **values: Any) -> ActionClaim | None:
        """Record a claim under its request key; None when that key was used before."""
        claim_id = await self.session.scalar(
            insert_ignoring_conflicts(self.session, ActionClaim, values).returning(ActionClaim.id)
        )
        return await self.session.get(ActionClaim, claim_id) if claim_id is not None else None

    async def claim_by_key(self, key: str) -> ActionClaim | None:
        return await self.session.scalar(select(ActionClaim).where(ActionClaim.key == key))

    async def claim(self, claim_id: int) -> ActionClaim | None:
        return await self.session.get(ActionClaim, claim_id)

    async def reload(self, claim_id: int) -> ActionClaim | None:
        return await self.session.get(ActionClaim, claim_id, populate_existing=True)

    async def in_period(self, member_id: int, action_id: str, period: str) -> list[ActionClaim]:
        stmt = (
            select(ActionClaim)
            .where(ActionClaim.member_id == member_id, ActionClaim.action_id == action_id, ActionClaim.period == period)
            .order_by(ActionClaim.id)
        )
        return list(await self.session.scalars(stmt))

    async def statuses_for(self, member_id: int, periods: dict[str, str]) -> dict[str, set[str]]:
        """{action id: statuses of its claims in the given period} for one member ({action: period})."""
        if not periods:
            return {}
        stmt = select(ActionClaim.action_id, ActionClaim.period, ActionClaim.status).where(
            ActionClaim.member_id == member_id, ActionClaim.action_id.in_(list(periods))
        )
        found: dict[str, set[str]] = {}
        for action_id, period, status in (await self.session.execute(stmt)).all():
            if periods.get(action_id) == period:
                found.setdefault(action_id, set()).add(status)
        return found

    async def decide(self, claim_id: int, *, status: str, by: int, now: datetime, points: int = 0) -> bool:
        """pending → approved/declined, once: the WHERE clause decides between two staff taps."""
        result = await self.session.execute(
            update(ActionClaim)
            .where(ActionClaim.id == claim_id, ActionClaim.status == "pending")
            .values(status=status, decided_by=by, decided_at=now, points=points)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def for_member(self, member_id: int) -> list[ActionClaim]:
        stmt = select(ActionClaim).where(ActionClaim.member_id == member_id).order_by(ActionClaim.id)
        return list(await self.session.scalars(stmt))

    async def credited_between(self, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """{action id: (times credited, points)} for claims made in [start, end)."""
        stmt = (
            select(ActionClaim.action_id, func.count(ActionClaim.id), func.coalesce(func.sum(ActionClaim.points), 0))
            .where(ActionClaim.status == "credited", ActionClaim.created_at >= start, ActionClaim.created_at < end)
            .group_by(ActionClaim.action_id)
        )
        return {action: (int(n), int(p)) for action, n, p in (await self.session.execute(stmt)).all()}

    async def forget_names_in_requests(self, claim_ids: list[int]) -> None:
        """Staff's copies of a member's requests keep no name once that member is forgotten."""
        for claim_id in claim_ids:
            rows = await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.key.startswith(f"action-request:{claim_id}:"))
            )
            for message in rows:
                message.payload = {**message.payload, "member_name": None}

    # -- check-in codes ------------------------------------------------------------
    async def add_code(self, **values: Any) -> bool:
        stmt = insert_ignoring_conflicts(self.session, ActionCode, values).returning(ActionCode.code)
        return await self.session.scalar(stmt) is not None

    async def code(self, code: str) -> ActionCode | None:
        return await self.session.get(ActionCode, code)

    async def live_codes(self, *, now: datetime, limit: int = 50) -> list[ActionCode]:
        stmt = select(ActionCode).where(ActionCode.expires_at > now).order_by(ActionCode.expires_at).limit(limit)
        return list(await self.session.scalars(stmt))
