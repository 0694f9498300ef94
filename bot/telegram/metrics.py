"""Counting what the Telegram side does into `bot.metrics.Metrics`: updates by kind
and outcome with their handling time (a dispatcher middleware) and Bot API
calls with their 429s (a session middleware, so replies, the outbox and the
jobs are all counted)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update

from bot.metrics import Metrics

SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


class CountUpdates(BaseMiddleware):
    """Outer middleware of `dispatcher.update`: one count and one latency per update."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            self.metrics.updates.labels(kind=kind, outcome=outcome).inc()
            self.metrics.handler_seconds.labels(kind=kind).observe(time.perf_counter() - started)


class CountBotApiCalls(BaseRequestMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.rate_limited.inc()
            self.metrics.bot_api_calls.labels(method=name, outcome="429").inc()
            raise
        except Exception:
            self.metrics.bot_api_calls.labels(method=name, outcome="error").inc()
            raise
        self.metrics.bot_api_calls.labels(method=name, outcome="ok").inc()
        if name in SENDS:
            self.metrics.messages_sent.inc()
        return response
