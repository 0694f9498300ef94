from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.sql import insert_ignoring_conflicts


class OutboxRepository:
    """The persistent outbox (SPEC §5): written first, sent later, never twice."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        *,
        key: str,
        chat_id: int,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        category: str = "service",
        member_id: int | None = None,
        not_before: datetime | None = None,
        batch: str | None = None,
    ) -> bool:
        """Add a message under its logical key; False if that key exists (already queued or sent)."""
        values = {
            "key": key,
            "chat_id": chat_id,
            "member_id": member_id,
            "kind": kind,
            "payload": payload,
            "category": category,
            "batch": batch,
            "status": "pending",
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
        }
        stmt = insert_ignoring_conflicts(self.session, OutboxMessage, values).returning(OutboxMessage.id)
        return await self.session.scalar(stmt) is not None

    async def due_rows(self, *, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(id, chat_id) of pending rows whose time has come, oldest first."""
        stmt = (
            select(OutboxMessage.id, OutboxMessage.chat_id)
            .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now)
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        return [(row.id, row.chat_id) for row in (await self.session.execute(stmt)).all()]

    async def claim(self, message_id: int, *, worker: str, now: datetime) -> OutboxMessage | None:
        """Flip one row from pending to sending for `worker`; None if another sender won.

        Claiming one row right before its send (and committing) means a crash
        leaves at most the one in-flight row in doubt; the rest stay pending
        and are delivered after a restart.
        """
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status="sending", claimed_by=worker, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.session.get(OutboxMessage, message_id, populate_existing=True)

    async def finish(self, message_id: int, status: str, *, now: datetime, error: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error[:300] if error else None}
        if status == "sent":
            values["sent_at"] = now
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
            .execution_options(synchronize_session=False)
        )

    async def retry_later(self, message_id: int, *, not_before: datetime, error: str | None = None) -> None:
        """Back to pending: Telegram certainly did not accept it (429, network error before send)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="pending", not_before=not_before, claimed_by=None, last_error=error[:300] if error else None)
            .execution_options(synchronize_session=False)
        )

    async def mark_stale_as_unknown(self, *, now: datetime, older_than: timedelta) -> int:
        """Rows claimed long ago whose outcome nobody recorded: a sender died mid-send.

        They may have reached the member, so they are never resent (SPEC §5).
        """
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - older_than)
            .values(status="unknown")
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def by_key(self, key: str) -> OutboxMessage | None:
        return await self.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))

    async def count_by_status(self, batch: str | None = None) -> dict[str, int]:
        stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if batch is not None:
            stmt = stmt.where(OutboxMessage.batch == batch)
        return {status: int(n) for status, n in (await self.session.execute(stmt)).all()}

    async def next_due_at(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == "pending")
        )
