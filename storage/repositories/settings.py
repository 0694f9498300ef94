from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Setting


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str, default: Any = None) -> Any:
        row = await self.session.get(Setting, key)
        return row.value if row is not None else default

    async def put(self, key: str, value: Any, *, now: datetime) -> None:
        row = await self.session.get(Setting, key)
        if row is None:
            self.session.add(Setting(key=key, value=value, updated_at=now))
        else:
            row.value = value
            row.updated_at = now
