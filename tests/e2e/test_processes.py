"""End to end: `wafa run` as a real process, talking HTTP to the Bot API stand-in,
and `wafa demo` driven by a script on stdin."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from standin import BotAPIStandIn, StandInServer

ROOT = Path(__file__).resolve().parents[2]
OWNER = 4242
CUSTOMER = 777


class SlowSends(BotAPIStandIn):
    """Each sendMessage takes a while, so updates are still in flight at SIGTERM."""

    sends_started = 0

    async def handle(self, method, params):  # type: ignore[no-untyped-def]
        if method.lower() == "sendmessage":
            self.sends_started += 1
            await asyncio.sleep(0.4)
        return await super().handle(method, params)


async def start_bot(url: str, database: str, token: str, **extra: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": url,
        "DATABASE_URL": database,
        "ADMIN_IDS": str(OWNER),
        "PROGRAM_FILE": "",
        "PORT": "0",  # the HTTP side on any free port: never a fixed one in tests
        **extra,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


async def wait_polling(standin: BotAPIStandIn, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if standin.calls_to("getUpdates"):
            return
        if process.returncode is not None:
            output = await process.stdout.read()  # type: ignore[union-attr]
            raise AssertionError(output.decode())
        await asyncio.sleep(0.05)
    raise AssertionError("the bot never polled")


def e2e_database(tmp_path: Path, database_url: str) -> str:
    # The process migrates SQLite by itself; PostgreSQL uses the suite's migrated database.
    return database_url if database_url.startswith("postgresql") else f"sqlite+aiosqlite:///{tmp_path}/e2e.db"


async def test_wafa_run_serves_customers_and_owner_over_http(tmp_path: Path, db_url: str) -> None:
    standin = BotAPIStandIn()
    standin.user(CUSTOMER, "Reza", language_code="fa", username="reza")
    standin.user(OWNER, "Omar", language_code="en")
    async with StandInServer(standin) as url:
        process = await start_bot(url, e2e_database(tmp_path, db_url), f"{standin.bot_id}:e2e")
        try:
            await wait_polling(standin, process)
            standin.send_text(CUSTOMER, "/start")
            welcome = await standin.wait_for_messages(CUSTOMER, count=2, timeout=15)
            assert "خوش آمدید" in welcome[0].text and "۲۰ امتیاز" in welcome[0].text
            standin.send_text(OWNER, "/award @reza ۱۰۰")
            receipt = await standin.wait_for_messages(OWNER, timeout=15)
            assert "100 points to Reza" in receipt[0].text
            notice = await standin.wait_for_messages(CUSTOMER, timeout=15, after=len(standin.messages(CUSTOMER)))
            assert "۱۰۰ امتیاز" in notice[0].text and "۱۲۰ امتیاز" in notice[0].text
            commands = standin.calls_to("setMyCommands")
            assert {c.get("language_code") for c in commands} >= {"ar", "fa", "en"}
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0


async def test_sigterm_finishes_updates_in_flight(tmp_path: Path, db_url: str) -> None:
    standin = SlowSends()
    for i in range(5):
        standin.user(CUSTOMER + i, f"Guest{i}", language_code="en")
    async with StandInServer(standin) as url:
        # PORT=off: `wafa run` without its HTTP side still serves Telegram.
        process = await start_bot(url, e2e_database(tmp_path, db_url), f"{standin.bot_id}:e2e", PORT="off")
        await wait_polling(standin, process)
        for i in range(5):
            standin.send_text(CUSTOMER + i, "/help")
        for _ in range(500):  # until all five replies are on their way (and none has arrived)
            if standin.sends_started == 5:
                break
            await asyncio.sleep(0.01)
        assert [u["update_id"] for u in standin.pending_updates()] == [1, 2, 3, 4, 5]  # not confirmed yet
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        replies = [standin.messages(CUSTOMER + i) for i in range(5)]
        confirmed = not standin.pending_updates()
    assert process.returncode == 0 and confirmed
    assert all(len(r) == 1 and "/balance" in r[0].text for r in replies)


def test_wafa_demo_runs_a_script(tmp_path: Path) -> None:
    script = "\n".join(
        [":as fa", "/start", "1", ":as owner", "/award @sara_demo ۳۰", ":as fa", "/balance", ":quit"]
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(tmp_path / "demo.db")],
        input=script, capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN"}},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "به کافه وفا خوش آمدید" in out
    assert "30 points to سارا" in out
    assert "⭐ موجودی: ۵۰ امتیاز" in out  # 20 signup + 30 purchase, in Persian digits
    assert "انجام شد: از پیشنهادها" in out  # button 1 gave marketing consent


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_wafa_webhook_handles_pushed_updates(tmp_path: Path, db_url: str) -> None:
    import aiohttp

    standin = BotAPIStandIn()
    standin.user(CUSTOMER, "Reza", language_code="fa")
    port = free_port()
    hook = "https://bot.example.test/telegram"  # TLS ends at a proxy; the bot listens on PORT
    local = f"http://127.0.0.1:{port}/telegram"
    async with StandInServer(standin) as url:
        env = {
            **os.environ, "BOT_TOKEN": f"{standin.bot_id}:hook", "TELEGRAM_API_URL": url,
            "DATABASE_URL": e2e_database(tmp_path, db_url), "ADMIN_IDS": str(OWNER), "PROGRAM_FILE": "",
            "WEBHOOK_URL": hook, "WEBHOOK_SECRET": "s3cret-token", "PORT": str(port),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                if standin.webhook_url == hook:
                    break
                await asyncio.sleep(0.05)
            assert standin.webhook_url == hook
            standin.send_text(CUSTOMER, "/start")
            update = standin.pending_updates()[-1]
            async with aiohttp.ClientSession() as http:
                refused = await http.post(local, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
                assert refused.status == 401
                accepted = await http.post(local, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
                assert accepted.status == 200
            replies = standin.messages(CUSTOMER)
            assert len(replies) == 3 and "خوش آمدید" in replies[0].text  # welcome, phone, birthday: handled inside the request
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0
