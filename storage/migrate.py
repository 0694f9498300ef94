"""Apply migrations programmatically (`wafa migrate`, and at start on SQLite)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def _run(engine: AsyncEngine, step: Callable[[Config, str], None], revision: str) -> None:
    def _on(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        step(config, revision)

    async with engine.connect() as connection:
        await connection.run_sync(_on)
        await connection.commit()


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (default: all heads) on this engine."""
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, command.downgrade, revision)


async def pending_revisions(engine: AsyncEngine) -> bool:
    """True when the database is behind the code's migrations."""

    def _check(connection: Connection) -> bool:
        current = set(MigrationContext.configure(connection).get_current_heads())
        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        return current != heads

    async with engine.connect() as connection:
        return await connection.run_sync(_check)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's migration revision; None for a database with no schema yet."""

    def _current(connection: Connection) -> str | None:
        heads = MigrationContext.configure(connection).get_current_heads()
        return heads[0] if heads else None

    async with engine.connect() as connection:
        return await connection.run_sync(_current)
