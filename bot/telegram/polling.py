"""Long polling that finishes what it started.

aiogram's `start_polling` confirms updates before handling them and, on
SIGTERM, cancels polling and closes the HTTP session without waiting for
the handler tasks still running, so a restart can drop a cashier's /award
halfway. This loop stops asking for updates when told to, waits for the
updates in flight, and confirms only what was handled (SPEC §7).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates
from aiogram.types import Update

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 64
DRAIN_TIMEOUT = 60.0


async def poll(dispatcher: Dispatcher, bot: Bot, stop: asyncio.Event, *, timeout: int = 25) -> None:
    allowed = dispatcher.resolve_used_update_types()
    offset: int | None = None
    in_flight: set[asyncio.Task[None]] = set()
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    failures = 0

    async def handle(update: Update) -> None:
        try:
            await dispatcher.feed_update(bot, update)
        except Exception:
            log.exception("update %s failed", update.update_id)
        finally:
            slots.release()

    while not stop.is_set():
        request = asyncio.ensure_future(
            bot(GetUpdates(offset=offset, timeout=timeout, allowed_updates=allowed), request_timeout=timeout + 15)
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not request.done():
            # Updates this request may have fetched are not confirmed yet:
            # Telegram hands them out again to the next poll.
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
        for update in updates:
            offset = update.update_id + 1
            await slots.acquire()
            task = asyncio.create_task(handle(update))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

    if in_flight:
        log.info("finishing %d update(s) in flight", len(in_flight))
        await asyncio.wait(in_flight, timeout=DRAIN_TIMEOUT)
    if offset is not None:
        # Confirm what was handled; `limit=1` fetches at most one update,
        # which stays unconfirmed and comes back after the restart.
        with contextlib.suppress(Exception):
            await bot(GetUpdates(offset=offset, limit=1, timeout=0))
