"""Portable SQL helpers: one code path for SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(session: AsyncSession, model: Any, values: dict[str, Any]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` in the session's dialect.

    Both databases accept the same clause; only the construct differs. Used
    for idempotent writes: the unique key decides, the second writer learns
    it lost from the empty RETURNING instead of from an aborted transaction.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).values(**values).on_conflict_do_nothing()


def affected(result: Result[Any]) -> int:
    """How many rows an INSERT/UPDATE/DELETE touched.

    `AsyncSession.execute` is typed to return `Result`; for DML it is a
    `CursorResult`, the one that carries `rowcount`.
    """
    return cast("CursorResult[Any]", result).rowcount
