"""Test support: databases, a fake clock, and a chat driver for the real dispatcher.

Flow tests push real Update JSON (made by the Bot API stand-in, the way a
Telegram client would) through the production `App` wiring; only the HTTP
session is replaced (`StandInSession`), so nothing leaves the process.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiogram.types import Update
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import App
from bot.config import Settings
from bot.domain.program import Program
from standin import BotAPIStandIn, BotMessage, StandInSession
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Base

TOKEN = "7000000001:TEST-token_for-the-stand-in"
OWNER_ID = 500
STAFF_ID = 600
PG_ADMIN_URL = os.environ.get("WAFA_TEST_DATABASE_URL", "")


class FakeClock:
    """Time that only moves when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


# -- databases -----------------------------------------------------------------
async def create_test_database(tmp_dir: str) -> str:
    """A migrated, empty database: PostgreSQL when WAFA_TEST_DATABASE_URL is set."""
    if PG_ADMIN_URL:
        name = f"wafa_test_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(_libpq(PG_ADMIN_URL))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{tmp_dir}/wafa-test.db"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def drop_test_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = make_url(url).database
    admin = await asyncpg.connect(_libpq(PG_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def empty_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            if connection.dialect.name == "postgresql":
                await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await connection.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()


def settings_for_tests(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "admin_ids": frozenset({OWNER_ID}),
        "telegram_api_url": "http://127.0.0.1:9",
        "timezone": "Asia/Tehran",
        "default_language": "en",
        "broadcast_rate": 200.0,  # fast tests: paid broadcasts (the stand-in allows them up to 1000/s)
        "paid_broadcast": True,
        "program_file": None,
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# -- chatting ------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    last_name: str | None = None


EMMA = Person(1001, "Emma", "en", "emma_w")
LAYLA = Person(1002, "ليلى", "ar", "layla")
SARA = Person(1003, "سارا", "fa", "sara_t")
OWNER = Person(OWNER_ID, "Omar", "en", "omar_owner")
CASHIER = Person(STAFF_ID, "Cyrus", "fa", "cyrus_cash")


class Chat:
    """Drives the real dispatcher the way Telegram would: one update at a time."""

    def __init__(self, app: App, standin: BotAPIStandIn) -> None:
        self.app = app
        self.standin = standin
        self.last_update: dict[str, Any] | None = None

    def register(self, person: Person) -> None:
        self.standin.user(
            person.id,
            person.first_name,
            last_name=person.last_name,
            username=person.username,
            language_code=person.language_code,
        )

    async def _feed_pending(self) -> None:
        for raw in self.standin.pending_updates():
            await self.standin.handle("getUpdates", {"offset": raw["update_id"] + 1, "timeout": 0, "limit": 1})
            self.last_update = raw
            await self.feed(raw)

    async def feed(self, raw: dict[str, Any]) -> None:
        update = Update.model_validate(raw, context={"bot": self.app.bot})
        await self.app.dispatcher.feed_update(self.app.bot, update)

    async def redeliver_last(self, chat_id: int) -> list[BotMessage]:
        """Telegram sends an unconfirmed update again after a restart: same update_id, same message."""
        assert self.last_update is not None
        before = len(self.standin.messages(chat_id))
        await self.feed(self.last_update)
        return self.standin.messages(chat_id)[before:]

    async def _collect(self, chat_id: int, action: Any) -> list[BotMessage]:
        before = len(self.standin.messages(chat_id))
        action()
        await self._feed_pending()
        return self.standin.messages(chat_id)[before:]

    async def say(self, person: Person, text: str) -> list[BotMessage]:
        """Send `text`; return the bot's new messages in that chat (replies)."""
        self.register(person)
        return await self._collect(person.id, lambda: self.standin.send_text(person.id, text))

    async def reply_text(self, person: Person, text: str) -> str:
        messages = await self.say(person, text)
        assert messages, f"no reply to {text!r}"
        return "\n".join(m.text for m in messages)

    async def press(self, person: Person, message: BotMessage, data: str) -> list[BotMessage]:
        return await self._collect(person.id, lambda: self.standin.press(person.id, message.message_id, data))

    async def press_raw(self, person: Person, message: BotMessage, data: str) -> list[BotMessage]:
        return await self._collect(person.id, lambda: self.standin.press_raw(person.id, message.message_id, data))

    async def send_photo(self, person: Person, caption: str | None = None, *, data: bytes | None = None) -> list[BotMessage]:
        """Send a picture (a small grey PNG unless `data`), with `caption`; return the bot's replies."""
        self.register(person)
        return await self._collect(person.id, lambda: self.standin.send_photo(person.id, caption, data=data))

    async def share_contact(self, person: Person, phone: str, *, own: bool = True) -> list[BotMessage]:
        self.register(person)
        return await self._collect(person.id, lambda: self.standin.send_contact(person.id, phone, own=own))

    async def deliver_outbox(self) -> Any:
        return await self.app.sender.drain()

    def last_callback_answer(self) -> Any:
        return self.standin.answered_callbacks[-1]


async def make_app(database_url: str, standin: BotAPIStandIn, *, clock: FakeClock | None = None,
                   program: Program | None = None, **settings: Any) -> App:
    return App(settings_for_tests(database_url, **settings), program=program, session=StandInSession(standin),
               clock=clock or FakeClock())
