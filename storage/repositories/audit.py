from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(self, *, actor_id: int, action: str, now: datetime, member_id: int | None = None, **details: Any) -> None:
        self.session.add(
            AuditEntry(actor_id=actor_id, action=action, member_id=member_id, details=details, created_at=now)
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        return list(await self.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
