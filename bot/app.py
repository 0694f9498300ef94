"""Composition root: settings → program → database → i18n → dispatcher → bot → sender.

The only module that knows every layer. `wafa run`, `wafa webhook`,
`wafa demo`, the jobs and the tests all build the bot through `App`, so
tests exercise the production wiring rather than a copy of it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation

from bot.config import ConfigError, Settings, require_token
from bot.domain.program import Program, load_program
from bot.services.rewards import seed_rewards
from bot.scheduler import JobScheduler
from bot.services import broadcasts
from bot.telegram.commands import ChatMenu, publish_menus
from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.flood import FloodGuard
from bot.telegram.i18n import CatalogI18n, create_i18n
from bot.telegram.outbox_sender import OutboxSender
from bot.telegram.polling import poll
from bot.telegram.retries import RetryReplies
from storage.engine import create_engine
from storage.migrate import pending_revisions, upgrade
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class AppContext:
    """What every use case receives (implements `bot.services.ports.Context`)."""

    settings: Settings
    program: Program
    db: Database
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def owners(self) -> frozenset[int]:
        return self.settings.admin_ids

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return self.db.uow(readonly=readonly)

    def now(self) -> datetime:
        return self.clock()


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        program: Program | None = None,
        session: BaseSession | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.program = program or load_program(settings.program_file)
        self.db = Database(create_engine(settings.database_url))
        self.ctx = AppContext(settings, self.program, self.db, clock or utcnow)
        self.i18n: CatalogI18n = create_i18n(settings.default_language)
        self._session = session

    @cached_property
    def bot(self) -> Bot:
        token = require_token(self.settings)
        session = self._session or AiohttpSession(api=TelegramAPIServer.from_base(self.settings.telegram_api_url))
        session.middleware(self.reply_retries)
        return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))

    @cached_property
    def reply_retries(self) -> RetryReplies:
        """Retries handlers' Bot API calls on 429 and 5xx; `.stats` for metrics."""
        return RetryReplies()

    @cached_property
    def flood_guard(self) -> FloodGuard:
        """The per-user budget; `.stats` for metrics."""
        return FloodGuard(self.ctx, self.i18n)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        storage, isolation = self._fsm_storage()
        return create_dispatcher(self.ctx, self.i18n, storage, isolation, flood=self.flood_guard)

    @cached_property
    def sender(self) -> OutboxSender:
        return OutboxSender(
            self.ctx, self.bot, self.i18n, rate=self.settings.broadcast_rate,
            hooks=[broadcasts.release_due, broadcasts.report_finished],
        )

    @cached_property
    def scheduler(self) -> JobScheduler:
        return JobScheduler(self)

    def _fsm_storage(self) -> tuple[BaseStorage, BaseEventIsolation]:
        if not self.settings.redis_url:
            return MemoryStorage(), SimpleEventIsolation()
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(self.settings.redis_url)
        return storage, RedisEventIsolation(storage.redis)

    # -- lifecycle -------------------------------------------------------------
    async def prepare_database(self, *, migrate: bool | None = None) -> None:
        """Apply migrations (default: only on SQLite) or refuse to run on an old schema;
        then seed the rewards catalog from the program (each reward once, ever)."""
        if migrate is None:
            migrate = self.settings.is_sqlite
        if migrate:
            await upgrade(self.db.engine)
        elif await pending_revisions(self.db.engine):
            raise ConfigError("DATABASE_URL: the database schema is behind this version; run `wafa migrate` first")
        await seed_rewards(self.ctx)

    async def publish_menus(self) -> None:
        chats = [ChatMenu(owner, "owner", None) for owner in self.settings.admin_ids]
        async with self.ctx.uow() as uow:
            for person in await uow.staff.all():
                if person.telegram_id not in self.settings.admin_ids:
                    chats.append(ChatMenu(person.telegram_id, "staff", None))
            for chat in list(chats):
                member = await uow.members.by_telegram_id(chat.chat_id)
                if member is not None:
                    chats[chats.index(chat)] = ChatMenu(chat.chat_id, chat.role, member.language)
        await publish_menus(self.bot, self.i18n, self.settings.default_language, chats)

    async def serve_polling(self, stop: asyncio.Event) -> None:
        """`wafa run`: poll Telegram and deliver the outbox until `stop` is set."""
        await self.prepare_database()
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except Exception as exc:  # a stand-in or a self-hosted server may lack it
            log.warning("deleteWebhook failed: %s", exc)
        await self.publish_menus()
        background = self.start_background(stop)
        try:
            await poll(self.dispatcher, self.bot, stop)
        finally:
            stop.set()
            await self.stop_background(background)

    def start_background(self, stop: asyncio.Event) -> list[asyncio.Task[None]]:
        """The outbox sender and the job scheduler, until `stop` is set."""
        self.scheduler.start()
        return [asyncio.create_task(self.sender.run(stop), name="outbox")]

    async def stop_background(self, tasks: list[asyncio.Task[None]]) -> None:
        if "scheduler" in self.__dict__:
            await self.scheduler.stop()  # no new jobs; waits for the ones running
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)

    async def close(self) -> None:
        if "bot" in self.__dict__:
            await self.bot.session.close()
        if "dispatcher" in self.__dict__:
            await self.dispatcher.storage.close()
        await self.db.dispose()
