"""How long `/stats` takes on a large program, on SQLite and PostgreSQL.

    python benchmarks/bench_stats.py [--members 100000] [--entries 1000000] [--days 30] [--pg postgresql+asyncpg://…]

Seeds a throwaway database (a temporary SQLite file; with --pg a fresh
PostgreSQL database that is dropped afterwards) with members joined over two
years, ledger entries (purchases, signups, redemptions, expiries) spread over
the same time, surveys and referral conversions; then times the service
behind `/stats` (every KPI query plus the chart's time series), the chart
rendering, and the CSV export of the whole ledger. Prints one table; nothing
is asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from benchmarks.throwaway import create_pg_database, drop_pg_database
from bot.app import App
from bot.config import Settings
from bot.services import exports, reports
from bot.telegram.render import Fmt
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import LedgerEntry, Member, ReferralConversion, Survey

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
BATCH = 20_000


async def seed(app: App, members: int, entries: int) -> float:
    rng = random.Random(42)
    started = time.perf_counter()
    joined = [NOW - SPAN * rng.random() for _ in range(members)]
    balances = [20] * members
    ledger: list[dict[str, Any]] = []
    for i in range(members):
        ledger.append({"member_id": i + 1, "delta": 20, "kind": "signup", "created_at": joined[i]})
    while len(ledger) < entries:
        i = rng.randrange(members)
        at = joined[i] + (NOW - joined[i]) * rng.random()
        roll = rng.random()
        if roll < 0.85:
            delta, kind = rng.randint(5, 300), "purchase"
        elif roll < 0.95 and balances[i] >= 150:
            delta, kind = -150, "redeem"
        elif balances[i] >= 10:
            delta, kind = -10, "expire"
        else:
            delta, kind = 10, "survey"
        balances[i] += delta
        ledger.append({"member_id": i + 1, "delta": delta, "kind": kind, "created_at": at})
    async with app.ctx.uow() as uow:
        session = uow.session
        for start in range(0, members, BATCH):
            await session.execute(insert(Member), [
                {"id": i + 1, "telegram_id": 10_000_000 + i, "code": f"B{i:07d}", "language": "fa",
                 "balance": balances[i], "tier": 0, "marketing_opt_in": False, "joined_at": joined[i],
                 "referrer_id": (i // 2) + 1 if i % 10 == 9 else None}
                for i in range(start, min(members, start + BATCH))
            ])
        for start in range(0, len(ledger), BATCH):
            chunk = ledger[start:start + BATCH]
            await session.execute(insert(LedgerEntry), [
                {**row, "idempotency_key": f"bench:{start + n}"} for n, row in enumerate(chunk)
            ])
        surveys = [
            {"key": f"bench:{n}", "member_id": rng.randrange(members) + 1, "kind": "nps" if n % 4 else "csat",
             "trigger": "post_purchase", "status": "closed", "score": rng.randint(0, 10) if n % 4 else rng.randint(1, 5),
             "bonus": 0, "created_at": (at := NOW - SPAN * rng.random()), "answered_at": at + timedelta(minutes=3)}
            for n in range(members // 5)
        ]
        for start in range(0, len(surveys), BATCH):
            await session.execute(insert(Survey), surveys[start:start + BATCH])
        conversions = [
            {"referee_id": i + 1, "referrer_id": (i // 2) + 1, "outcome": "rewarded", "referrer_points": 100,
             "referee_points": 50, "converted_at": joined[i] + timedelta(days=3)}
            for i in range(members) if i % 20 == 9
        ]
        if conversions:
            await session.execute(insert(ReferralConversion), conversions)
        await uow.commit()
    if app.db.dialect == "postgresql":
        # What autovacuum does to a freshly filled table (PostgreSQL ≥ 13 vacuums insert-only
        # tables too): statistics, and the visibility map that index-only scans need.
        async with app.db.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


async def timed(action: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        best = min(best, time.perf_counter() - started)
    return best


async def run(url: str, label: str, members: int, entries: int, days: int) -> list[tuple[str, str, float]]:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    settings = Settings(_env_file=None, bot_token="1:x", database_url=url, admin_ids=frozenset({1}))  # type: ignore[call-arg]
    app = App(settings, clock=lambda: NOW)
    rows: list[tuple[str, str, float]] = []
    try:
        rows.append((label, f"seed {members:,} members, {entries:,} entries", await seed(app, members, entries)))
        for span in sorted({7, days, 365}):
            rows.append((label, f"/stats {span} (all KPI queries)",
                         await timed(lambda span=span: reports.program_stats(app.ctx, actor_id=1, days=span))))
        from bot.telegram.charts import render_stats_chart
        from bot.telegram.routers import insights
        from bot.telegram.routers.insights import chart_data, percent

        stats = await reports.program_stats(app.ctx, actor_id=1, days=days)
        fmt = Fmt("fa")
        with app.i18n.context(), app.i18n.use_locale("fa"):
            text = insights.chart_text(app.ctx, stats, fmt)

        async def chart() -> None:
            render_stats_chart(chart_data(stats), text, lang="fa", rtl=True, number=fmt.num,
                               percent=lambda v: percent(fmt, v))

        rows.append((label, "chart PNG (fa)", await timed(chart)))
        with tempfile.TemporaryDirectory() as directory:
            async def export() -> None:
                await exports.export_csv(app.ctx, actor_id=1, directory=Path(directory))

            rows.append((label, "/export (members, ledger, surveys CSV)", await timed(export, repeat=1)))
    finally:
        await app.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pg", help="PostgreSQL admin URL; a throwaway database is created on it")
    args = parser.parse_args()
    results: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory() as directory:
        results += await run(f"sqlite+aiosqlite:///{directory}/bench.db", "SQLite", args.members, args.entries, args.days)
    if args.pg:
        url = await create_pg_database(args.pg)
        try:
            results += await run(url, "PostgreSQL", args.members, args.entries, args.days)
        finally:
            await drop_pg_database(args.pg, url)
    print(f"{'database':<11} {'what':<48} {'seconds':>8}")
    for label, what, seconds in results:
        print(f"{label:<11} {what:<48} {seconds:>8.3f}")


if __name__ == "__main__":
    asyncio.run(main())
