"""`wafa webhook`: Telegram pushes updates to us; any number of replicas.

The webhook is one route of the bot's HTTP app (`bot.http`), beside the API,
the shop webhooks and the health endpoints: one server, one port. This
module is the Telegram side of that route: `update_feeder` turns the raw
body into an `Update` and hands it to the dispatcher. Updates are handled
inside the request (not in background tasks), so Telegram only counts an
update as delivered once it was handled, and on SIGTERM the server lets
requests in flight finish before the process exits. Replicas share
PostgreSQL (and Redis for conversation state); the outbox lease makes sure
each message is sent by exactly one of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from bot.config import ConfigError, require_webhook

log = logging.getLogger(__name__)


def update_feeder(dispatcher: Dispatcher, bot: Bot) -> Callable[[bytes], Awaitable[None]]:
    """The function the HTTP route calls with each POSTed body. Raises ValueError
    (pydantic's ValidationError) for a body that is no Update."""

    async def feed(body: bytes) -> None:
        update = Update.model_validate_json(body, context={"bot": bot})
        answer: TelegramMethod[Any] | None = await dispatcher.feed_webhook_update(bot, update)
        if isinstance(answer, TelegramMethod):  # a handler that returns a method: call it
            await bot(answer)

    return feed


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/"


async def serve_webhook(app: Any, stop: asyncio.Event) -> None:
    url, secret = require_webhook(app.settings)
    await app.prepare_database()
    server = await app.start_http(telegram=(webhook_path(url), secret))
    background: list[asyncio.Task[None]] = []
    try:
        try:
            await app.bot.set_webhook(
                url, secret_token=secret, allowed_updates=app.dispatcher.resolve_used_update_types()
            )
        except TelegramAPIError as exc:
            raise ConfigError(f"WEBHOOK_URL: Telegram refused it ({exc.message})") from None
        await app.publish_menus()
        await app.check_channels()
        background = app.start_background(stop)
        log.info("webhook listening on %s%s", server.address, webhook_path(url))
        await stop.wait()
    finally:
        await server.stop()  # stops accepting, waits for requests in flight
        stop.set()
        await app.stop_background(background)
