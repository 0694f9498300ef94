"""A broadcast to 10,000 members through the real outbox sender, over HTTP.

    python benchmarks/bench_broadcast.py [--members 10000] [--rate 25] [--limit 30] [--pg postgresql+asyncpg://…]

The Bot API stand-in runs here and enforces `--limit` messages per second
(Telegram's bulk limit, answering 429 beyond it). `wafa run` runs as its own
process with `BROADCAST_RATE=--rate`, exactly as in production; the
broadcast is created through the same service the owner's `/broadcast` uses.
Prints the achieved rate (first to last delivery) as a fraction of
`BROADCAST_RATE`, duplicates, 429 answers, the owner's report, and the bot
process's peak memory (VmHWM). Nothing is asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.throwaway import pg_database  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.broadcasts import Segment  # noqa: E402
from bot.services import broadcasts  # noqa: E402
from standin import BotAPIStandIn, BotMessage, StandInServer, StandInSession  # noqa: E402
from storage.engine import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Member  # noqa: E402

OWNER = 1
FIRST = 100_000


async def seed(url: str, members: int) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    joined = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {"telegram_id": FIRST + i, "code": f"B{i:06d}", "first_name": f"Guest{i}", "language": ("ar", "fa", "en")[i % 3],
         "balance": i % 500, "tier": 0, "marketing_opt_in": True, "joined_at": joined}
        for i in range(members)
    ]
    async with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            await connection.execute(insert(Member), rows[start : start + 5000])  # Core executemany
    await engine.dispose()


async def create_broadcast(url: str, standin: BotAPIStandIn) -> int:
    settings = Settings(_env_file=None, bot_token=f"{standin.bot_id}:bench", database_url=url,  # type: ignore[call-arg]
                        admin_ids=frozenset({OWNER}))
    app = App(settings, session=StandInSession(standin))
    try:
        token = await broadcasts.issue_confirmation(app.ctx, OWNER)
        created = await broadcasts.create_broadcast(
            app.ctx, owner_id=OWNER, owner_lang="en", segment=Segment("all"),
            texts={"*": "Hi {first_name}, you have {points}. Double points all week!"}, send_at=None, token=token,
        )
        return int(created.broadcast.id)
    finally:
        await app.close()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def run(url: str, members: int, rate: float, limit: int) -> None:
    print(f"seeding {members:,} members …", flush=True)
    await seed(url, members)
    standin = BotAPIStandIn()
    for user_id in [OWNER, *range(FIRST, FIRST + members)]:
        standin.user(user_id, f"U{user_id}", language_code="en")
        standin.send_text(user_id, "hi")
    await standin.handle("getUpdates", {"offset": standin.pending_updates()[-1]["update_id"] + 1, "timeout": 0})
    standin.calls.clear()
    standin.rate_limit(global_per_second=limit)
    number = await create_broadcast(url, standin)
    deliveries: list[float] = []
    chats: Counter[int] = Counter()

    def on_message(message: BotMessage) -> None:
        if message.chat_id != OWNER and not message.edited:
            deliveries.append(time.monotonic())
            chats[message.chat_id] += 1

    standin.add_listener(on_message)
    program = Path(tempfile.mkdtemp()) / "program.toml"
    program.write_text('[messaging]\nquiet_hours = "off"\n', encoding="utf-8")  # run at any hour
    async with StandInServer(standin) as api:
        env = {**os.environ, "BOT_TOKEN": f"{standin.bot_id}:bench", "TELEGRAM_API_URL": api, "DATABASE_URL": url,
               "ADMIN_IDS": str(OWNER), "BROADCAST_RATE": str(rate), "PROGRAM_FILE": str(program),
               "NO_PROXY": "127.0.0.1,localhost", "PORT": "off"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        started = time.monotonic()
        report = await standin.wait_for_messages(OWNER, timeout=members / rate * 3 + 120)
        elapsed = time.monotonic() - started
        peak = peak_rss_mb(process.pid)
        process.terminate()
        await process.wait()
    too_many = sum(1 for name, params in standin.calls if name.lower() == "sendmessage") - len(deliveries) - 1
    span = deliveries[-1] - deliveries[0] if len(deliveries) > 1 else float("nan")
    achieved = (len(deliveries) - 1) / span
    print(f"database          {make_url(url).get_backend_name()}")
    print(f"broadcast #{number}     {members:,} members, BROADCAST_RATE {rate:g}/s, stand-in limit {limit}/s")
    print(f"delivered         {len(deliveries):,} in {span:.1f} s (process start to report: {elapsed:.1f} s)")
    print(f"achieved rate     {achieved:.2f} msg/s = {achieved / rate:.3f} of BROADCAST_RATE")
    print(f"duplicates        {sum(n - 1 for n in chats.values() if n > 1)}")
    print(f"429 answers       {too_many}")
    print(f"peak memory       {peak:.0f} MB (bot process VmHWM)")
    print("owner's report    " + report[0].text.replace("\n", " | "))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="BROADCAST_RATE of the bot (default 25)")
    parser.add_argument("--limit", type=int, default=30, help="what the stand-in allows per second (default 30)")
    parser.add_argument("--pg", help="PostgreSQL admin URL: a throwaway database is created there")
    args = parser.parse_args()
    if not args.pg:
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{tmp}/bench.db", args.members, args.rate, args.limit)
        return
    async with pg_database(args.pg) as url:
        await run(url, args.members, args.rate, args.limit)


if __name__ == "__main__":
    asyncio.run(main())
