"""Wafa beside a bare aiogram echo bot, measured from the outside, in one run.

    python benchmarks/bench_side_by_side.py [--requests 600] [--members 400] [--in-flight 16]

One Bot API stand-in (`StandInServer`, loopback HTTP) serves two bot
processes in turn: `benchmarks/echo_bot.py` (aiogram, one echo handler, no
database) and `wafa run` on SQLite, exactly as in production. Simulated users
send messages; a request ends when the bot's reply lands in that user's chat.

Rows: echo and `/balance` and `/award` with `--in-flight` users waiting at
once (replies/s, p50, p99), `/balance` with one at a time (its p99 target is
50 ms), and the ratios the issue sets: `/balance` ≥ 0.25× the echo's
replies/s, `/award` ≥ 0.12×, `/award` p99 ≤ 500 ms at 16 in flight. `/award`
is typed by 16 owners (owners are outside the per-user flood budget), each
awarding members in turn; its notice to the member goes through the outbox
as usual. Nothing is asserted; the machine's load is printed beside the
numbers, since the processes share its cores.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_broadcast import FIRST, seed  # noqa: E402
from standin import BotAPIStandIn, BotMessage, StandInServer  # noqa: E402

OWNERS = list(range(10, 26))  # 16 owners for /award


@dataclass
class Row:
    name: str
    in_flight: int
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


class Driver:
    """Sends as users and waits for the bot's reply in the same chat."""

    def __init__(self, standin: BotAPIStandIn) -> None:
        self.standin = standin
        self.waiting: dict[int, asyncio.Future[BotMessage]] = {}
        standin.add_listener(self._on_message)

    def _on_message(self, message: BotMessage) -> None:
        future = self.waiting.get(message.chat_id)
        if future is not None and not future.done() and not message.edited:
            future.set_result(message)

    async def ask(self, user_id: int, text: str, timeout: float = 60.0) -> float:
        future: asyncio.Future[BotMessage] = asyncio.get_running_loop().create_future()
        self.waiting[user_id] = future
        started = time.perf_counter()
        self.standin.send_text(user_id, text)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(user_id, None)
        return time.perf_counter() - started

    async def run(self, name: str, jobs: list[tuple[int, str]], in_flight: int) -> Row:
        """`jobs` (user, text) spread over `in_flight` lanes; a lane's user waits for each reply."""
        lanes: list[list[tuple[int, str]]] = [jobs[i::in_flight] for i in range(in_flight)]
        latencies: list[float] = []

        async def lane(work: list[tuple[int, str]]) -> None:
            for user_id, text in work:
                latencies.append(await self.ask(user_id, text))

        started = time.perf_counter()
        await asyncio.gather(*(lane(work) for work in lanes))
        return Row(name, in_flight, len(jobs), time.perf_counter() - started, latencies)


async def start(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env={**os.environ, "NO_PROXY": "127.0.0.1,localhost", **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()


async def until_answering(driver: Driver, user_id: int, text: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            await driver.ask(user_id, text, timeout=5)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def lanes_of(users: list[int], text: Callable[[int], str], n: int) -> list[tuple[int, str]]:
    return [(users[i % len(users)], text(i)) for i in range(n)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600, help="requests per row")
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--in-flight", type=int, default=16)
    args = parser.parse_args()
    n, k = args.requests, args.in_flight
    load_before = os.getloadavg()
    standin = BotAPIStandIn()
    customers = list(range(FIRST, FIRST + args.members))
    for user_id in [*OWNERS, *customers]:
        standin.user(user_id, f"U{user_id}", language_code="en")
    driver = Driver(standin)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await seed(url, args.members)
        program = Path(tmp) / "program.toml"
        program.write_text('[messaging]\nquiet_hours = "off"\n', encoding="utf-8")
        async with StandInServer(standin) as api:
            token = f"{standin.bot_id}:bench"
            # 1. the ceiling: a bare aiogram echo bot
            echo = await start(["benchmarks/echo_bot.py"], {"BOT_TOKEN": token, "TELEGRAM_API_URL": api})
            try:
                await until_answering(driver, customers[0], "warm up")
                rows.append(await driver.run("echo (bare aiogram)", lanes_of(customers, lambda i: f"hello {i}", n), k))
                rows.append(await driver.run("echo (bare aiogram)", lanes_of(customers, lambda i: f"hi {i}", n // 3), 1))
            finally:
                await stop(echo)
            await standin.handle("getUpdates", {"offset": (standin.pending_updates() or [{"update_id": 0}])[-1]["update_id"] + 1, "timeout": 0})
            # 2. wafa run on SQLite
            wafa = await start(["-m", "bot", "run"], {
                "BOT_TOKEN": token, "TELEGRAM_API_URL": api, "DATABASE_URL": url, "PORT": "off",
                "ADMIN_IDS": ",".join(map(str, OWNERS)), "PROGRAM_FILE": str(program), "BROADCAST_RATE": "25",
            })
            try:
                await until_answering(driver, customers[0], "/balance")
                for owner in OWNERS:
                    await driver.ask(owner, "/help")
                # every member's card once, so the rows measure the steady state (QR sent by file_id)
                await driver.run("warm-up", lanes_of(customers, lambda i: "/balance", len(customers)), k)
                rows.append(await driver.run("/balance", lanes_of(customers, lambda i: "/balance", n), k))
                rows.append(await driver.run("/balance", lanes_of(customers, lambda i: "/balance", n // 3), 1))
                codes = [f"B{i:06d}" for i in range(args.members)]
                awards = [(OWNERS[i % len(OWNERS)], f"/award {codes[i % len(codes)]} 12") for i in range(n)]
                rows.append(await driver.run("/award", awards, k))
            finally:
                await stop(wafa)
    load_after = os.getloadavg()
    print(f"{n} requests per row ({n // 3} at 1 in flight), {args.members} members, SQLite, {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.1f} before / {load_after[0]:.1f} after")
    print(f"{'workload':22} {'in flight':>9} {'replies/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for row in rows:
        print(f"{row.name:22} {row.in_flight:9d} {row.rate:10.1f} {row.pct(0.5):8.1f} {row.pct(0.99):8.1f} "
              f"{max(row.latencies) * 1000:8.1f}")
    echo_rate = next(r.rate for r in rows if r.name.startswith("echo") and r.in_flight == k)
    balance = next(r for r in rows if r.name == "/balance" and r.in_flight == k)
    balance_one = next(r for r in rows if r.name == "/balance" and r.in_flight == 1)
    award = next(r for r in rows if r.name == "/award")
    print(f"/balance / echo = {balance.rate / echo_rate:.2f}  (target ≥ 0.25)")
    print(f"/award   / echo = {award.rate / echo_rate:.2f}  (target ≥ 0.12)")
    print(f"/balance p99 at 1 in flight = {balance_one.pct(0.99):.1f} ms  (target < 50)")
    print(f"/award p99 at {k} in flight = {award.pct(0.99):.1f} ms  (target ≤ 500)")
    print(f"median latency echo {statistics.median(next(r for r in rows if r.name.startswith('echo')).latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
