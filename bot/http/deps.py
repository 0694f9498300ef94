"""What the HTTP app needs from the rest of the process, handed over by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from bot.config import Settings
from bot.metrics import Metrics
from bot.services.ports import Context


@dataclass(frozen=True)
class TelegramWebhook:
    """The Telegram webhook route: its path, its secret, and the Telegram layer's
    function that handles one raw update (bytes as Telegram posted them)."""

    path: str
    secret: str
    feed: Callable[[bytes], Awaitable[None]]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class HttpDeps:
    ctx: Context
    settings: Settings
    metrics: Metrics
    # Why the process is not ready (database unreachable, schema behind), or None.
    readiness: Callable[[], Awaitable[str | None]]
    outbox_counts: Callable[[], Awaitable[dict[str, int]]]
    # Wake the outbox sender after a write that queued a message (a receipt).
    wake_outbox: Callable[[], None] = field(default=_nothing)
    telegram: TelegramWebhook | None = None
    # The Mini App's presenter (bot.telegram.miniapp.MiniAppPresenter), or None: /app answers 404.
    miniapp: Any = None


def deps_of(request: Request) -> HttpDeps:
    deps: HttpDeps = request.app.state.deps
    return deps
