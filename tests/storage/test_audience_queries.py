"""The birthday selection is an index lookup on `ix_members_birthday`, on both
databases (the benchmark shows the same at a million members)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime

from sqlalchemy import insert, text

from bot.domain.calendars import celebrations_between, celebrations_on
from storage.engine import create_engine
from storage.models import Member
from storage.repositories.audiences import birthday_statement

MEMBERS = 5000


async def plan(db_url: str, keys: list) -> str:  # type: ignore[type-arg]
    engine = create_engine(db_url)
    rng = random.Random(4)
    joined = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "telegram_id": 10_000 + i, "code": f"T{i:05d}", "language": "fa", "balance": 0, "tier": 0,
            "marketing_opt_in": True, "joined_at": joined, "birth_calendar": rng.choice("gjh"),
            "birth_year": 1370, "birth_month": rng.randint(1, 12), "birth_day": rng.randint(1, 28),
        }
        for i in range(MEMBERS)
    ]
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(Member), rows)
            await connection.execute(text("ANALYZE"))
        async with engine.connect() as connection:
            sql = str(birthday_statement(keys).compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
            if connection.dialect.name == "sqlite":
                result = await connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
                return "\n".join(str(row[-1]) for row in result)
            result = await connection.execute(text(f"EXPLAIN {sql}"))
            return "\n".join(row[0] for row in result)
    finally:
        await engine.dispose()


async def test_todays_birthdays_are_an_index_lookup(db_url: str) -> None:
    assert "ix_members_birthday" in await plan(db_url, celebrations_on(date(2027, 2, 28)))


async def test_a_months_birthdays_are_an_index_lookup(db_url: str) -> None:
    # A whole month in three calendars is still a handful of index ranges.
    assert "ix_members_birthday" in await plan(db_url, celebrations_between(date(2026, 3, 1), date(2026, 3, 31)))
