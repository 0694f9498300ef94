"""Purchases per second through the HTTP API, with `wafa run` as real processes.

    python benchmarks/bench_api.py [--purchases 2000] [--concurrency 32] [--pg postgresql+asyncpg://…]

Each row starts one or two `wafa run` processes (each with its HTTP side on
its own port, polling a Bot API stand-in that also receives the receipts),
on SQLite (WAL, one file) and, with `--pg`, on a throwaway PostgreSQL
database. The client posts `POST /api/v1/purchases` for 200 members with
distinct order ids, `--concurrency` at a time, round-robin over the
replicas, and prints purchases/s and p50/p99 latency. Every purchase is a
full transaction: the order row, the ledger entry, the balance, the tier
check, the receipt in the outbox, the audit. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.throwaway import pg_database
from bot.app import App
from bot.config import Settings
from bot.domain.members import CODE_ALPHABET
from bot.services import api_keys
from standin import BotAPIStandIn, StandInServer
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Member

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = 200
FIRST = 50_000


def code(i: int) -> str:
    """A valid member code (the alphabet has no 0, 1, O, I…) for buyer `i`."""
    digits = ""
    for _ in range(5):
        i, rest = divmod(i, len(CODE_ALPHABET))
        digits = CODE_ALPHABET[rest] + digits
    return "B" + digits


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(url: str) -> str:
    """Migrated database with MEMBERS members; returns an API key."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        joined = datetime(2026, 1, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                insert(Member),
                [
                    {
                        "telegram_id": FIRST + i,
                        "code": code(i),
                        "first_name": f"Buyer{i}",
                        "language": "en",
                        "balance": 0,
                        "tier": 0,
                        "marketing_opt_in": False,
                        "joined_at": joined,
                    }
                    for i in range(MEMBERS)
                ],
            )
    finally:
        await engine.dispose()
    app = App(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        return await api_keys.create_key(app.ctx, "bench")
    finally:
        await app.close()


async def start_replica(api: str, url: str, token: str, program: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {
        **os.environ,
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": api,
        "DATABASE_URL": url,
        "PORT": str(port),
        "PROGRAM_FILE": str(program),
        "NO_PROXY": "127.0.0.1,localhost",
        "ADMIN_IDS": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                raise RuntimeError(f"wafa run exited with {process.returncode}")
            await asyncio.sleep(0.05)
    raise RuntimeError("the replica never became ready")


async def measure(bases: list[str], key: str, n: int, concurrency: int, tag: str) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    failures = 0
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:

        async def one(i: int) -> None:
            nonlocal failures
            body = {"order_id": f"{tag}-{i}", "member": code(i % MEMBERS), "amount": "12.50"}
            async with slots:
                started = time.perf_counter()
                answer = await client.post(f"{bases[i % len(bases)]}/api/v1/purchases", json=body)
                latencies.append(time.perf_counter() - started)
                failures += answer.status_code != 201

        await asyncio.gather(*(one(i) for i in range(50)))  # warm up: connections, caches
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(50, 50 + n)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return n / elapsed, statistics.median(latencies) * 1000, p99 * 1000, failures


async def row(url: str, replicas: int, n: int, concurrency: int, program: Path) -> tuple[float, float, float, int]:
    key = await prepare(url)
    standin = BotAPIStandIn()
    for i in range(MEMBERS):
        standin.user(FIRST + i, f"Buyer{i}", language_code="en")
        standin.send_text(FIRST + i, "hi")  # the chats exist for the stand-in
    last = standin.pending_updates()[-1]["update_id"]
    await standin.handle("getUpdates", {"offset": last + 1, "timeout": 0})
    processes: list[asyncio.subprocess.Process] = []
    async with StandInServer(standin) as api:
        try:
            bases = []
            for _ in range(replicas):
                process, base = await start_replica(api, url, f"{standin.bot_id}:bench", program)
                processes.append(process)
                bases.append(base)
            return await measure(bases, key, n, concurrency, f"r{replicas}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                await process.wait()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pg", default=os.environ.get("WAFA_BENCH_PG_URL"), help="PostgreSQL server URL (asyncpg)")
    args = parser.parse_args()
    table: list[tuple[str, int, float, float, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "program.toml"
        program.write_text('[messaging]\nquiet_hours = "off"\n', encoding="utf-8")
        for replicas in (1, 2):
            url = f"sqlite+aiosqlite:///{tmp}/bench-{replicas}.db"
            table.append(
                ("SQLite (WAL)", replicas, *await row(url, replicas, args.purchases, args.concurrency, program))
            )
        if args.pg:
            for replicas in (1, 2):
                async with pg_database(args.pg) as url:
                    table.append(
                        ("PostgreSQL", replicas, *await row(url, replicas, args.purchases, args.concurrency, program))
                    )
    print(
        f"{args.purchases} purchases per row over HTTP, {args.concurrency} in flight, `wafa run` processes, "
        f"{os.cpu_count()} CPUs shared with the client and the stand-in"
    )
    print(f"{'database':14} {'replicas':>8} {'purchases/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'not 201':>8}")
    for database, replicas, rate, p50, p99, failures in table:
        print(f"{database:14} {replicas:8d} {rate:12.0f} {p50:8.1f} {p99:8.1f} {failures:8d}")


if __name__ == "__main__":
    asyncio.run(main())
