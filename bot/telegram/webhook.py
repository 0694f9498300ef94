"""`wafa webhook`: Telegram pushes updates to us; any number of replicas.

Updates are handled inside the HTTP request (not in background tasks), so
Telegram only counts an update as delivered once it was handled, and on
SIGTERM aiohttp lets requests in flight finish before the process exits.
Replicas share PostgreSQL (and Redis for conversation state); the outbox
claim makes sure each message is sent by exactly one of them.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlparse

from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import ConfigError

log = logging.getLogger(__name__)


async def serve_webhook(app: Any, stop: asyncio.Event) -> None:
    settings = app.settings
    await app.prepare_database()
    path = urlparse(settings.webhook_url or "").path or "/"
    web_app = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dispatcher, bot=app.bot, secret_token=settings.webhook_secret, handle_in_background=False
    ).register(web_app, path=path)
    web_app.router.add_get("/healthz", _health)
    runner = web.AppRunner(web_app, shutdown_timeout=60)
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=settings.port)
    await site.start()
    background: list[asyncio.Task[None]] = []
    try:
        try:
            await app.bot.set_webhook(
                settings.webhook_url or "",
                secret_token=settings.webhook_secret,
                allowed_updates=app.dispatcher.resolve_used_update_types(),
            )
        except TelegramAPIError as exc:
            raise ConfigError(f"WEBHOOK_URL: Telegram refused it ({exc.message})") from None
        await app.publish_menus()
        await app.check_channels()
        background = app.start_background(stop)
        log.info("webhook listening on :%s%s", settings.port, path)
        await stop.wait()
    finally:
        await runner.cleanup()  # stops accepting, waits for requests in flight
        stop.set()
        await app.stop_background(background)


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")
