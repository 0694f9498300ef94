from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionToken
from storage.sql import affected


class TokenRepository:
    """One-time tokens behind buttons that change points (SPEC §7)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(self, telegram_id: int, action: str, payload: dict[str, Any], *, now: datetime) -> str:
        token = secrets.token_urlsafe(9)  # 12 characters, fits callback_data with room to spare
        self.session.add(
            ActionToken(token=token, telegram_id=telegram_id, action=action, payload=payload, created_at=now)
        )
        return token

    async def peek(self, token: str, telegram_id: int, action: str) -> ActionToken | None:
        row = await self.session.get(ActionToken, token)
        if row is None or row.telegram_id != telegram_id or row.action != action:
            return None
        return row

    async def consume(self, token: str, telegram_id: int, action: str, *, now: datetime) -> bool:
        """Mark the token used; False if unknown, someone else's, or used already."""
        stmt = (
            update(ActionToken)
            .where(
                ActionToken.token == token,
                ActionToken.telegram_id == telegram_id,
                ActionToken.action == action,
                ActionToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return affected(result) == 1
