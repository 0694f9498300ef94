"""Replies survive Telegram's 429 and 5xx: retried at the session level, in order per
chat, without holding up other chats; the outbox keeps its own single attempts."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiohttp import ClientConnectorError
from sqlalchemy import select

from bot.app import App
from bot.telegram.retries import RetryReplies, _handling, without_retries
from standin import BotAPIStandIn, BotMessage
from storage.models import Broadcast, OutboxMessage
from tests.handlers.rewards_support import member_of
from tests.handlers.test_polling import polling
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, Person

# -- the middleware on its own -----------------------------------------------------------


class Script:
    """make_request that answers from a list: exceptions are raised, anything else returned."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[Any] = []

    async def __call__(self, bot: Any, method: Any) -> Any:
        self.calls.append(method)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


MESSAGE = SendMessage(chat_id=1, text="hi")


def too_many(seconds: int) -> TelegramRetryAfter:
    return TelegramRetryAfter(method=MESSAGE, message=f"Too Many Requests: retry after {seconds}", retry_after=seconds)


def bad_gateway() -> TelegramServerError:
    return TelegramServerError(method=MESSAGE, message="Bad Gateway")


@pytest.fixture
def handling() -> Any:
    token = _handling.set(True)
    yield
    _handling.reset(token)


async def test_429_waits_retry_after_and_5xx_backs_off_boundedly(handling: None) -> None:
    sleeps = Sleeps()
    retry = RetryReplies(sleep=sleeps)
    script = Script(too_many(2), bad_gateway(), "sent")
    assert await retry(script, None, MESSAGE) == "sent"  # type: ignore[arg-type]
    assert len(script.calls) == 3 and sleeps.slept[0] == 2 and 0.5 <= sleeps.slept[1] <= 0.75
    assert (retry.stats.too_many_requests, retry.stats.server_errors, retry.stats.gave_up) == (1, 1, 0)

    failing = Script(*(bad_gateway() for _ in range(4)))
    with pytest.raises(TelegramServerError):
        await retry(failing, None, MESSAGE)  # type: ignore[arg-type]
    assert len(failing.calls) == 4 and retry.stats.gave_up == 1  # three retries, then the error

    too_long = Script(too_many(31))
    with pytest.raises(TelegramRetryAfter):
        await retry(too_long, None, MESSAGE)  # type: ignore[arg-type]
    assert len(too_long.calls) == 1  # longer than MAX_WAIT: the user is better told it failed


async def test_a_request_that_may_have_arrived_is_never_sent_twice(handling: None) -> None:
    retry = RetryReplies(sleep=Sleeps())
    timeout = Script(TelegramNetworkError(method=MESSAGE, message="Request timeout error"))
    with pytest.raises(TelegramNetworkError):
        await retry(timeout, None, MESSAGE)  # type: ignore[arg-type]
    assert len(timeout.calls) == 1
    refused = TelegramNetworkError(method=MESSAGE, message="connection refused")
    refused.__cause__ = ClientConnectorError(connection_key=None, os_error=OSError("refused"))  # type: ignore[arg-type]
    never_sent = Script(refused, "sent")
    assert await retry(never_sent, None, MESSAGE) == "sent"  # type: ignore[arg-type]


async def test_calls_outside_handling_and_inside_without_retries_get_one_attempt(handling: None) -> None:
    retry = RetryReplies(sleep=Sleeps())
    with without_retries():
        script = Script(too_many(1))
        with pytest.raises(TelegramRetryAfter):
            await retry(script, None, MESSAGE)  # type: ignore[arg-type]
    assert len(script.calls) == 1
    token = _handling.set(False)
    try:
        script = Script(bad_gateway())
        with pytest.raises(TelegramServerError):
            await retry(script, None, MESSAGE)  # type: ignore[arg-type]
    finally:
        _handling.reset(token)
    assert len(script.calls) == 1


async def test_calls_to_one_chat_keep_their_order_and_other_chats_do_not_wait(handling: None) -> None:
    retry = RetryReplies()
    sent: list[str] = []
    refused_once: set[str] = set()

    async def make_request(bot: Any, method: Any) -> Any:
        label = getattr(method, "text", None) or "callback"
        if label == "first" and label not in refused_once:
            refused_once.add(label)
            raise TelegramRetryAfter(method=method, message="Too Many Requests: retry after 1", retry_after=1)
        sent.append(label)
        return label

    first = asyncio.create_task(retry(make_request, None, SendMessage(chat_id=1, text="first")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    second = asyncio.create_task(retry(make_request, None, SendMessage(chat_id=1, text="second")))  # type: ignore[arg-type]
    other = asyncio.create_task(retry(make_request, None, SendMessage(chat_id=2, text="other chat")))  # type: ignore[arg-type]
    answer = asyncio.create_task(retry(make_request, None, AnswerCallbackQuery(callback_query_id="7")))  # type: ignore[arg-type]
    await asyncio.wait_for(asyncio.gather(other, answer), 0.5)  # not behind chat 1's wait
    assert not first.done() and not second.done()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert sent == ["other chat", "callback", "first", "second"]


# -- through the dispatcher and the polling loop ------------------------------------------


class Recorder:
    """The order in which the stand-in accepted bot messages, across chats."""

    def __init__(self, standin: BotAPIStandIn) -> None:
        self.accepted: list[tuple[int, str]] = []
        standin.add_listener(self._record)

    def _record(self, message: BotMessage) -> None:
        if not message.edited and not message.deleted:
            self.accepted.append((message.chat_id, message.text))


async def join(chat: Chat, person: Person) -> None:
    welcome = (await chat.say(person, "/start"))[0]
    await chat.press(person, welcome, chat.standin.buttons(welcome)[0][1] or "")  # yes to offers


def labelled(chat: Chat, message: BotMessage, label: str) -> str:
    buttons = dict(chat.standin.buttons(message))
    assert label in buttons, (label, list(buttons))
    data = buttons[label]
    assert data is not None
    return data


async def test_a_broadcast_preview_survives_429_and_502_and_another_chat_is_not_delayed(
    chat: Chat, app: App, standin: BotAPIStandIn
) -> None:
    for person in (EMMA, SARA, LAYLA):
        await join(chat, person)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await chat.press(OWNER, menu, labelled(chat, menu, "Everyone"))
    summary = standin.messages(OWNER.id)[-1]
    await chat.press(OWNER, summary, labelled(chat, summary, "A text per language"))
    await chat.say(OWNER, "مرحبا {first_name}")
    await chat.say(OWNER, "سلام {first_name}")
    before = len(standin.messages(OWNER.id))
    recorder = Recorder(standin)

    # The last text brings a burst of seven messages to the owner: a 502 first, then
    # Telegram's per-chat flood limit answers 429 (retry after 1 s) past two a second.
    standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=OWNER.id)
    standin.rate_limit(per_chat_per_second=2)
    async with polling(app):
        standin.send_text(OWNER.id, "Hi {first_name}, double points today!")
        standin.send_text(EMMA.id, "/balance")
        started = time.monotonic()
        preview = await standin.wait_for_messages(OWNER.id, count=7, timeout=30, after=before)
        took = time.monotonic() - started
        texts = [m.text for m in preview]  # before the tap below edits the last one
        standin.rate_limit()
        send = labelled(chat, preview[-1], "📤 Send now")
        standin.press(OWNER.id, preview[-1].message_id, send)
        await standin.wait_until_idle(timeout=10)

    assert len(texts) == 7
    assert all("Preview for members who speak" in texts[i] for i in (0, 2, 4))
    assert "مرحبا Omar" in texts[1] and "سلام Omar" in texts[3] and "Hi Omar, double points today!" in texts[5]
    assert "Send this to all members?" in texts[6]
    assert not any("something went wrong" in text for text in texts)
    assert took >= 2  # the 429s were waited out, not skipped
    # Emma's /balance went out while the owner's burst was still waiting its turn.
    order = [chat_id for chat_id, _ in recorder.accepted]
    owner_turns = [i for i, chat_id in enumerate(order) if chat_id == OWNER.id]
    assert order.index(EMMA.id) < owner_turns[2]  # the third waited out a 429
    assert "is on its way" in standin.messages(OWNER.id)[-1].text  # the conversation went on to the end
    async with app.ctx.uow() as uow:
        assert len((await uow.session.scalars(select(Broadcast))).all()) == 1
    assert app.reply_retries.stats.too_many_requests >= 2 and app.reply_retries.stats.server_errors == 1
    # Each attempt reaches the metrics, so /metrics shows every 429 that was waited out.
    assert app.metrics.rate_limited._value.get() == app.reply_retries.stats.too_many_requests


async def test_the_outbox_sender_makes_one_attempt_per_pass_even_inside_a_handler(
    chat: Chat, app: App, standin: BotAPIStandIn
) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    await chat.say(OWNER, f"/award {code} 50")
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5, chat_id=EMMA.id)
    calls_before = len(standin.calls_to("sendMessage"))
    token = _handling.set(True)  # as if a handler drained the outbox (the demo does so between updates)
    try:
        started = time.monotonic()
        report = await app.sender.drain_once()
    finally:
        _handling.reset(token)
    assert time.monotonic() - started < 4  # no 5-second wait inside the send
    assert report.retried == 1 and len(standin.calls_to("sendMessage")) == calls_before + 1
    async with app.ctx.uow() as uow:
        [row] = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == EMMA.id))).all()
    assert row.status == "pending" and "429" in (row.last_error or "")
    assert app.reply_retries.stats.too_many_requests == 0
