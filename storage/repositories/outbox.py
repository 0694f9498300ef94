from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.delivery import OPEN_STATUSES, DeliveryStatus
from storage.models import OutboxLease, OutboxMessage
from storage.sql import affected, insert_ignoring_conflicts

ENQUEUE_CHUNK = 5000


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
        subject_id: int | None = None,
        not_before: datetime | None = None,
        batch: str | None = None,
    ) -> bool:
        """Add a message under its logical key; False if that key exists (already queued or sent)."""
        values = {
            "key": key,
            "chat_id": chat_id,
            "member_id": member_id,
            "subject_id": subject_id,
            "kind": kind,
            "payload": payload,
            "category": category,
            "batch": batch,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
        }
        stmt = insert_ignoring_conflicts(self.session, OutboxMessage, values).returning(OutboxMessage.id)
        return await self.session.scalar(stmt) is not None

    async def set_payload(self, key: str, payload: dict[str, Any]) -> None:
        """Rewrite the payload of a row still waiting (in the transaction that queued it)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == key, OutboxMessage.status == DeliveryStatus.PENDING)
            .values(payload=payload)
            .execution_options(synchronize_session=False)
        )

    async def discard(self, key: str) -> None:
        """Drop a row queued in this transaction that turned out not to be needed."""
        await self.session.execute(
            delete(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status == DeliveryStatus.PENDING)
        )

    async def due_rows(self, *, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(id, chat_id) of pending rows whose time has come, oldest first."""
        stmt = (
            select(OutboxMessage.id, OutboxMessage.chat_id)
            .where(OutboxMessage.status == DeliveryStatus.PENDING, OutboxMessage.not_before <= now)
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
            .where(OutboxMessage.id == message_id, OutboxMessage.status == DeliveryStatus.PENDING)
            .values(
                status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=now, attempts=OutboxMessage.attempts + 1
            )
            .execution_options(synchronize_session=False)
        )
        if affected(result) != 1:
            return None
        return await self.session.get(OutboxMessage, message_id, populate_existing=True)

    async def finish(
        self, message_id: int, status: DeliveryStatus, *, now: datetime, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error[:300] if error else None}
        if status == DeliveryStatus.SENT:
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
            .values(
                status=DeliveryStatus.PENDING,
                not_before=not_before,
                claimed_by=None,
                last_error=error[:300] if error else None,
            )
            .execution_options(synchronize_session=False)
        )

    async def mark_stale_as_unknown(self, *, now: datetime, older_than: timedelta) -> int:
        """Rows claimed long ago whose outcome nobody recorded: a sender died mid-send.

        They may have reached the member, so they are never resent (SPEC §5).
        """
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == DeliveryStatus.SENDING, OutboxMessage.claimed_at < now - older_than)
            .values(status=DeliveryStatus.UNKNOWN)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def by_key(self, key: str) -> OutboxMessage | None:
        return await self.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))

    async def count_by_status(self, batch: str | None = None) -> dict[DeliveryStatus, int]:
        stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if batch is not None:
            stmt = stmt.where(OutboxMessage.batch == batch)
        return {DeliveryStatus(status): int(n) for status, n in (await self.session.execute(stmt)).all()}

    async def next_due_at(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == DeliveryStatus.PENDING)
        )

    async def enqueue_many(self, rows: list[dict[str, Any]], *, now: datetime) -> int:
        """Bulk `enqueue` (one executemany): rows carry key, chat_id, member_id, kind,
        payload, category, batch and optionally status / not_before. Existing keys are
        skipped; returns how many rows were given (not how many were new)."""
        if not rows:
            return 0
        values = [
            {
                "member_id": None,
                "subject_id": None,
                "batch": None,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
                **row,
            }
            for row in rows
        ]
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(OutboxMessage).on_conflict_do_nothing()
        for start in range(0, len(values), ENQUEUE_CHUNK):
            await self.session.execute(statement, values[start : start + ENQUEUE_CHUNK])
        return len(values)

    async def defer(self, categories: Iterable[str], *, until: datetime) -> int:
        """Pending rows of `categories` due before `until` wait until then (quiet hours)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == DeliveryStatus.PENDING,
                OutboxMessage.category.in_(list(categories)),
                OutboxMessage.not_before < until,
            )
            .values(not_before=until)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def mark_orphans_unknown(self, *, worker: str) -> int:
        """Rows left in `sending` by any other sender: the new lease holder takes over,
        so their sender is gone or cut off. Their fate is unknown; never resent."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == DeliveryStatus.SENDING,
                or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != worker),
            )
            .values(status=DeliveryStatus.UNKNOWN)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def batch_is_open(self, batch: str) -> bool:
        """Whether any row of `batch` still waits or is in flight."""
        stmt = (
            select(OutboxMessage.id)
            .where(OutboxMessage.batch == batch, OutboxMessage.status.in_(sorted(OPEN_STATUSES)))
            .limit(1)
        )
        return await self.session.scalar(stmt) is not None

    # -- the sender lease ------------------------------------------------------------
    async def lease(self, name: str) -> OutboxLease | None:
        return await self.session.get(OutboxLease, name, populate_existing=True)

    async def take_lease(
        self, name: str, *, holder: str, now: datetime, until: datetime, replacing: str | None = None
    ) -> bool:
        """Hold (or renew) the lease `name` until `until`.

        Succeeds when nobody holds it, when `holder` already does, when it has
        expired, or when the current holder is exactly `replacing` (a sender
        known to be dead). Compare-and-set in one UPDATE, so two contenders
        cannot both win.
        """
        condition = or_(OutboxLease.holder == holder, OutboxLease.expires_at <= now)
        if replacing is not None:
            condition = or_(condition, OutboxLease.holder == replacing)
        result = await self.session.execute(
            update(OutboxLease)
            .where(OutboxLease.name == name, condition)
            .values(holder=holder, expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if affected(result) == 1:
            return True
        stmt = insert_ignoring_conflicts(
            self.session, OutboxLease, {"name": name, "holder": holder, "expires_at": until}
        ).returning(OutboxLease.name)
        return await self.session.scalar(stmt) is not None

    async def release_lease(self, name: str, *, holder: str) -> None:
        await self.session.execute(
            delete(OutboxLease).where(OutboxLease.name == name, OutboxLease.holder == holder)
        )
