"""The polling loop in process, against the stand-in: an update is confirmed only
once it and every update before it were handled, and one chat's backlog does not
hold up another chat."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import App
from bot.telegram.flood import UserBudget
from bot.telegram.polling import FairQueues, Watermark, poll
from standin import BotAPIStandIn
from tests.support import EMMA, SARA, Chat

# -- the bookkeeping -----------------------------------------------------------------


def test_the_watermark_stops_at_the_oldest_unhandled_update() -> None:
    mark = Watermark()
    assert mark.offset is None and not mark.holding
    for update_id in (7, 8, 9):
        mark.receive(update_id)
    assert mark.offset == 7 and mark.holding
    mark.handled(8)
    mark.handled(9)
    assert mark.offset == 7  # 8 and 9 are done, but 7 is not: confirming them would confirm 7
    mark.handled(7)
    assert mark.offset == 10 and not mark.holding
    assert mark.is_held(9)  # Telegram may still send 9 back until a request with offset 10 went out
    mark.confirmed(10)
    assert not mark.is_held(9)


def test_chats_take_turns_one_update_each() -> None:
    queues = FairQueues()
    for n in range(3):
        queues.put("flooder", n)  # type: ignore[arg-type]
    queues.put("other", 100)  # type: ignore[arg-type]
    order = []
    while not queues.ready.empty():
        chat = queues.ready.get_nowait()
        order.append((chat, queues.take(chat)))
        queues.release(chat)
    assert order == [("flooder", 0), ("other", 100), ("flooder", 1), ("flooder", 2)]


def test_a_chat_has_one_update_in_a_handler_at_a_time() -> None:
    queues = FairQueues()
    queues.put("a", 1)  # type: ignore[arg-type]
    chat = queues.ready.get_nowait()
    queues.take(chat)
    queues.put("a", 2)  # type: ignore[arg-type]
    assert queues.ready.empty()  # "a" is busy: its next update waits for the first
    queues.release("a")
    assert queues.ready.get_nowait() == "a"


# -- the loop --------------------------------------------------------------------------


class SlowFor(BotAPIStandIn):
    """sendMessage to one chat waits until the test lets it go."""

    def __init__(self, slow_chat: int) -> None:
        super().__init__()
        self.slow_chat = slow_chat
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def handle(self, method: str, params: Any) -> tuple[int, dict[str, Any]]:
        if method.lower() == "sendmessage" and str(params.get("chat_id")) == str(self.slow_chat):
            self.started.set()
            await self.release.wait()
        return await super().handle(method, params)


@contextlib.asynccontextmanager
async def polling(app: App) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(poll(app.dispatcher, app.bot, stop, timeout=1))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
def standin() -> BotAPIStandIn:
    return SlowFor(EMMA.id)


async def test_an_update_stays_unconfirmed_until_it_was_handled(app: App, standin: SlowFor, chat: Chat) -> None:
    for person in (EMMA, SARA):
        chat.register(person)
    async with polling(app):
        standin.send_text(EMMA.id, "/help")  # update 1: its reply hangs
        await asyncio.wait_for(standin.started.wait(), 10)
        standin.send_text(SARA.id, "/help")  # update 2: answered at once
        await standin.wait_for_messages(SARA.id, timeout=10)
        await asyncio.sleep(0.6)  # a few polls go by
        assert [u["update_id"] for u in standin.pending_updates()] == [1, 2]  # a crash now loses nothing
        standin.release.set()
        await standin.wait_for_messages(EMMA.id, timeout=10)
        await standin.wait_until_idle(timeout=10)
        assert standin.pending_updates() == []
    assert len(standin.messages(EMMA.id)) == 1 and len(standin.messages(SARA.id)) == 1


async def test_a_backlog_in_one_chat_does_not_hold_up_another(app: App, standin: SlowFor, chat: Chat) -> None:
    standin.release.set()
    app.flood_guard.budget = UserBudget(capacity=10_000)  # fairness alone, not the budget
    for person in (EMMA, SARA):
        chat.register(person)
    for _ in range(79):
        standin.send_text(EMMA.id, "/help")
    standin.send_text(SARA.id, "/help")  # the 80th update
    for _ in range(60):
        standin.send_text(EMMA.id, "/help")
    async with polling(app):
        await standin.wait_for_messages(SARA.id, timeout=30, after=0)
        emma_before_sara = len(standin.messages(EMMA.id))
        await standin.wait_for_messages(EMMA.id, count=139, timeout=60, after=0)
        await standin.wait_until_idle(timeout=10)
    # Before: 64 of Emma's updates took every slot and Sara's waited for 16 of them.
    assert emma_before_sara < 10
    replies = standin.messages(EMMA.id)
    assert len(replies) == 139 and standin.pending_updates() == []
