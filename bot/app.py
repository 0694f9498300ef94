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
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation

from bot.config import ConfigError, Settings, require_token
from bot.domain.phones import region_for_currency
from bot.domain.privacy import erasure_key as derive_erasure_key
from bot.domain.program import Program, load_program
from bot.http.app import create_http_app
from bot.http.deps import HttpDeps, TelegramWebhook
from bot.http.server import HttpServer
from bot.metrics import Metrics
from bot.scheduler import JobScheduler
from bot.services import broadcasts
from bot.services import program as program_store
from bot.services.outbox import OutboxSender
from bot.services.photos import PhotoIds
from bot.services.ports import Context
from bot.services.rewards import seed_rewards
from bot.telegram.channels import check_channels
from bot.telegram.commands import ChatMenu, publish_menus
from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.flood import FloodGuard
from bot.telegram.i18n import CatalogI18n, create_i18n
from bot.telegram.menu_button import set_menu_button
from bot.telegram.metrics import CountBotApiCalls
from bot.telegram.miniapp import MiniAppPresenter
from bot.telegram.notices import Outgoing
from bot.telegram.outbox_sender import TelegramCourier
from bot.telegram.polling import poll
from bot.telegram.responses import keep_response_types
from bot.telegram.retries import RetryReplies
from storage.engine import create_engine
from storage.migrate import pending_revisions, upgrade
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    """What every use case receives (implements `bot.services.ports.Context`)."""

    settings: Settings
    program: Program
    db: Database
    clock: Callable[[], datetime] = field(default=utcnow)
    photos: PhotoIds = field(default_factory=PhotoIds)  # file_ids of pictures already uploaded
    program_version: int = 0  # the saved version in force (0: none saved yet)

    @property
    def owners(self) -> frozenset[int]:
        return self.settings.admin_ids

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    @property
    def paid_broadcast(self) -> bool:
        return self.settings.paid_broadcast

    @property
    def region(self) -> str | None:
        """DEFAULT_REGION, else the country of the program's currency (SAR → SA), else none."""
        return self.settings.default_region or region_for_currency(self.program.currency)

    @property
    def erasure_key(self) -> bytes | None:
        """The HMAC key of `former_members` (ERASURE_KEY, else derived from BOT_TOKEN);
        None without both (e.g. `wafa run-job` with neither set)."""
        return derive_erasure_key(self.settings.erasure_key, self.settings.bot_token)

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return self.db.uow(readonly=readonly)

    async def after_erasure(self) -> None:
        """Erased values must not linger in the database file (SQLite: WAL checkpoint)."""
        await self.db.scrub()

    def now(self) -> datetime:
        return self.clock()


# mypy proves here that the context the app wires satisfies the services' protocol.
_CONTEXT_SATISFIES_PORT: type[Context] = AppContext


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        program: Program | None = None,
        session: BaseSession | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        keep_response_types()
        self.settings = settings
        program = program or load_program(settings.program_file)
        self.db = Database(create_engine(settings.database_url))
        self.ctx = AppContext(settings, program, self.db, clock or utcnow)
        self.i18n: CatalogI18n = create_i18n(settings.default_language)
        self._session = session
        self.http_server: HttpServer | None = None

    @property
    def program(self) -> Program:
        """The program in force (saved versions replace the file's, see `services.program`)."""
        return self.ctx.program

    @cached_property
    def bot(self) -> Bot:
        token = require_token(self.settings)
        session = self._session or AiohttpSession(api=TelegramAPIServer.from_base(self.settings.telegram_api_url))
        session.middleware(self.reply_retries)  # outermost: the counter below sees every attempt
        session.middleware(CountBotApiCalls(self.metrics))
        return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))

    @cached_property
    def metrics(self) -> Metrics:
        return Metrics()

    @cached_property
    def reply_retries(self) -> RetryReplies:
        """Retries handlers' Bot API calls on 429 and 5xx; `.stats` for metrics."""
        return RetryReplies()

    @cached_property
    def flood_guard(self) -> FloodGuard:
        """The per-user budget; `.stats` for metrics."""
        return FloodGuard(self.ctx, self.i18n, metrics=self.metrics)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        storage, isolation = self._fsm_storage()
        return create_dispatcher(self.ctx, self.i18n, storage, isolation, metrics=self.metrics, flood=self.flood_guard)

    @cached_property
    def sender(self) -> OutboxSender[Outgoing]:
        return OutboxSender(
            self.ctx, TelegramCourier(self.ctx, self.bot, self.i18n), rate=self.settings.broadcast_rate,
            hooks=[broadcasts.release_due, broadcasts.report_finished],
        )

    @cached_property
    def scheduler(self) -> JobScheduler:
        return JobScheduler(self)

    # -- the HTTP side (SPEC §9) -------------------------------------------------
    def http_app(self, *, telegram: TelegramWebhook | None = None) -> Any:
        """The ASGI app: API, shop webhooks, health, metrics (and the Telegram webhook)."""
        deps = HttpDeps(
            ctx=self.ctx,
            settings=self.settings,
            metrics=self.metrics,
            readiness=self.readiness,
            outbox_counts=self.outbox_counts,
            wake_outbox=self._wake_outbox,
            telegram=telegram,
            miniapp=self.miniapp if self.settings.bot_token else None,
        )
        return create_http_app(deps)

    @cached_property
    def miniapp(self) -> MiniAppPresenter:
        """The Mini App's words and numbers, from the chat's own renderers (SPEC §10)."""
        import bot.telegram.dispatcher  # noqa: F401  (every router's error sentences are registered)

        return MiniAppPresenter(self.ctx, self.i18n, self.bot)

    def _wake_outbox(self) -> None:
        sender = self.__dict__.get("sender")
        if sender is not None:
            sender.wake.set()

    async def readiness(self) -> str | None:
        """Why this process should get no traffic (`/readyz`), or None when ready."""
        async with self.ctx.uow(readonly=True) as uow:
            await uow.operations.ping()
        if await pending_revisions(self.db.engine):
            return "the database schema is behind this version; run `wafa migrate`"
        return None

    async def outbox_counts(self) -> dict[str, int]:
        async with self.ctx.uow(readonly=True) as uow:
            counts: dict[str, int] = await uow.operations.outbox_by_status()
        return counts

    async def start_http(self, *, telegram: tuple[str, str] | None = None) -> HttpServer:
        """Serve the HTTP app on HTTP_HOST:PORT in this event loop; `telegram` is
        the webhook's (path, secret) in `wafa webhook`."""
        from bot.telegram.webhook import update_feeder

        hook = None
        if telegram is not None:
            hook = TelegramWebhook(telegram[0], telegram[1], update_feeder(self.dispatcher, self.bot))
        server = HttpServer(self.http_app(telegram=hook), host=self.settings.http_host, port=self.settings.port or 0)
        await server.start()
        self.http_server = server
        return server

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
        await program_store.prepare(self.ctx)
        await seed_rewards(self.ctx)

    async def check_token(self) -> str | None:
        """The bot's @username from getMe, or None when Telegram refuses BOT_TOKEN (401)."""
        from aiogram.exceptions import TelegramUnauthorizedError

        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            return None
        return me.username or str(me.id)

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
        # With PUBLIC_URL the chat's menu button opens the Mini App; without it nothing changes.
        await set_menu_button(self.bot, self.i18n, self.settings.public_url, self.settings.default_language)

    async def check_channels(self) -> None:
        """Owners hear at start when a channel action cannot be checked (the bot is no admin there)."""
        if any(action.verify == "channel" for action in self.program.actions):
            await check_channels(self.ctx, self.bot)

    async def serve_polling(self, stop: asyncio.Event) -> None:
        """`wafa run`: poll Telegram, serve HTTP (unless PORT=off) and deliver the
        outbox until `stop` is set."""
        await self.prepare_database()
        server = await self.start_http() if self.settings.port is not None else None
        background: list[asyncio.Task[None]] = []
        try:
            try:
                await self.bot.delete_webhook(drop_pending_updates=False)
            except Exception as exc:  # a stand-in or a self-hosted server may lack it
                log.warning("deleteWebhook failed: %s", exc)
            await self.publish_menus()
            await self.check_channels()
            background = self.start_background(stop)
            await poll(self.dispatcher, self.bot, stop)
        finally:
            stop.set()
            if server is not None:
                await server.stop()  # requests in flight finish before the database closes
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
