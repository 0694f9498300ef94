"""Delivers the outbox (SPEC §5): paced, retried, exactly once per logical key.

- **One sender at a time.** Every replica runs this loop, but only the
  holder of the `outbox_lease` row delivers, so `BROADCAST_RATE` and one
  message per second per chat hold across replicas. The lease lasts
  `LEASE_TTL` and is renewed while the holder lives; a sender on this host
  whose process is gone is replaced at once, one elsewhere when its lease
  runs out.
- **Never twice.** Each row is claimed (pending → sending, committed) right
  before its send and marked sent only after Telegram accepted it. A crash
  leaves at most the in-flight rows in `sending`; the next lease holder
  marks them `unknown` and never resends them (they may have arrived).
  Everything still `pending` is delivered.
- **Pacing.** `BROADCAST_RATE` messages per second overall (evenly spaced),
  one per second per chat, and a full stop for `retry_after` seconds on
  HTTP 429.
- **Failures.** 403 marks the member as having blocked the bot (their
  other messages end as `blocked` without a call); other 4xx are `failed`;
  5xx and connections that never opened are retried with exponential
  backoff; a timeout or a dropped connection after the request left is
  `unknown` (Telegram may have delivered it).
- **Consent and quiet hours** (`bot.domain.delivery`): marketing goes only
  to members who opted in; reminders and marketing due inside the program's
  quiet hours (merchant time) wait for their end; service messages never wait.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n

from bot.domain.delivery import CONSENT_CATEGORIES, QUIET_CATEGORIES
from bot.telegram import scheduled_notices  # noqa: F401  (registers the scheduled messages' renderers)
from bot.telegram.notices import UnknownNotice, load_data, render
from bot.telegram.render import Fmt
from bot.telegram.retries import never_left, without_retries

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
MAX_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=5)  # a send never takes this long: such a claim was abandoned
RECOVER_EVERY = 60.0  # seconds between two sweeps for abandoned claims
LEASE = "sender"
LEASE_TTL = timedelta(seconds=20)
IDLE_WAIT = 1.0  # seconds the holder sleeps when nothing is due (a wake-up cuts it short)
STANDBY_WAIT = 5.0  # seconds a replica without the lease waits before asking again

Hook = Callable[[Any], Awaitable[int]]


@dataclass
class DrainReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    opted_out: int = 0
    unknown: int = 0
    retried: int = 0
    deferred: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        if status == "pending":
            self.retried += 1
        elif hasattr(self, status):
            setattr(self, status, getattr(self, status) + 1)

    def add(self, other: DrainReport) -> None:
        for name in ("sent", "blocked", "failed", "opted_out", "unknown", "retried", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def processed(self) -> int:
        return self.sent + self.blocked + self.failed + self.opted_out + self.unknown


class RateLimiter:
    """Evenly spaced permits at `rate` per second; `pause()` stops all permits.

    In any one-second window at most `rate` + 1 permits are given.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            elif now - self._next > self.interval:
                self._next = now  # idle: start a fresh grid, no burst saved up
            # Permits sit on a fixed grid: a sleep that wakes late does not push
            # every later permit back (that drift alone cost ~3% of the rate).
            self._next += self.interval

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{id(object()) & 0xFFFF:x}"[:64]


def holder_is_dead(holder: str) -> bool:
    """True only for a sender of this host whose process no longer exists."""
    parts = holder.split(":")
    if len(parts) < 3 or not parts[-2].isdigit():
        return False
    host, pid = ":".join(parts[:-2]), int(parts[-2])
    if host != socket.gethostname()[:40] or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, someone else's
        return False
    return False


class OutboxSender:
    def __init__(
        self,
        ctx: Any,
        bot: Bot,
        i18n: I18n,
        *,
        rate: float,
        concurrency: int | None = None,
        worker: str | None = None,
        hooks: Iterable[Hook] = (),
    ) -> None:
        self.ctx = ctx
        self.bot = bot
        self.i18n = i18n
        self.rate = rate
        self.limiter = RateLimiter(rate)
        # Enough parallel sends to keep the rate up when Telegram is ~100 ms away.
        self.concurrency = concurrency or max(1, min(32, int(rate // 4) + 1))
        # One pass takes about five seconds at full rate, well inside the lease.
        self.batch = max(1, min(200, int(rate * 5)))
        self.worker = worker or worker_name()
        # Run at the start of every pass: release scheduled broadcasts, report finished ones.
        self.hooks = list(hooks)
        self.wake = asyncio.Event()
        self._chat_free_at: dict[int, float] = {}
        self._lease_until: datetime | None = None
        self._last_recovery = 0.0
        self._pass_lock = asyncio.Lock()

    # -- loop ------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; sleeps until woken or a second passes."""
        try:
            while not stop.is_set():
                wait = IDLE_WAIT
                try:
                    if await self.hold_lease():
                        if time.monotonic() - self._last_recovery > RECOVER_EVERY:
                            await self.recover()
                        report = await self.drain_once()
                        wait = 0 if report.processed or report.retried else IDLE_WAIT
                    else:
                        wait = STANDBY_WAIT
                except Exception:  # keep the sender alive through a database hiccup
                    log.exception("outbox pass failed")
                if wait:
                    await self._sleep(stop, wait)
        finally:
            with contextlib.suppress(Exception):
                await self.release_lease()

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        self.wake.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    # -- the lease -------------------------------------------------------------
    @property
    def holds_lease(self) -> bool:
        return self._lease_until is not None

    async def hold_lease(self) -> bool:
        """Take or renew the sender lease; True while this sender may deliver."""
        now = self.ctx.now()
        if self._lease_until is not None and now < self._lease_until - LEASE_TTL / 2:
            return True
        async with self.ctx.uow() as uow:
            current = await uow.outbox.lease(LEASE)
            replacing = None
            if current is not None and current.holder != self.worker and holder_is_dead(current.holder):
                replacing = current.holder
            held = await uow.outbox.take_lease(
                LEASE, holder=self.worker, now=now, until=now + LEASE_TTL, replacing=replacing
            )
            orphans = 0
            if held and self._lease_until is None:
                # Newly in charge: whatever another sender left in flight is in doubt.
                orphans = await uow.outbox.mark_orphans_unknown(worker=self.worker)
            await uow.commit()
        if orphans:
            log.warning("%d outbox messages were in flight when a sender stopped; marked unknown", orphans)
        self._lease_until = now + LEASE_TTL if held else None
        return held

    async def release_lease(self) -> None:
        if self._lease_until is None:
            return
        self._lease_until = None
        async with self.ctx.uow() as uow:
            await uow.outbox.release_lease(LEASE, holder=self.worker)
            await uow.commit()

    async def lease_holder(self) -> str | None:
        async with self.ctx.uow(readonly=True) as uow:
            lease = await uow.outbox.lease(LEASE)
        return lease.holder if lease is not None else None

    async def recover(self) -> int:
        """Rows claimed long ago whose outcome nobody recorded become `unknown` (SPEC §5)."""
        self._last_recovery = time.monotonic()
        async with self.ctx.uow() as uow:
            stale = await uow.outbox.mark_stale_as_unknown(now=self.ctx.now(), older_than=STALE_AFTER)
            await uow.commit()
        if stale:
            log.warning("%d outbox messages were in flight when a sender stopped; marked unknown", stale)
        return stale

    # -- passes ----------------------------------------------------------------
    async def drain(self) -> DrainReport:
        """Send everything due now, then return (`wafa run-job outbox`, tests, the demo).

        Does nothing while another sender holds the lease.
        """
        total = DrainReport()
        while True:
            if not await self.hold_lease():
                return total
            report = await self.drain_once()
            total.add(report)
            if report.processed == 0 and report.retried == 0 and not await self._waiting_on_pacing():
                return total

    async def _waiting_on_pacing(self) -> bool:
        """Due rows held back only by per-chat pacing: wait for the next chat slot."""
        async with self.ctx.uow(readonly=True) as uow:
            due = await uow.outbox.due_rows(now=self.ctx.now(), limit=1)
        if not due:
            return False
        now = time.monotonic()
        free_at = min(self._chat_free_at.values(), default=now)
        await asyncio.sleep(min(PER_CHAT_INTERVAL, max(0.0, free_at - now)) + 0.01)
        return True

    async def _run_hooks(self) -> None:
        for hook in self.hooks:
            try:
                await hook(self.ctx)
            except Exception:
                log.exception("outbox hook %s failed", getattr(hook, "__name__", hook))

    async def _defer_quiet(self) -> int:
        """Inside quiet hours, reminders and marketing wait for the window's end."""
        quiet = self.ctx.program.messaging.quiet
        if quiet is None:
            return 0
        now = self.ctx.now()
        local = now.astimezone(self.ctx.zone)
        end = quiet.end_after(local)
        if end == local:
            return 0
        async with self.ctx.uow() as uow:
            deferred = await uow.outbox.defer(QUIET_CATEGORIES, until=end.astimezone(timezone.utc))
            await uow.commit()
        return deferred

    async def drain_once(self) -> DrainReport:
        """One pass: hooks, quiet hours, then the due rows (one pass at a time per sender:
        the demo drains by hand while the loop runs)."""
        async with self._pass_lock:
            return await self._pass()

    async def _pass(self) -> DrainReport:
        report = DrainReport()
        await self._run_hooks()
        report.deferred = await self._defer_quiet()
        async with self.ctx.uow(readonly=True) as uow:
            due = await uow.outbox.due_rows(now=self.ctx.now(), limit=self.batch)
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
            try:
                payload = await load_data(row.kind, uow, row, recipient)
            except Exception as exc:  # e.g. the broadcast row is gone
                log.error("cannot load data for outbox row %s (%s): %r", row.id, row.kind, exc)
                payload = None
            await uow.commit()
        if payload is None:
            return (await self._finish(row, "failed", "load: data missing"))[0]
        status, _error = await self._attempt(row, recipient, payload)
        return status

    async def _attempt(self, row: Any, recipient: Any, payload: dict[str, Any]) -> tuple[str, str | None]:
        if recipient is not None and (recipient.blocked_at is not None or recipient.forgotten_at is not None):
            return await self._finish(row, "blocked", "member blocked the bot or was erased")
        if row.category in CONSENT_CATEGORIES and (recipient is None or not recipient.marketing_opt_in):
            return await self._finish(row, "opted_out", None)
        lang = recipient.language if recipient is not None else payload.get("lang", self.i18n.default_locale)
        try:
            with self.i18n.context(), self.i18n.use_locale(lang):
                message = render(row.kind, payload, Fmt(lang, self.ctx.program.display, self.ctx.zone), self.ctx)
        except (UnknownNotice, KeyError, ValueError, TypeError) as exc:
            log.error("cannot render outbox row %s (%s): %r", row.id, row.kind, exc)
            return await self._finish(row, "failed", f"render: {exc!r}")
        await self.limiter.acquire()
        try:
            with without_retries():  # one attempt: this sender classifies every failure itself
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
            return await self._retry(row, exc.retry_after, f"429 retry after {exc.retry_after}s", count_attempt=False)
        except TelegramForbiddenError as exc:
            await self._mark_blocked(row)
            return await self._finish(row, "blocked", exc.message)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            return await self._finish(row, "failed", exc.message)
        except TelegramUnauthorizedError as exc:
            log.error("Telegram rejected the bot token: %s", exc.message)
            return await self._retry(row, 60, exc.message, count_attempt=False)
        except TelegramServerError as exc:  # Telegram answered 5xx: it did not take the message
            return await self._retry(row, self._backoff(row.attempts), exc.message)
        except TelegramNetworkError as exc:
            if never_left(exc):
                return await self._retry(row, self._backoff(row.attempts), exc.message)
            # The request may have reached Telegram: its fate is unknown, never resend.
            return await self._finish(row, "unknown", exc.message)
        except TelegramAPIError as exc:  # any other refusal (e.g. 409): Telegram answered, nothing was sent
            return await self._retry(row, self._backoff(row.attempts), exc.message)
        except Exception as exc:  # an unreadable answer: it may have been delivered
            log.exception("unexpected error sending outbox row %s", row.id)
            return await self._finish(row, "unknown", repr(exc))
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
