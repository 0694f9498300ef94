"""Redemption throughput and `/balance` latency with a million ledger entries.

    python benchmarks/bench_rewards.py [--redemptions 2000] [--concurrency 16] [--entries 1000000]
                                        [--pg postgresql+asyncpg://user@host:port/postgres]

1. Redemptions: confirmation taps (the second of the two taps: token, debit,
   stock, limit, voucher, QR image, reply) pushed through the real dispatcher
   with a fake Bot API session: many members at once, and one member tapping
   many confirmations at once (every tap contends for one balance).
2. `/balance` p50/p99 for the same 200 members when the ledger holds 10,000
   entries and again after it has grown to `--entries` (bulk-loaded with
   executemany on SQLite and COPY on PostgreSQL, never the ORM), through the
   dispatcher (QR cache warm) and at the service level (the database alone);
   then the query plan of every SELECT one `/balance` runs, to show each uses
   an index rather than a scan.

`--pg` names a server where the script creates a throwaway database and drops
it afterwards. Nothing is asserted: the numbers go in the closing notes.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from aiogram.types import Update
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.throwaway import create_pg_database, drop_pg_database, libpq
from bot.app import App
from bot.config import Settings
from bot.domain.ledger import Kind
from bot.domain.members import CODE_ALPHABET
from bot.services import members, points, rewards
from bot.services.ledger import credit
from bot.telegram.routers.rewards import RewardConfirm
from standin import BotAPIStandIn, StandInSession
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Voucher

OWNER = 1
SAMPLE = 200  # members whose /balance is measured
PER_MEMBER = 50  # ledger entries per bulk-loaded member
NOW = datetime(2026, 6, 1, 12, 0)  # naive UTC, as stored


def percentiles(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    return statistics.median(latencies) * 1000, latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000


async def measure(calls: list[Callable[[], Awaitable[Any]]], concurrency: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with slots:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    elapsed = time.perf_counter() - started
    return (len(calls) / elapsed, *percentiles(latencies))


def message_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10_000_000 + update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "fa"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


def make_app(url: str, standin: BotAPIStandIn) -> App:
    settings = Settings(
        _env_file=None, bot_token=f"{standin.bot_id}:bench", database_url=url, admin_ids=frozenset({OWNER}),
        timezone="Asia/Tehran",
    )  # type: ignore[call-arg]
    return App(settings, session=StandInSession(standin))


# -- 1. redemptions ------------------------------------------------------------------------


async def redemption_rows(url: str, n: int, concurrency: int) -> list[tuple[str, float, float, float]]:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    standin = BotAPIStandIn()
    app = make_app(url, standin)
    await app.prepare_database()
    now = app.ctx.now()
    async with app.ctx.uow() as uow:
        reward = await uow.rewards.create(
            seed_id=None, name={"en": "Bench"}, description={}, cost=10, kind="gift", value=None, stock=None,
            per_member_limit=None, min_tier=0, valid_days=30, starts_at=None, ends_at=None, active=True,
            created_at=now, updated_at=now,
        )
        await uow.commit()
    people = list(range(5000, 5200))
    for user_id in people:
        standin.user(user_id, f"U{user_id}", language_code="fa")
        standin.send_text(user_id, "hi")
        joined = await members.enrol(app.ctx, members.TelegramProfile(user_id, f"U{user_id}", None, None, "fa"))
        async with app.ctx.uow() as uow:
            member = await uow.members.by_id(joined.member.id)
            await credit(app.ctx, uow, member, 100_000, Kind.ADJUST, key=f"bench:{user_id}", now=now)
            await uow.commit()
    rows = []
    for label, taps in (
        ("confirm tap, 200 members", [people[i % len(people)] for i in range(n)]),
        ("confirm tap, one member", [people[0]] * max(1, n // 4)),
    ):
        updates = []
        menus: dict[int, int] = {}
        for user_id in taps:
            if user_id not in menus:
                menus[user_id] = (await app.bot.send_message(user_id, "menu")).message_id
            token = (await rewards.offer(app.ctx, user_id, reward.id)).token
            raw = standin.press_raw(user_id, menus[user_id], RewardConfirm(token=token).pack())
            updates.append({"update_id": len(updates) + 1, "callback_query": raw})
        parsed = [Update.model_validate(u, context={"bot": app.bot}) for u in updates]
        dispatcher, bot = app.dispatcher, app.bot
        rows.append((label, *await measure([lambda u=u, d=dispatcher, b=bot: d.feed_update(b, u) for u in parsed], concurrency)))
    async with app.ctx.uow() as uow:
        issued = await uow.session.scalar(select(func.count(Voucher.id)))
    expected = n + max(1, n // 4)
    if issued != expected:
        print(f"warning: {issued} vouchers issued for {expected} taps", file=sys.stderr)
    await app.close()
    return rows


# -- 2. /balance with a big ledger ------------------------------------------------------------


def member_code(index: int) -> str:
    chars = []
    for _ in range(6):
        index, digit = divmod(index, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(reversed(chars))


def member_rows(first: int, count: int) -> list[tuple[Any, ...]]:
    return [
        (first + i, 900_000 + first + i, member_code(first + i), f"M{first + i}", "fa", 0, 0, False, NOW - timedelta(days=800))
        for i in range(count)
    ]


def entry_rows(first_member: int, count: int, first_entry: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[int, int]]:
    """Purchases spread over two years; the last year's are still open lots."""
    rng = random.Random(first_member)
    entries, lots, balances = [], [], {}
    entry_id = first_entry
    for member_id in range(first_member, first_member + count):
        total = 0
        for j in range(PER_MEMBER):
            created = NOW - timedelta(days=730 * (PER_MEMBER - j) / PER_MEMBER, minutes=rng.randint(0, 600))
            delta = rng.randint(5, 80)
            expires = created + timedelta(days=365)
            entries.append((entry_id, member_id, delta, "purchase", f"bulk:{entry_id}", delta, expires, created))
            if expires > NOW:  # the older half has expired (no expire entries: the card does not read them)
                lots.append((entry_id, member_id, expires, delta))
            total += delta
            entry_id += 1
        balances[member_id] = total
    return entries, lots, balances


MEMBER_COLUMNS = ["id", "telegram_id", "code", "first_name", "language", "balance", "tier", "marketing_opt_in", "joined_at"]
ENTRY_COLUMNS = ["id", "member_id", "delta", "kind", "idempotency_key", "amount", "expires_at", "created_at"]
LOT_COLUMNS = ["entry_id", "member_id", "expires_at", "remaining"]


class Loader:
    """Bulk inserts straight through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")

    async def load(self, first_member: int, count: int, first_entry: int) -> int:
        members_ = member_rows(first_member, count)
        entries, lots, balances = entry_rows(first_member, count, first_entry)
        members_ = [(*row[:5], balances[row[0]], *row[6:]) for row in members_]
        if self.sqlite:
            await asyncio.to_thread(self._sqlite, members_, entries, lots)
        else:
            await self._pg(members_, entries, lots)
        return first_entry + len(entries)

    def _sqlite(self, members_: list, entries: list, lots: list) -> None:  # type: ignore[type-arg]
        def ts(value: datetime) -> str:
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")

        path = make_url(self.url).database
        with sqlite3.connect(path) as db:
            db.executemany(
                f"INSERT INTO members ({', '.join(MEMBER_COLUMNS)}) VALUES ({', '.join('?' * len(MEMBER_COLUMNS))})",
                [(*m[:-1], ts(m[-1])) for m in members_],
            )
            db.executemany(
                f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})",
                [(*e[:6], ts(e[6]), ts(e[7])) for e in entries],
            )
            db.executemany(
                f"INSERT INTO point_lots ({', '.join(LOT_COLUMNS)}) VALUES (?, ?, ?, ?)",
                [(lot[0], lot[1], ts(lot[2]), lot[3]) for lot in lots],
            )
            db.execute("ANALYZE")

    async def _pg(self, members_: list, entries: list, lots: list) -> None:  # type: ignore[type-arg]
        connection = await asyncpg.connect(libpq(self.url))
        try:
            await connection.copy_records_to_table("members", records=members_, columns=MEMBER_COLUMNS)
            await connection.copy_records_to_table(
                "ledger_entries", records=[(*e[:5], Decimal(e[5]), *e[6:]) for e in entries], columns=ENTRY_COLUMNS
            )
            await connection.copy_records_to_table("point_lots", records=lots, columns=LOT_COLUMNS)
            for table in ("members", "ledger_entries"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            await connection.execute("ANALYZE")
        finally:
            await connection.close()


async def balance_rows(url: str, entries_total: int, concurrency: int) -> tuple[list[tuple[str, float, float, float]], list[str]]:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    loader = Loader(url)
    next_entry = await loader.load(1, SAMPLE, 1)
    standin = BotAPIStandIn()
    app = make_app(url, standin)
    await app.prepare_database()
    sample = list(range(900_001, 900_001 + SAMPLE))
    for user_id in sample:
        standin.user(user_id, f"M{user_id}", language_code="fa")
        standin.send_text(user_id, "hi")
    rows = []
    for size_label in ("small", "large"):
        if size_label == "large":
            remaining = max(0, entries_total - SAMPLE * PER_MEMBER) // PER_MEMBER
            first, step = SAMPLE + 1, 20_000
            while remaining > 0:
                count = min(step, remaining)
                next_entry = await loader.load(first, count, next_entry)
                first += count
                remaining -= count
        total = next_entry - 1
        dispatcher, bot = app.dispatcher, app.bot
        updates = [
            Update.model_validate(message_update(i, sample[i % SAMPLE], "/balance"), context={"bot": bot})
            for i in range(SAMPLE * 5)
        ]
        await measure([lambda u=u, d=dispatcher, b=bot: d.feed_update(b, u) for u in updates[:SAMPLE]], concurrency)  # warm QR cache
        rows.append((f"/balance via dispatcher, {total:,} entries",
                     *await measure([lambda u=u, d=dispatcher, b=bot: d.feed_update(b, u) for u in updates], concurrency)))
        loaded = []
        async with app.ctx.uow(readonly=True) as uow:
            for user_id in sample:
                loaded.append(await uow.members.by_telegram_id(user_id))
        calls = [lambda m=m: points.balance_card(app.ctx, m) for m in loaded * 5]
        rows.append((f"balance_card (database only), {total:,} entries", *await measure(calls, concurrency)))
    plans = await explain_balance(app, sample[0])
    await app.close()
    return rows, plans


async def explain_balance(app: App, user_id: int) -> list[str]:
    """The plan of every SELECT that one /balance runs, with its real parameters."""
    captured: list[tuple[str, Any]] = []
    sync_engine = app.db.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        update = Update.model_validate(message_update(999_999, user_id, "/balance"), context={"bot": app.bot})
        await app.dispatcher.feed_update(app.bot, update)
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)
    sqlite = app.db.dialect == "sqlite"
    lines = []
    async with app.db.engine.connect() as connection:
        for statement, parameters in captured:
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            result = await connection.exec_driver_sql(prefix + statement, parameters)
            plan = [" ".join(str(c) for c in row[3:]) if sqlite else str(row[0]) for row in result.all()]
            found = re.search(r"\bFROM\s+(\w+)", statement)
            lines.append(f"  {found.group(1) if found else '?':16} " + " | ".join(p.strip() for p in plan))
    return lines


# -- main ---------------------------------------------------------------------------------------


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redemptions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("WAFA_BENCH_PG_URL"), help="PostgreSQL server URL (asyncpg)")
    args = parser.parse_args()
    table: list[tuple[str, str, float, float, float]] = []
    plans: dict[str, list[str]] = {}
    databases: list[tuple[str, Callable[[], Awaitable[str]], Callable[[str], Awaitable[None]]]] = []
    tmp = tempfile.TemporaryDirectory()
    counter = iter(range(100))
    databases.append((
        "SQLite (WAL)",
        lambda: asyncio.sleep(0, f"sqlite+aiosqlite:///{tmp.name}/bench{next(counter)}.db"),
        lambda url: asyncio.sleep(0),
    ))
    if args.pg:
        databases.append(("PostgreSQL", lambda: create_pg_database(args.pg), lambda url: drop_pg_database(args.pg, url)))
    for name, create, drop in databases:
        url = await create()
        try:
            for row in await redemption_rows(url, args.redemptions, args.concurrency):
                table.append((name, *row))
        finally:
            await drop(url)
        url = await create()
        try:
            rows, plan = await balance_rows(url, args.entries, args.concurrency)
            table += [(name, *row) for row in rows]
            plans[name] = plan
        finally:
            await drop(url)
    tmp.cleanup()
    print(f"{args.concurrency} in flight, fake Bot API session, {sys.platform}, {os.cpu_count()} CPUs")
    print(f"{'database':14} {'workload':48} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for database, workload, rate, p50, p99 in table:
        print(f"{database:14} {workload:48} {rate:8.0f} {p50:8.1f} {p99:8.1f}")
    for name, lines in plans.items():
        print(f"\nquery plans of one /balance on {name}:")
        print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
