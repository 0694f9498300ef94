"""Migrations: they build exactly the models' schema, and go down and up again."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.engine import create_engine
from storage.migrate import downgrade, pending_revisions, upgrade
from storage.models import Base


async def test_schema_matches_models(db_url: str) -> None:
    engine = create_engine(db_url)

    def diff(connection: Connection) -> list:  # type: ignore[type-arg]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
        assert not await pending_revisions(engine)
    finally:
        await engine.dispose()


async def test_down_and_up_again(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        assert await pending_revisions(engine)
        await upgrade(engine)
        assert not await pending_revisions(engine)
    finally:
        await engine.dispose()


async def test_sqlite_connections_zero_what_they_delete(tmp_path: Path) -> None:
    """/forget: erased values must not stay in free pages (PRAGMA secure_delete)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/secure.db")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1
    finally:
        await engine.dispose()
