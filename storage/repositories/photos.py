from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PhotoFile
from storage.sql import insert_ignoring_conflicts


class PhotoRepository:
    """Telegram file_ids of pictures uploaded once (by the SHA-256 of their bytes)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def file_id(self, digest: str) -> str | None:
        return await self.session.scalar(select(PhotoFile.file_id).where(PhotoFile.digest == digest))

    async def remember(self, digest: str, *, kind: str, file_id: str, now: datetime) -> None:
        """Store the id of a fresh upload, replacing one Telegram refused."""
        await self.session.execute(delete(PhotoFile).where(PhotoFile.digest == digest))
        await self.session.execute(
            insert_ignoring_conflicts(
                self.session, PhotoFile, {"digest": digest, "kind": kind, "file_id": file_id, "created_at": now}
            )
        )

    async def forget(self, digest: str) -> None:
        await self.session.execute(delete(PhotoFile).where(PhotoFile.digest == digest))
