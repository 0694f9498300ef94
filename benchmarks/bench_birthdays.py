"""Selecting today's birthdays among 1,000,000 members: an index lookup, not a scan.

    python benchmarks/bench_birthdays.py [--members 1000000] [--pg postgresql+asyncpg://…]

Bulk-loads members with Core `executemany` (birthdays spread over the
Gregorian, Jalali and Hijri calendars, as a mixed clientele would have them),
runs `ANALYZE`, then prints the query plan of the exact statement the
birthdays job runs (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN
ANALYZE`), how many members it finds and how long it takes (median of
several days); the same for a month of birthdays (the broadcast segment).
With `--pg` it runs on a throwaway PostgreSQL database as well. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jdatetime
from hijridate import Gregorian
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.throwaway import pg_database
from bot.domain.calendars import celebrations_between, celebrations_on, month_bounds
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Member
from storage.repositories.audiences import birthday_statement

BATCH = 20_000


def member_rows(start: int, count: int, rng: random.Random) -> list[dict[str, object]]:
    joined = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(start, start + count):
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        roll = rng.random()
        if roll < 0.3:  # a third of members never gave a birthday
            birthday: tuple[str | None, int | None, int | None, int | None] = (None, None, None, None)
        elif roll < 0.65:
            birthday = ("g", born.year, born.month, born.day)
        elif roll < 0.9:
            j = jdatetime.date.fromgregorian(date=born)
            birthday = ("j", j.year, j.month, j.day)
        else:
            h = Gregorian(born.year, born.month, born.day).to_hijri()
            birthday = ("h", h.year, h.month, h.day)
        rows.append({
            "telegram_id": 10_000_000 + i, "code": f"{i:07X}"[-8:], "first_name": f"M{i}",
            "language": ("ar", "fa", "en")[i % 3], "balance": 0, "tier": 0, "marketing_opt_in": i % 2 == 0,
            "joined_at": joined, "birth_calendar": birthday[0], "birth_year": birthday[1],
            "birth_month": birthday[2], "birth_day": birthday[3],
        })
    return rows


async def load(url: str, members: int) -> float:
    engine = create_engine(url)
    await upgrade(engine)
    rng = random.Random(2026)
    started = time.perf_counter()
    for start in range(0, members, BATCH):
        async with engine.begin() as connection:
            await connection.execute(insert(Member), member_rows(start, min(BATCH, members - start), rng))
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


async def measure(url: str) -> None:
    engine = create_engine(url)
    dialect = engine.dialect.name
    days = [date(2026, 1, 1) + timedelta(days=d * 37) for d in range(9)] + [date(2027, 2, 28)]
    try:
        async with engine.connect() as connection:
            sample = birthday_statement(celebrations_on(date(2027, 2, 28)))
            sql = str(sample.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
            print(f"\n-- {dialect}: the birthdays job's query for 2027-02-28 (29 Feb counts in a common year)")
            print(sql)
            explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
            print(f"\n-- {explain.strip()}")
            for row in await connection.execute(text(explain + sql)):
                print("   ", row[-1] if dialect == "sqlite" else row[0])
            timings, found = [], []
            for day in days:
                started = time.perf_counter()
                rows = (await connection.execute(birthday_statement(celebrations_on(day)))).all()
                timings.append((time.perf_counter() - started) * 1000)
                found.append(len(rows))
            print(f"\none day's birthdays: {statistics.median(found):.0f} members found, "
                  f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms over {len(days)} days")
            first, last = month_bounds(date(2026, 3, 10), "j")
            month = birthday_statement(celebrations_between(first, last))
            month_sql = str(month.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
            plan = [
                str(row[-1] if dialect == "sqlite" else row[0])
                for row in await connection.execute(text(("EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN ") + month_sql))
            ]
            started = time.perf_counter()
            rows = (await connection.execute(month)).all()
            elapsed = (time.perf_counter() - started) * 1000
            print(f"a month's birthdays (Esfand 1404, all three calendars): {len(rows):,} members in {elapsed:.0f} ms")
            print("    plan: " + " / ".join(line.strip() for line in plan[:6]))
    finally:
        await engine.dispose()


async def run(url: str, members: int) -> None:
    print(f"loading {members:,} members into {make_url(url).get_backend_name()} …", flush=True)
    seconds = await load(url, members)
    print(f"loaded in {seconds:.1f} s ({members / seconds:,.0f} rows/s, Core executemany in batches of {BATCH:,})")
    await measure(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--pg", help="PostgreSQL admin URL: a throwaway database is created there too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{tmp}/bench.db", args.members)
    if args.pg:
        async with pg_database(args.pg) as url:
            await run(url, args.members)


if __name__ == "__main__":
    asyncio.run(main())
