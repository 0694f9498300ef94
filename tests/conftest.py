from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.app import App
from standin import BotAPIStandIn
from tests.support import Chat, FakeClock, create_test_database, drop_test_database, empty_tables, make_app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per test session (SQLite file, or a fresh PostgreSQL database)."""
    url = asyncio.run(create_test_database(str(tmp_path_factory.mktemp("db"))))
    yield url
    asyncio.run(drop_test_database(url))


@pytest.fixture
async def db_url(database_url: str) -> AsyncIterator[str]:
    """The session database, emptied after each test."""
    yield database_url
    await empty_tables(database_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def standin() -> BotAPIStandIn:
    return BotAPIStandIn()


@pytest.fixture
async def app(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    application = await make_app(db_url, standin, clock=clock)
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
def chat(app: App, standin: BotAPIStandIn) -> Chat:
    return Chat(app, standin)
