from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiKey
from storage.sql import affected, insert_ignoring_conflicts


class ApiKeyRepository:
    """Keys of the shop's systems; only hashes (SPEC §9.1)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, *, name: str, prefix: str, key_hash: str, scopes: list[str], now: datetime) -> bool:
        """False when an active key already has this name."""
        values = {"name": name, "prefix": prefix, "key_hash": key_hash, "scopes": scopes, "created_at": now}
        stmt = insert_ignoring_conflicts(self.session, ApiKey, values).returning(ApiKey.id)
        return await self.session.scalar(stmt) is not None

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))

    async def all(self) -> list[ApiKey]:
        return list(await self.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name)))

    async def revoke(self, name: str, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(ApiKey)
            .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    async def touch(self, key_id: int, *, now: datetime) -> None:
        await self.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
