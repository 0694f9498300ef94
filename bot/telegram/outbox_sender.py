"""Delivers the outbox (SPEC §5): paced, retried, exactly once per logical key.

Each row is claimed (pending → sending, committed) right before its send
and marked sent only after Telegram accepted it. A crash therefore leaves
at most the in-flight rows in `sending`; on the next start they become
`unknown` and are never resent, while everything still `pending` is
delivered. Pacing: `BROADCAST_RATE` messages per second overall, one per
second per chat, and a full stop for `retry_after` seconds on HTTP 429.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n

from bot.telegram.notices import UnknownNotice, render
from bot.telegram.render import Fmt

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
MAX_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=10)


@dataclass
class DrainReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    opted_out: int = 0
    unknown: int = 0
    retried: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        if status == "pending":
            self.retried += 1
        elif hasattr(self, status):
            setattr(self, status, getattr(self, status) + 1)

    @property
    def processed(self) -> int:
        return self.sent + self.blocked + self.failed + self.opted_out + self.unknown


class RateLimiter:
    """Evenly spaced permits at `rate` per second; `pause()` stops all permits."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = time.monotonic()
            self._next = max(self._next, now) + self.interval

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()) & 0xFFFF:x}"[:64]


class OutboxSender:
    def __init__(
        self, ctx: Any, bot: Bot, i18n: I18n, *, rate: float, concurrency: int | None = None, worker: str | None = None
    ) -> None:
        self.ctx = ctx
        self.bot = bot
        self.i18n = i18n
        self.limiter = RateLimiter(rate)
        # Enough parallel sends to keep the rate up when Telegram is ~100 ms away.
        self.concurrency = concurrency or max(1, min(32, int(rate // 4) + 1))
        self.worker = worker or worker_name()
        self.wake = asyncio.Event()
        self._chat_free_at: dict[int, float] = {}

    # -- loop ------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; sleeps until woken or a second passes."""
        await self.recover()
        while not stop.is_set():
            try:
                report = await self.drain_once()
            except Exception:  # keep the sender alive through a database hiccup
                log.exception("outbox pass failed")
                report = DrainReport()
            if report.processed == 0 and report.retried == 0:
                self.wake.clear()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
                await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def recover(self) -> int:
        """Rows a dead sender left in `sending` become `unknown` (SPEC §5)."""
        async with self.ctx.uow() as uow:
            stale = await uow.outbox.mark_stale_as_unknown(now=self.ctx.now(), older_than=STALE_AFTER)
            await uow.commit()
        if stale:
            log.warning("%d outbox messages were in flight when a sender stopped; marked unknown", stale)
        return stale

    async def drain(self) -> DrainReport:
        """Send everything due now, then return (`wafa run-job outbox`, tests)."""
        total = DrainReport()
        while True:
            report = await self.drain_once()
            for name in ("sent", "blocked", "failed", "opted_out", "unknown", "retried"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.processed == 0 and report.retried == 0 and not await self._waiting_on_pacing():
                return total

    async def _waiting_on_pacing(self) -> bool:
        """Due rows held back only by per-chat pacing: wait for the next chat slot."""
        async with self.ctx.uow() as uow:
            due = await uow.outbox.due_rows(now=self.ctx.now(), limit=1)
        if not due:
            return False
        free_at = min(self._chat_free_at.values(), default=time.monotonic())
        await asyncio.sleep(max(0.0, free_at - time.monotonic()) + 0.01)
        return True

    async def drain_once(self, batch: int = 200) -> DrainReport:
        report = DrainReport()
        async with self.ctx.uow() as uow:
            due = await uow.outbox.due_rows(now=self.ctx.now(), limit=batch)
        now = time.monotonic()
        picked: list[tuple[int, int]] = []
        for message_id, chat_id in due:
            if self._chat_free_at.get(chat_id, 0.0) > now:
                continue
            self._chat_free_at[chat_id] = now + 3600  # reserved until its send finishes
            picked.append((message_id, chat_id))
        if not picked:
            return report
        semaphore = asyncio.Semaphore(self.concurrency)

        async def deliver(message_id: int, chat_id: int) -> None:
            async with semaphore:
                try:
                    report.count(await self._deliver(message_id))
                finally:
                    self._chat_free_at[chat_id] = time.monotonic() + PER_CHAT_INTERVAL

        await asyncio.gather(*(deliver(message_id, chat_id) for message_id, chat_id in picked))
        self._forget_idle_chats()
        return report

    def _forget_idle_chats(self) -> None:
        now = time.monotonic()
        for chat_id in [c for c, t in self._chat_free_at.items() if t < now]:
            del self._chat_free_at[chat_id]

    # -- one message -----------------------------------------------------------
    async def _deliver(self, message_id: int) -> str:
        async with self.ctx.uow() as uow:
            row = await uow.outbox.claim(message_id, worker=self.worker, now=self.ctx.now())
            if row is None:
                return "skipped"  # another sender took it
            recipient = await uow.members.by_id(row.member_id) if row.member_id else None
            await uow.commit()
        status, _error = await self._attempt(row, recipient)
        return status

    async def _attempt(self, row: Any, recipient: Any) -> tuple[str, str | None]:
        if recipient is not None and (recipient.blocked_at is not None or recipient.forgotten_at is not None):
            return await self._finish(row, "blocked", "member blocked the bot or was erased")
        if row.category == "marketing" and (recipient is None or not recipient.marketing_opt_in):
            return await self._finish(row, "opted_out", None)
        lang = recipient.language if recipient is not None else row.payload.get("lang", self.i18n.default_locale)
        try:
            with self.i18n.context(), self.i18n.use_locale(lang):
                message = render(row.kind, row.payload, Fmt(lang, self.ctx.program.display, self.ctx.zone), self.ctx)
        except (UnknownNotice, KeyError, ValueError) as exc:
            log.error("cannot render outbox row %s (%s): %r", row.id, row.kind, exc)
            return await self._finish(row, "failed", f"render: {exc!r}")
        await self.limiter.acquire()
        try:
            if message.photo is not None:
                await self.bot.send_photo(
                    row.chat_id,
                    BufferedInputFile(message.photo, filename="wafa.png"),
                    caption=message.text,
                    reply_markup=message.reply_markup,
                )
            else:
                await self.bot.send_message(row.chat_id, message.text, reply_markup=message.reply_markup)
        except TelegramRetryAfter as exc:
            self.limiter.pause(exc.retry_after)
            return await self._retry(row, exc.retry_after, f"429 retry after {exc.retry_after}s")
        except TelegramForbiddenError as exc:
            await self._mark_blocked(row)
            return await self._finish(row, "blocked", exc.message)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            return await self._finish(row, "failed", exc.message)
        except TelegramUnauthorizedError as exc:
            log.error("Telegram rejected the bot token: %s", exc.message)
            return await self._retry(row, 60, exc.message, count_attempt=False)
        except TelegramNetworkError as exc:
            if "timeout" in exc.message.lower():
                # The request may have reached Telegram: its fate is unknown, never resend.
                return await self._finish(row, "unknown", exc.message)
            return await self._retry(row, self._backoff(row.attempts), exc.message)
        except TelegramAPIError as exc:  # 5xx and anything else Telegram said no to, for now
            return await self._retry(row, self._backoff(row.attempts), exc.message)
        return await self._finish(row, "sent", None)

    @staticmethod
    def _backoff(attempts: int) -> float:
        return float(min(300, 2 ** attempts))

    async def _finish(self, row: Any, status: str, error: str | None) -> tuple[str, str | None]:
        async with self.ctx.uow() as uow:
            await uow.outbox.finish(row.id, status, now=self.ctx.now(), error=error)
            await uow.commit()
        return status, error

    async def _retry(
        self, row: Any, delay: float, error: str, *, count_attempt: bool = True
    ) -> tuple[str, str | None]:
        if count_attempt and row.attempts >= MAX_ATTEMPTS:
            return await self._finish(row, "failed", f"gave up after {row.attempts} attempts: {error}")
        async with self.ctx.uow() as uow:
            await uow.outbox.retry_later(row.id, not_before=self.ctx.now() + timedelta(seconds=delay), error=error)
            await uow.commit()
        return "pending", error

    async def _mark_blocked(self, row: Any) -> None:
        if row.member_id is None:
            return
        async with self.ctx.uow() as uow:
            await uow.members.set_fields(row.member_id, blocked_at=self.ctx.now())
            await uow.commit()
