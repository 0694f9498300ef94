"""Delivers the outbox (SPEC §5): paced, retried, exactly once per logical key.

This is the state machine; the Telegram side (`bot.telegram.outbox_sender`)
only renders a row, sends it and says what the call came to (a
`SendResult`), through the `Courier` protocol below.

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

Every step is its own unit of work, committed before the next one starts.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from bot.domain.delivery import CONSENT_CATEGORIES, QUIET_CATEGORIES, DeliveryStatus, SendOutcome, SendResult
from bot.services.ports import Context, UnitOfWork

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
MAX_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=5)  # a send never takes this long: such a claim was abandoned
RECOVER_EVERY = 60.0  # seconds between two sweeps for abandoned claims
LEASE = "sender"
LEASE_TTL = timedelta(seconds=20)
IDLE_WAIT = 1.0  # seconds the holder sleeps when nothing is due (a wake-up cuts it short)
STANDBY_WAIT = 5.0  # seconds a replica without the lease waits before asking again
UNAUTHORIZED_WAIT = 60.0  # seconds before a row refused for the token is tried again

Hook = Callable[[Context], Awaitable[object]]
Message = TypeVar("Message")  # what the courier renders a row into; opaque here


# -- what the state machine needs from storage (structural; storage's classes fit) --
class OutboxRow(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def chat_id(self) -> int: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def payload(self) -> dict[str, Any]: ...


class Recipient(Protocol):
    @property
    def language(self) -> str: ...
    @property
    def marketing_opt_in(self) -> bool: ...
    @property
    def blocked_at(self) -> datetime | None: ...
    @property
    def forgotten_at(self) -> datetime | None: ...


class Lease(Protocol):
    @property
    def holder(self) -> str: ...


class OutboxStore(Protocol):
    async def lease(self, name: str) -> Lease | None: ...

    async def take_lease(
        self, name: str, *, holder: str, now: datetime, until: datetime, replacing: str | None = None
    ) -> bool: ...

    async def release_lease(self, name: str, *, holder: str) -> None: ...

    async def mark_orphans_unknown(self, *, worker: str) -> int: ...

    async def mark_stale_as_unknown(self, *, now: datetime, older_than: timedelta) -> int: ...

    async def due_rows(self, *, now: datetime, limit: int) -> list[tuple[int, int]]: ...

    async def defer(self, categories: Iterable[str], *, until: datetime) -> int: ...

    async def claim(self, message_id: int, *, worker: str, now: datetime) -> OutboxRow | None: ...

    async def finish(
        self, message_id: int, status: DeliveryStatus, *, now: datetime, error: str | None = None
    ) -> None: ...

    async def retry_later(self, message_id: int, *, not_before: datetime, error: str | None = None) -> None: ...


class MemberStore(Protocol):
    async def by_id(self, member_id: int) -> Recipient | None: ...

    async def set_fields(self, member_id: int, **values: Any) -> None: ...


def _outbox(uow: UnitOfWork) -> OutboxStore:
    store: OutboxStore = uow.outbox
    return store


def _members(uow: UnitOfWork) -> MemberStore:
    store: MemberStore = uow.members
    return store


# -- the Telegram side ---------------------------------------------------------------
class CannotRender(Exception):
    """The row cannot become a message (unknown kind, bad payload): it is `failed`."""


class Courier(Protocol[Message]):
    async def load(self, uow: UnitOfWork, row: OutboxRow, recipient: Recipient | None) -> dict[str, Any]:
        """The payload to render, completed from the database inside the claim's unit of work."""
        ...

    def render(self, row: OutboxRow, recipient: Recipient | None, payload: dict[str, Any]) -> Message:
        """The message in the recipient's language; raises CannotRender."""
        ...

    async def send(self, row: OutboxRow, message: Message) -> SendResult:
        """One call to Telegram, classified; never raises."""
        ...


# -- what a send does to its row ---------------------------------------------------------
@dataclass(frozen=True)
class Finish:
    status: DeliveryStatus
    error: str | None


@dataclass(frozen=True)
class Retry:
    delay: float  # seconds
    error: str | None
    counts: bool = True  # counts toward MAX_ATTEMPTS (a 429 or a bad token does not)


def backoff(attempts: int) -> float:
    return float(min(300, 2**attempts))


def after_send(result: SendResult, attempts: int) -> Finish | Retry:
    """The transition a send's outcome makes; `attempts` includes this one."""
    match result.outcome:
        case SendOutcome.SENT:
            return Finish(DeliveryStatus.SENT, None)
        case SendOutcome.RATE_LIMITED:
            return Retry(result.retry_after, result.error, counts=False)
        case SendOutcome.BLOCKED:
            return Finish(DeliveryStatus.BLOCKED, result.error)
        case SendOutcome.REJECTED:
            return Finish(DeliveryStatus.FAILED, result.error)
        case SendOutcome.UNAUTHORIZED:
            return Retry(UNAUTHORIZED_WAIT, result.error, counts=False)
        case SendOutcome.NOT_TAKEN:  # Telegram certainly did not take it: try again later
            return Retry(backoff(attempts), result.error)
        case SendOutcome.IN_DOUBT:  # it may have arrived: never resend
            return Finish(DeliveryStatus.UNKNOWN, result.error)


@dataclass
class DrainReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    opted_out: int = 0
    unknown: int = 0
    retried: int = 0
    deferred: int = 0

    def count(self, status: DeliveryStatus | None) -> None:
        """Count one delivery step: a final status, PENDING (retried later) or None (another sender took it)."""
        if status is DeliveryStatus.PENDING:
            self.retried += 1
        elif status is not None and status.value in _FINAL_COUNTS:
            setattr(self, status.value, getattr(self, status.value) + 1)

    def add(self, other: DrainReport) -> None:
        for name in (*_FINAL_COUNTS, "retried", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def processed(self) -> int:
        return self.sent + self.blocked + self.failed + self.opted_out + self.unknown


_FINAL_COUNTS = tuple(
    status.value
    for status in (
        DeliveryStatus.SENT,
        DeliveryStatus.BLOCKED,
        DeliveryStatus.FAILED,
        DeliveryStatus.OPTED_OUT,
        DeliveryStatus.UNKNOWN,
    )
)


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


class OutboxSender(Generic[Message]):
    def __init__(
        self,
        ctx: Context,
        courier: Courier[Message],
        *,
        rate: float,
        concurrency: int | None = None,
        worker: str | None = None,
        hooks: Iterable[Hook] = (),
    ) -> None:
        self.ctx = ctx
        self.courier = courier
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
            outbox = _outbox(uow)
            current = await outbox.lease(LEASE)
            replacing = None
            if current is not None and current.holder != self.worker and holder_is_dead(current.holder):
                replacing = current.holder
            held = await outbox.take_lease(LEASE, holder=self.worker, now=now, until=now + LEASE_TTL, replacing=replacing)
            orphans = 0
            if held and self._lease_until is None:
                # Newly in charge: whatever another sender left in flight is in doubt.
                orphans = await outbox.mark_orphans_unknown(worker=self.worker)
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
            await _outbox(uow).release_lease(LEASE, holder=self.worker)
            await uow.commit()

    async def lease_holder(self) -> str | None:
        async with self.ctx.uow(readonly=True) as uow:
            lease = await _outbox(uow).lease(LEASE)
        return lease.holder if lease is not None else None

    async def recover(self) -> int:
        """Rows claimed long ago whose outcome nobody recorded become `unknown` (SPEC §5)."""
        self._last_recovery = time.monotonic()
        async with self.ctx.uow() as uow:
            stale = await _outbox(uow).mark_stale_as_unknown(now=self.ctx.now(), older_than=STALE_AFTER)
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
            due = await _outbox(uow).due_rows(now=self.ctx.now(), limit=1)
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
            deferred = await _outbox(uow).defer(QUIET_CATEGORIES, until=end.astimezone(UTC))
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
            due = await _outbox(uow).due_rows(now=self.ctx.now(), limit=self.batch)
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
    async def _deliver(self, message_id: int) -> DeliveryStatus | None:
        """Claim, send and record one row; None when another sender claimed it first."""
        async with self.ctx.uow() as uow:
            row = await _outbox(uow).claim(message_id, worker=self.worker, now=self.ctx.now())
            if row is None:
                return None
            recipient = await _members(uow).by_id(row.member_id) if row.member_id else None
            payload: dict[str, Any] | None
            try:
                payload = await self.courier.load(uow, row, recipient)
            except Exception as exc:  # e.g. the broadcast row is gone
                log.error("cannot load data for outbox row %s (%s): %r", row.id, row.kind, exc)
                payload = None
            await uow.commit()
        if payload is None:
            return await self._finish(row, Finish(DeliveryStatus.FAILED, "load: data missing"))
        return await self._attempt(row, recipient, payload)

    async def _attempt(self, row: OutboxRow, recipient: Recipient | None, payload: dict[str, Any]) -> DeliveryStatus:
        if recipient is not None and (recipient.blocked_at is not None or recipient.forgotten_at is not None):
            return await self._finish(row, Finish(DeliveryStatus.BLOCKED, "member blocked the bot or was erased"))
        if row.category in CONSENT_CATEGORIES and (recipient is None or not recipient.marketing_opt_in):
            return await self._finish(row, Finish(DeliveryStatus.OPTED_OUT, None))
        try:
            message = self.courier.render(row, recipient, payload)
        except CannotRender as exc:
            return await self._finish(row, Finish(DeliveryStatus.FAILED, f"render: {exc}"))
        await self.limiter.acquire()
        result = await self.courier.send(row, message)
        if result.outcome is SendOutcome.RATE_LIMITED:
            self.limiter.pause(result.retry_after)
        elif result.outcome is SendOutcome.BLOCKED:
            await self._mark_blocked(row)
        step = after_send(result, row.attempts)
        if isinstance(step, Retry):
            return await self._retry(row, step)
        return await self._finish(row, step)

    async def _finish(self, row: OutboxRow, step: Finish) -> DeliveryStatus:
        async with self.ctx.uow() as uow:
            await _outbox(uow).finish(row.id, step.status, now=self.ctx.now(), error=step.error)
            await uow.commit()
        return step.status

    async def _retry(self, row: OutboxRow, step: Retry) -> DeliveryStatus:
        if step.counts and row.attempts >= MAX_ATTEMPTS:
            return await self._finish(
                row, Finish(DeliveryStatus.FAILED, f"gave up after {row.attempts} attempts: {step.error}")
            )
        async with self.ctx.uow() as uow:
            await _outbox(uow).retry_later(
                row.id, not_before=self.ctx.now() + timedelta(seconds=step.delay), error=step.error
            )
            await uow.commit()
        return DeliveryStatus.PENDING

    async def _mark_blocked(self, row: OutboxRow) -> None:
        if row.member_id is None:
            return
        async with self.ctx.uow() as uow:
            await _members(uow).set_fields(row.member_id, blocked_at=self.ctx.now())
            await uow.commit()
