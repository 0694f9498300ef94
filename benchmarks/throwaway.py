"""Throwaway PostgreSQL databases for the benchmarks: created on a server, dropped after."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url


def libpq(url: str) -> str:
    """The SQLAlchemy URL as asyncpg/libpq read it (no `+asyncpg` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg_database(admin_url: str) -> str:
    name = f"wafa_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(libpq(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(admin_url: str, url: str) -> None:
    admin = await asyncpg.connect(libpq(admin_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def pg_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh database on the server of `admin_url`; yields its URL, drops it on exit."""
    url = await create_pg_database(admin_url)
    try:
        yield url
    finally:
        await drop_pg_database(admin_url, url)
