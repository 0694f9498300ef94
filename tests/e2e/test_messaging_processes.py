"""End to end for scheduled messages: `wafa run` killed with SIGKILL in the middle
of a broadcast and started again delivers the rest with no duplicates;
`wafa run-job` from the command line; and the issue's "done when" in `wafa demo`."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.domain.broadcasts import Segment
from bot.services import broadcasts
from standin import BotAPIStandIn, StandInServer
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Member, OutboxMessage
from tests.e2e.test_processes import e2e_database
from tests.support import make_app

ROOT = Path(__file__).resolve().parents[2]
OWNER = 4242
FIRST_MEMBER = 20_000
MEMBERS = 100


def bot_env(url: str, database: str, token: str, program: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": url,
        "DATABASE_URL": database,
        "ADMIN_IDS": str(OWNER),
        "PROGRAM_FILE": str(program),
        "NO_PROXY": "127.0.0.1,localhost",
        "PORT": "0",
        **extra,
    }


def no_quiet_hours(tmp_path: Path) -> Path:
    # The processes run on the real clock: a test run at night must not wait for 09:00.
    path = tmp_path / "program.toml"
    path.write_text('[messaging]\nquiet_hours = "off"\n', encoding="utf-8")
    return path


async def prepare(database: str) -> None:
    engine = create_engine(database)
    try:
        await upgrade(engine)
        joined = datetime(2026, 1, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                insert(Member),
                [
                    {"telegram_id": FIRST_MEMBER + i, "code": f"E{i:05d}", "first_name": f"Guest{i}",
                     "language": "en", "balance": 0, "tier": 0, "marketing_opt_in": True, "joined_at": joined}
                    for i in range(MEMBERS)
                ],
            )
    finally:
        await engine.dispose()


async def everyone_has_talked_to_the_bot(standin: BotAPIStandIn) -> None:
    for user_id in [OWNER, *range(FIRST_MEMBER, FIRST_MEMBER + MEMBERS)]:
        standin.user(user_id, f"Guest{user_id - FIRST_MEMBER}" if user_id != OWNER else "Omar", language_code="en")
        standin.send_text(user_id, "hi")
    last = standin.pending_updates()[-1]["update_id"]
    await standin.handle("getUpdates", {"offset": last + 1, "timeout": 0})  # seen long ago


async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )


def broadcast_deliveries(standin: BotAPIStandIn) -> Counter[int]:
    """Messages Telegram accepted (a call refused with 429 or 403 delivers nothing)."""
    return Counter(
        chat_id
        for chat_id in range(FIRST_MEMBER, FIRST_MEMBER + MEMBERS)
        for message in standin.messages(chat_id)
        if "Flash sale" in (message.text or "")
    )


def refused_with_429(standin: BotAPIStandIn, blocked: tuple[int, ...]) -> int:
    calls = standin.calls_to("sendMessage")
    to_blocked = sum(1 for params in calls if int(params.get("chat_id", 0)) in blocked)  # those got 403
    return len(calls) - sum(standin.sends_per_chat.values()) - to_blocked


async def wait_until(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_broadcast_then_restart_delivers_the_rest_once(tmp_path: Path, db_url: str) -> None:
    database = e2e_database(tmp_path, db_url)
    await prepare(database)
    standin = BotAPIStandIn()
    await everyone_has_talked_to_the_bot(standin)
    seeder = await make_app(database, standin)
    try:
        token = await broadcasts.issue_confirmation(seeder.ctx, OWNER)
        created = await broadcasts.create_broadcast(
            seeder.ctx, owner_id=OWNER, owner_lang="en", segment=Segment("all"),
            texts={"*": "Flash sale, {first_name}!"}, send_at=None, token=token,
        )
        number = created.broadcast.id
    finally:
        await seeder.close()
    blockers = (FIRST_MEMBER + 7, FIRST_MEMBER + 77)
    for user_id in blockers:
        standin.block(user_id)  # 403 from now on (and a my_chat_member update the bot may see first)
    standin.rate_limit(global_per_second=15)  # below BROADCAST_RATE: 429s with retry_after
    async with StandInServer(standin) as url:
        env = bot_env(url, database, f"{standin.bot_id}:e2e", no_quiet_hours(tmp_path), BROADCAST_RATE="20")
        first = await start(env)
        await wait_until(lambda: sum(broadcast_deliveries(standin).values()) >= 30, timeout=60)
        first.send_signal(signal.SIGKILL)  # no goodbye: whatever was in flight stays in flight
        await first.wait()
        at_kill = sum(broadcast_deliveries(standin).values())
        assert at_kill < MEMBERS
        second = await start(env)
        try:
            report = await standin.wait_for_messages(OWNER, timeout=90)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)
    assert second.returncode == 0
    deliveries = broadcast_deliveries(standin)
    assert max(deliveries.values()) == 1  # nobody got it twice
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(
                select(OutboxMessage.chat_id, OutboxMessage.status).where(OutboxMessage.batch == f"broadcast:{number}")
            )).all()
    finally:
        await engine.dispose()
    status = dict(rows)
    counts = Counter(status.values())
    assert [status[user_id] for user_id in blockers] == ["blocked", "blocked"]
    assert set(counts) <= {"sent", "unknown", "blocked"}
    assert counts["sent"] + counts["unknown"] == MEMBERS - 2
    assert counts["unknown"] <= 8  # at most the sends in flight at the kill
    assert refused_with_429(standin, blockers) > 0  # the stand-in's rate limit was hit, and obeyed
    assert all(deliveries[chat] == 1 for chat, s in status.items() if s == "sent")
    assert sum(deliveries.values()) >= counts["sent"]  # the unknown ones may or may not have arrived
    assert f"Delivered: {counts['sent']}" in report[0].text and "blocked the bot: 2" in report[0].text
    assert f"never sent twice): {counts['unknown']}" in report[0].text


async def test_run_job_from_the_command_line(tmp_path: Path, db_url: str) -> None:
    database = e2e_database(tmp_path, db_url)
    engine = create_engine(database)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(insert(Member).values(
                telegram_id=777, code="SARA22", first_name="سارا", language="fa", balance=20, tier=0,
                marketing_opt_in=False, joined_at=datetime(2026, 1, 1, tzinfo=UTC),
                birth_calendar="j", birth_year=1369, birth_month=2, birth_day=27,
            ))
    finally:
        await engine.dispose()
    standin = BotAPIStandIn()
    standin.user(777, "سارا", language_code="fa")
    standin.send_text(777, "/start")
    await standin.handle("getUpdates", {"offset": 2, "timeout": 0})
    async with StandInServer(standin) as url:
        env = bot_env(url, database, f"{standin.bot_id}:e2e", no_quiet_hours(tmp_path))

        def run_job(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "bot", "run-job", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)

        loop = asyncio.get_running_loop()
        first = await loop.run_in_executor(None, run_job, "birthdays", "--date", "2026-05-17")
        assert first.returncode == 0 and "1 greeting(s) queued, 1 bonus(es) paid" in first.stdout, first.stderr
        again = await loop.run_in_executor(None, run_job, "birthdays", "--date", "2026-05-17")
        assert "0 greeting(s) queued" in again.stdout and "1 already celebrated" in again.stdout
        winback = await loop.run_in_executor(None, run_job, "winback")
        assert winback.returncode == 0 and "message(s) queued" in winback.stdout
        unknown = await loop.run_in_executor(None, run_job, "nosuch")
        assert unknown.returncode == 2 and "available:" in unknown.stderr
        bad_date = await loop.run_in_executor(None, run_job, "birthdays", "--date", "2026-02-30")
        assert bad_date.returncode == 2
        sent = await loop.run_in_executor(None, run_job, "outbox")
        assert sent.returncode == 0 and "sent 1" in sent.stdout, sent.stdout + sent.stderr
    greeting = standin.messages(777)[-1].text
    assert "تولدتان مبارک" in greeting and "۱۰۰ امتیاز" in greeting and "۱۲۰ امتیاز" in greeting


def test_done_when_in_the_demo(tmp_path: Path) -> None:
    """A Persian customer sets a Jalali birthday; the birthdays job on that day greets
    her in Persian with the bonus; a broadcast to a segment arrives once per member,
    and the owner gets the report."""
    script = "\n".join(
        [
            ":as fa", "/start", "1", "/birthday", "۱۳۶۹/۰۲/۲۷",
            "1",  # هجری شمسی
            "3",  # ✅ بله، ثبت کن
            ":as en", "/start", "1",
            ":as ar", "/start", "2",  # Layla does not want offers
            ":job birthdays --date 2026-05-17",
            ":as owner", "/help", "/broadcast",
            "1",  # Everyone
            "9",  # a text per language (fa and en: Layla is not reachable); buttons count on from 8
            "{first_name} عزیز، این هفته امتیاز دوبرابر است!",
            "Double points this week, {first_name}!",
            "1",  # 📤 Send now
            ":wait 2",
            ":quit",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(tmp_path / "demo.db")],
        input=script, capture_output=True, text=True, cwd=ROOT, timeout=180,
        env={k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN", "PROGRAM_FILE"}},
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "هجری شمسی: ۲۷ اردیبهشت ۱۳۶۹" in out and "ثبت شد: ۲۷ اردیبهشت ۱۳۶۹" in out
    assert "1 greeting(s) queued, 1 bonus(es) paid" in out
    assert "سارا، تولدتان مبارک!" in out and "۱۰۰ امتیاز به‌عنوان هدیه" in out
    assert out.count("سارا عزیز، این هفته امتیاز دوبرابر است!") == 1
    assert out.count("Double points this week, Emma!") == 1
    assert "Omar عزیز" in out  # the owner's preview
    assert "Broadcast #1 is done" in out
    assert "Delivered: 2" in out and "no consent to offers: 1" in out


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
