"""Long polling that loses nothing and lets no chat starve the others.

aiogram's `start_polling` confirms an update (asks for the next offset)
before its handler has run, so a SIGKILL mid-`/award` loses an update
Telegram will never send again. Here:

- **Confirm only what was handled.** Telegram confirms every update below
  the `offset` of a getUpdates call, so the offset is the *handled
  watermark*: the oldest update still waiting or running. After a crash
  Telegram hands out everything from there again; updates that were handled
  already are safe to repeat (idempotency keys, one-time button tokens).
- **Per-chat order, fair between chats.** Each chat has its own queue and at
  most one update in a handler at a time (its replies keep their order);
  `MAX_IN_FLIGHT` workers take chats round-robin, one update per turn, so
  one chat's backlog holds one worker and never the others.
- **The price of the watermark.** getUpdates returns at most 100 updates
  from the offset on, so while the oldest update is still running, only the
  next 100 can be fetched. The per-user budget (`bot.telegram.flood`) keeps a
  flooder's backlog cheap, and `HANDLER_TIMEOUT` bounds a handler that hangs.
- **Stopping.** On stop no new update starts; the ones running finish
  (up to `DRAIN_TIMEOUT`) and the watermark is confirmed; queued ones come
  back after the restart (SPEC §7).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Hashable

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates
from aiogram.types import Update

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 64  # updates in handlers at once (each from a different chat)
DRAIN_TIMEOUT = 60.0
HANDLER_TIMEOUT = 300.0  # an update still running after this is abandoned (logged), so the watermark moves on
FETCH_LIMIT = 100  # Telegram's maximum per getUpdates
HELD_POLL_INTERVAL = 0.25  # seconds between polls while updates are held unconfirmed


def chat_of(update: Update) -> Hashable:
    """The conversation an update belongs to: its chat, else its sender, else itself."""
    try:
        event: object = update.event
    except LookupError:  # a kind this aiogram does not know
        return ("update", update.update_id)
    chat = getattr(event, "chat", None)
    if chat is None:
        message = getattr(event, "message", None)  # a callback query's message
        chat = getattr(message, "chat", None)
    if chat is not None:
        return int(chat.id)
    sender = getattr(event, "from_user", None)
    if sender is not None:
        return int(sender.id)
    return ("update", update.update_id)


class Watermark:
    """Which updates were received and which of them were handled.

    `offset` is what the next getUpdates may confirm: every update below it
    has been handled; it never passes an update still queued or running.
    """

    def __init__(self) -> None:
        self._pending: deque[int] = deque()  # received, not yet confirmable, in update order
        self._held: set[int] = set()  # received and not yet confirmed: a repeat of one of these is no news
        self._handled: set[int] = set()
        self._next: int | None = None
        self.moved = asyncio.Event()

    def is_held(self, update_id: int) -> bool:
        return update_id in self._held

    def receive(self, update_id: int) -> None:
        self._pending.append(update_id)
        self._held.add(update_id)

    def handled(self, update_id: int) -> None:
        self._handled.add(update_id)
        advanced = False
        while self._pending and self._pending[0] in self._handled:
            done = self._pending.popleft()
            self._handled.discard(done)
            self._next = done + 1
            advanced = True
        if advanced:
            self.moved.set()

    def confirmed(self, offset: int | None) -> None:
        """A getUpdates with `offset` reached Telegram: updates below it are gone for good."""
        if offset is not None:
            self._held = {held for held in self._held if held >= offset}

    @property
    def offset(self) -> int | None:
        return self._pending[0] if self._pending else self._next

    @property
    def holding(self) -> bool:
        """Some received update is not handled yet: Telegram still holds it for us."""
        return bool(self._pending)


class FairQueues:
    """One FIFO per chat; chats with work wait their turn in `ready`, one update per turn."""

    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[Update]] = {}
        self._busy: set[Hashable] = set()
        self.ready: asyncio.Queue[Hashable] = asyncio.Queue()

    def put(self, chat: Hashable, update: Update) -> None:
        queue = self._queues.setdefault(chat, deque())
        queue.append(update)
        if len(queue) == 1 and chat not in self._busy:
            self.ready.put_nowait(chat)

    def take(self, chat: Hashable) -> Update:
        self._busy.add(chat)
        return self._queues[chat].popleft()

    def release(self, chat: Hashable) -> None:
        self._busy.discard(chat)
        if self._queues.get(chat):
            self.ready.put_nowait(chat)  # to the back: every other waiting chat goes first
        else:
            self._queues.pop(chat, None)

    @property
    def running(self) -> int:
        return len(self._busy)


async def poll(
    dispatcher: Dispatcher, bot: Bot, stop: asyncio.Event, *, timeout: int = 25, workers: int = MAX_IN_FLIGHT
) -> None:
    allowed = dispatcher.resolve_used_update_types()
    mark = Watermark()
    queues = FairQueues()
    closing = False
    idle = asyncio.Event()
    idle.set()
    failures = 0

    async def work() -> None:
        while True:
            chat = await queues.ready.get()
            if closing:
                continue  # stays unconfirmed: Telegram sends it again after the restart
            update = queues.take(chat)
            idle.clear()
            try:
                await asyncio.wait_for(dispatcher.feed_update(bot, update), HANDLER_TIMEOUT)
            except TimeoutError:
                log.error("update %s still running after %ss: abandoned", update.update_id, HANDLER_TIMEOUT)
            except Exception:
                log.exception("update %s failed", update.update_id)
            finally:
                mark.handled(update.update_id)
                queues.release(chat)
                if not queues.running:
                    idle.set()

    pool = [asyncio.create_task(work(), name=f"updates-{n}") for n in range(workers)]
    try:
        while not stop.is_set():
            offset = mark.offset
            holding = mark.holding
            request = asyncio.ensure_future(
                bot(
                    GetUpdates(offset=offset, limit=FETCH_LIMIT, timeout=0 if holding else timeout,
                               allowed_updates=allowed),
                    request_timeout=timeout + 15,
                )
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not request.done():
                # Whatever this request fetched stays unconfirmed and comes back after the restart.
                request.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await request
                break
            try:
                updates = request.result()
            except Exception as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); retrying in %.1fs", exc, delay)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            failures = 0
            mark.confirmed(offset)
            news = [update for update in updates if not mark.is_held(update.update_id)]
            for update in news:
                mark.receive(update.update_id)
                queues.put(chat_of(update), update)
            if not news and mark.holding:
                # Only our own unfinished updates came back: wait for one to finish
                # (or a moment, for new ones) instead of asking again at once.
                mark.moved.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(_first(stop, mark.moved), HELD_POLL_INTERVAL)
    finally:
        closing = True
        if queues.running:
            log.info("finishing %d update(s) in flight", queues.running)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(idle.wait(), DRAIN_TIMEOUT)
        for task in pool:
            task.cancel()
        await asyncio.gather(*pool, return_exceptions=True)
    if mark.offset is not None:
        # Confirm what was handled; `limit=1` fetches at most one update,
        # which stays unconfirmed and comes back after the restart.
        with contextlib.suppress(Exception):
            await bot(GetUpdates(offset=mark.offset, limit=1, timeout=0))


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
