"""`wafa run` tells the truth at start: a refused token stops it with one line naming
BOT_TOKEN; a good one prints the bot's @username and the mode; `wafa migrate` on a
fresh database says it created the schema (issue 12)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from standin import BotAPIStandIn, StandInServer
from tests.e2e.test_processes import ROOT, start_bot, wait_polling
from tests.support import TOKEN


async def test_a_refused_token_stops_wafa_run_with_one_line(tmp_path: Path) -> None:
    standin = BotAPIStandIn(token=TOKEN)  # the stand-in answers 401 to any other token
    async with StandInServer(standin) as url:
        process = await start_bot(url, f"sqlite+aiosqlite:///{tmp_path}/bot.db", "7000000001:not-the-right-token",
                                  PORT="off")
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode != 0
    lines = [line for line in output.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("wafa: BOT_TOKEN:") and "401" in lines[0]
    assert not (tmp_path / "bot.db").exists()  # nothing else happened first


async def test_a_good_token_prints_the_username_and_the_mode(tmp_path: Path) -> None:
    standin = BotAPIStandIn()
    async with StandInServer(standin) as url:
        process = await start_bot(url, f"sqlite+aiosqlite:///{tmp_path}/bot.db", TOKEN, PORT="off")
        try:
            for _ in range(1200):  # a loaded machine starts slowly
                if standin.calls_to("getUpdates") or process.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            await wait_polling(standin, process)
        finally:
            process.terminate()
            output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    first = output.decode().splitlines()[0]
    assert first == f"wafa: @{standin.username} is running (long polling)"


def test_migrate_on_a_fresh_database_says_it_created_the_schema(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/fresh.db", "PROGRAM_FILE": "",
           "BOT_TOKEN": "", "ADMIN_IDS": "1"}
    first = subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "created the database schema" in first.stdout
    again = subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert "database is up to date" in again.stdout
