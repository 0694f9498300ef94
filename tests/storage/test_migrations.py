"""Migrations: they build exactly the models' schema, and go down and up again."""
from __future__ import annotations

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
