"""Replies that survive Telegram's 429 and 5xx (a request middleware on the bot's session).

A handler's reply, edit or callback answer that Telegram refuses with 429 is
sent again after `retry_after`; one refused with 5xx (or whose connection
never opened) is retried with a short, bounded backoff. Only calls made
*while an update is being handled* are retried (`DuringHandling` marks
them): the outbox sender classifies its own errors (it pauses its rate
limiter on 429 and reschedules the row), so retrying under it would double
the wait and blur its bookkeeping; it also opts out explicitly
(`without_retries`). Timeouts and connections dropped after the request left
are never retried: Telegram may have delivered the message.

Calls to one chat go one at a time, in the order they were made, so a reply
waiting out a 429 is not overtaken by the next one; other chats never wait
for it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from aiohttp import ClientConnectorError

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

MAX_WAIT = 30.0  # seconds one call may spend waiting out 429s and backoffs before it fails
SERVER_RETRIES = 3  # retries after a 5xx (or a connection that never opened)
BACKOFF = 0.5  # first 5xx backoff in seconds; doubles each time, with jitter

_handling: ContextVar[bool] = ContextVar("wafa_handling_update", default=False)


def never_left(exc: TelegramNetworkError) -> bool:
    """The connection was never opened: Telegram cannot have received the request."""
    return isinstance(exc.__cause__, ClientConnectorError)


class DuringHandling(BaseMiddleware):
    """Outer update middleware: Bot API calls made from here on are retried."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        token = _handling.set(True)
        try:
            return await handler(event, data)
        finally:
            _handling.reset(token)


@contextlib.contextmanager
def without_retries() -> Iterator[None]:
    """Calls inside make one attempt each; the caller classifies failures itself."""
    token = _handling.set(False)
    try:
        yield
    finally:
        _handling.reset(token)


@dataclass
class RetryStats:
    """Counters for /metrics: refusals seen and calls that still failed."""

    too_many_requests: int = 0  # 429 answers that were waited out
    server_errors: int = 0  # 5xx (or unopened connections) that were retried
    gave_up: int = 0  # calls that failed after waiting as long as allowed


class RetryReplies(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        max_wait: float = MAX_WAIT,
        server_retries: int = SERVER_RETRIES,
        backoff: float = BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.server_retries = server_retries
        self.backoff = backoff
        self.sleep = sleep
        self.stats = RetryStats()
        self._chats: dict[int | str, _ChatTurn] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not _handling.get() or isinstance(method, GetUpdates):
            return await make_request(bot, method)
        chat = getattr(method, "chat_id", None)
        if not isinstance(chat, (int, str)):
            return await self._attempts(make_request, bot, method)
        turn = self._chats.setdefault(chat, _ChatTurn())
        turn.users += 1
        try:
            async with turn.lock:  # FIFO: calls to one chat leave in the order they were made
                return await self._attempts(make_request, bot, method)
        finally:
            turn.users -= 1
            if not turn.users:
                del self._chats[chat]

    async def _attempts(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        waited = 0.0
        server_failures = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                delay = float(exc.retry_after)
                if waited + delay > self.max_wait:
                    self.stats.gave_up += 1
                    raise
                self.stats.too_many_requests += 1
                log.info("%s: 429, retrying after %ss", method.__api_method__, exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if isinstance(exc, TelegramNetworkError) and not never_left(exc):
                    raise  # it may have arrived: sending again could duplicate it
                server_failures += 1
                delay = self.backoff * 2 ** (server_failures - 1) * random.uniform(1.0, 1.5)
                if server_failures > self.server_retries or waited + delay > self.max_wait:
                    self.stats.gave_up += 1
                    raise
                self.stats.server_errors += 1
                log.info("%s: %s, retrying in %.1fs", method.__api_method__, exc.message, delay)
            waited += delay
            await self.sleep(delay)


class _ChatTurn:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0
