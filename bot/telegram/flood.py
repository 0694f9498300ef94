"""A per-user budget, so one flooding account cannot slow the bot for everyone.

A token bucket per Telegram user: `CAPACITY` updates at once, refilled at
`REFILL_PER_SECOND` (Telegram itself lets a bot send about one message a
second to a chat, so a faster sustained pace could not be answered anyway).
The first update beyond the budget gets one "slow down" in the user's
language; everything from that user is then ignored for `MUTE_SECONDS`
(counted in `stats` and `wafa_updates_limited_total`, never handled: no
database access, no reply). Owners (ADMIN_IDS) are not limited. The budget
lives in this process: each webhook replica keeps its own.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import gettext as _

from bot.i18n import telegram_language
from bot.metrics import Metrics

log = logging.getLogger(__name__)

CAPACITY = 20
REFILL_PER_SECOND = 1.0
MUTE_SECONDS = 60.0
SWEEP_EVERY = 1000  # buckets of users who went quiet are forgotten every this many updates


@dataclass
class FloodStats:
    """Counters for /metrics."""

    limited: int = 0  # updates ignored because their sender was over budget
    warned: int = 0  # "slow down" answers given (one per user per mute)


@dataclass
class _Bucket:
    tokens: float
    updated: float
    muted_until: float = 0.0


class UserBudget:
    """The token buckets: `take(user, now)` says "pass", "warn" (first one over) or "drop"."""

    def __init__(
        self, capacity: float = CAPACITY, refill_per_second: float = REFILL_PER_SECOND, mute_seconds: float = MUTE_SECONDS
    ) -> None:
        self.capacity = capacity
        self.refill = refill_per_second
        self.mute = mute_seconds
        self._buckets: dict[int, _Bucket] = {}
        self._since_sweep = 0

    def take(self, user_id: int, now: float) -> str:
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep(now)
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        if now < bucket.muted_until:
            return "drop"
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return "pass"
        bucket.muted_until = now + self.mute
        return "warn"

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        full = [
            user
            for user, bucket in self._buckets.items()
            if now >= bucket.muted_until and bucket.tokens + (now - bucket.updated) * self.refill >= self.capacity
        ]
        for user in full:
            del self._buckets[user]

    def __len__(self) -> int:
        return len(self._buckets)


def _answerable(update: Update) -> tuple[User | None, int | None]:
    """The sender of an update the bot would answer, and the private chat to warn them in.

    Group chatter that is not a command is ignored further on anyway, so it
    spends nothing; membership changes (blocking the bot) are never limited.
    """
    message = update.message or update.edited_message
    if message is not None:
        if message.chat.type == "private":
            return message.from_user, message.chat.id
        return (message.from_user, None) if (message.text or "").startswith("/") else (None, None)
    if update.callback_query is not None:
        return update.callback_query.from_user, None
    return None, None


class FloodGuard(BaseMiddleware):
    """Outer update middleware, before anything that reads the database."""

    def __init__(self, ctx: Any, i18n: Any, budget: UserBudget | None = None,
                 clock: Callable[[], float] = time.monotonic, metrics: Metrics | None = None) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.i18n = i18n
        self.budget = budget or UserBudget()
        self.clock = clock
        self.stats = FloodStats()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        user, chat_id = _answerable(event)
        if user is None or user.is_bot or user.id in self.ctx.owners:
            return await handler(event, data)
        verdict = self.budget.take(user.id, self.clock())
        if verdict == "pass":
            return await handler(event, data)
        self.stats.limited += 1
        if self.metrics is not None:
            self.metrics.limited_updates.inc()
        if verdict == "warn":
            self.stats.warned += 1
            log.warning("user %s is over the message budget: ignored for %ss", user.id, self.budget.mute)
            await self._slow_down(event, user, chat_id, data["bot"])
        return None

    async def _slow_down(self, update: Update, user: User, chat_id: int | None, bot: Bot) -> None:
        lang = await self._language(user)
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = _("You are sending messages faster than I can answer. Please wait a minute, then try again.")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif chat_id is not None:
                await bot.send_message(chat_id, text)
        except Exception as exc:  # the warning is a courtesy: never let it fail the update
            log.info("could not tell user %s to slow down: %s", user.id, exc)

    async def _language(self, user: User) -> str:
        default = self.ctx.settings.default_language
        async with self.ctx.uow(readonly=True) as uow:
            member = await uow.members.by_telegram_id(user.id)
        return str(member.language) if member is not None else telegram_language(user.language_code, default)
