"""Updates per second and latency through the real dispatcher (fake Bot API session).

    python benchmarks/bench_dispatch.py [--updates 2000] [--concurrency 16] [--pg postgresql+asyncpg://…]

Workloads: `/balance` (a read), `/award` (a write: ledger entry, balance,
audit, outbox row), and a bare aiogram echo handler as the ceiling of what
the framework and the fake session allow. Prints one table; nothing is
asserted, numbers go in the closing notes.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import App
from bot.config import Settings
from bot.services import members
from standin import BotAPIStandIn, StandInSession
from storage.engine import create_engine
from storage.migrate import upgrade

OWNER = 1
MEMBERS = 200


def update_json(update_id: int, user_id: int, message_id: int, text: str) -> dict:  # type: ignore[type-arg]
    entity = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "fa"},
            "text": text,
            "entities": entity,
        },
    }


async def measure(
    feed: Callable[[Update], Awaitable[object]], updates: list[Update], concurrency: int
) -> tuple[float, float, float]:
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def one(update: Update) -> None:
        async with slots:
            started = time.perf_counter()
            await feed(update)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in updates))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(updates) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


async def wafa_rows(url: str, n: int, concurrency: int) -> list[tuple[str, float, float, float]]:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    standin = BotAPIStandIn()
    for user_id in range(1000, 1000 + MEMBERS):
        standin.user(user_id, f"U{user_id}", language_code="fa")
    standin.user(OWNER, "Owner", language_code="en")
    standin.send_text(OWNER, "hi")
    settings = Settings(
        _env_file=None, bot_token=f"{standin.bot_id}:bench", database_url=url, admin_ids=frozenset({OWNER})
    )  # type: ignore[call-arg]
    app = App(settings, session=StandInSession(standin))
    codes = []
    for user_id in range(1000, 1000 + MEMBERS):
        joined = await members.enrol(app.ctx, members.TelegramProfile(user_id, f"U{user_id}", None, None, "fa"))
        codes.append(joined.member.code)
        standin.send_text(user_id, "hi")  # the chat exists for the stand-in
    dispatcher, bot = app.dispatcher, app.bot
    rows = []
    reads = [
        Update.model_validate(update_json(i, 1000 + i % MEMBERS, 10_000 + i, "/balance"), context={"bot": bot})
        for i in range(n)
    ]
    rows.append(("/balance", *await measure(lambda u: dispatcher.feed_update(bot, u), reads, concurrency)))
    writes = [
        Update.model_validate(
            update_json(n + i, OWNER, 50_000 + i, f"/award {codes[i % MEMBERS]} 12.5"), context={"bot": bot}
        )
        for i in range(n)
    ]
    rows.append(("/award", *await measure(lambda u: dispatcher.feed_update(bot, u), writes, concurrency)))
    await app.close()
    return rows


async def echo_row(n: int, concurrency: int) -> tuple[str, float, float, float]:
    standin = BotAPIStandIn()
    standin.user(7, "Echo")
    standin.send_text(7, "hi")
    bot = Bot(f"{standin.bot_id}:bench", session=StandInSession(standin))
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    updates = [Update.model_validate(update_json(i, 7, 100 + i, "hello"), context={"bot": bot}) for i in range(n)]
    result = await measure(lambda u: dispatcher.feed_update(bot, u), updates, concurrency)
    await bot.session.close()
    return ("bare aiogram echo (ceiling)", *result)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pg", default=os.environ.get("WAFA_BENCH_PG_URL"), help="PostgreSQL URL (asyncpg)")
    args = parser.parse_args()
    table: list[tuple[str, str, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for workload, *numbers in await wafa_rows(f"sqlite+aiosqlite:///{tmp}/bench.db", args.updates, args.concurrency):
            table.append(("SQLite (WAL)", workload, *numbers))  # type: ignore[arg-type]
    if args.pg:
        for workload, *numbers in await wafa_rows(args.pg, args.updates, args.concurrency):
            table.append(("PostgreSQL", workload, *numbers))  # type: ignore[arg-type]
    table.append(("-", *await echo_row(args.updates, args.concurrency)))  # type: ignore[arg-type]
    print(f"{args.updates} updates per row, {args.concurrency} in flight, fake Bot API session, {sys.platform}")
    print(f"{'database':14} {'workload':30} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for database, workload, rate, p50, p99 in table:
        print(f"{database:14} {workload:30} {rate:10.0f} {p50:8.1f} {p99:8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
