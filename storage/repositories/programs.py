"""Saved versions of the program (`ProgramVersion`): the newest is in force."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProgramVersion


class ProgramRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest_version(self) -> int:
        """The newest version number (0: none saved); reads the primary key index only."""
        return int(await self.session.scalar(select(func.max(ProgramVersion.version))) or 0)

    async def latest(self) -> ProgramVersion | None:
        return await self.session.scalar(select(ProgramVersion).order_by(ProgramVersion.version.desc()).limit(1))

    async def has_chat_edits(self) -> bool:
        found = await self.session.scalar(select(ProgramVersion.version).where(ProgramVersion.source == "chat").limit(1))
        return found is not None

    async def add(self, *, version: int, document: dict[str, Any], source: str, actor_id: int | None,
                  now: datetime) -> None:
        """Insert `version`; two writers racing for the same number collide on the primary key."""
        self.session.add(ProgramVersion(version=version, document=document, source=source, actor_id=actor_id,
                                        created_at=now))
        await self.session.flush()
