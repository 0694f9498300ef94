"""Issue 15's "done when" in `wafa demo`: the owner handles a detractor with goodwill points,
the member is asked a week later (`:job recovery --date …`), and a prize draw runs to its
close (`:job draws --date …`) with a result that `wafa draw verify` confirms."""
from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.test_rewards_e2e import ROOT, Demo


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _env() -> dict[str, str]:
    drop = {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN", "PROGRAM_FILE", "TIMEZONE"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "PYTHONPATH": str(ROOT), "PORT": "0"}


async def test_recovery_and_a_verified_draw_in_the_demo(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(database),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path, env=_env(),
    )
    today = datetime.now(UTC).date()
    demo = Demo(process)
    try:
        # A detractor: the owner (who has opened the chat) gets the alert with its buttons.
        await demo.say(":as owner")
        await demo.say("/help")
        await demo.say(":as en")
        await demo.say("/start")
        survey = await demo.say("/feedback")
        await demo.press("2", survey.split("How likely", 1)[1])
        alerted = await demo.say("The coffee was cold") + await demo.say(":wait 1.5")
        assert "(to Omar) ⚠️ Unhappy customer: Emma" in alerted
        assert "Goodwill budget left this month: 1,000 points of 1,000 points." in alerted
        # The owner gives goodwill points from the alert.
        alert = await demo.say(":as owner")
        handled = await demo.press("💐 +50 points", alert + alerted) + await demo.say(":wait 1.5")
        assert "50 points given. Budget left this month: 950 points." in handled
        assert "Handled by Omar: gave 50 points." in handled
        assert "(to Emma) 💐 We are sorry we let you down. 50 points are on your balance" in handled
        # A week later the member is asked, once.
        asked = await demo.say(f":job recovery --date {today + timedelta(days=7)}") + await demo.say(":wait 1.5")
        assert "asked 1 member(s)" in asked and "Did we make it right?" in asked
        await demo.say(":as en")
        answered = await demo.press("👍 Yes", asked)
        assert "glad we could make it right" in answered
        assert "asked 0 member(s)" in await demo.say(f":job recovery --date {today + timedelta(days=8)}")
        # A prize draw: one entry per purchase, one winner.
        await demo.say(":as owner")
        assert "What is it called?" in await demo.say("/draw")
        assert "When can members enter?" in await demo.say("Spring draw")
        rule = await demo.say("1d")
        assert "How are entries earned?" in rule
        assert "What do winners get?" in await demo.press("One entry per purchase", rule)
        assert "How many winners?" in await demo.say("coffee")
        summary = await demo.say(":say 1")
        opened = await demo.press("Local rules allow this draw", summary) + await demo.say(":wait 1")
        assert "Draw #1 is open." in opened and "SHA-256" in opened
        await demo.say("/award @emma_demo 20")
        await demo.say(":as en")
        assert "You have 1 entry of 1." in await demo.say("/draws")
        await demo.say(":as owner")
        closed = await demo.say(f":job draws --date {today + timedelta(days=2)}") + await demo.say(":wait 2")
        assert "1 draw(s) closed, 1 winner(s) drawn" in closed
        assert "(to Emma) [photo saved to" in closed and "🎉 You won the prize draw Spring draw!" in closed
        assert "Draw #1 Spring draw has closed." in closed and "wafa draw verify 1" in closed
    finally:
        code = await demo.close()
    assert code == 0, "\n".join(demo.lines[-40:])
    verify = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "draw", "verify", "1", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, cwd=tmp_path, env={**_env(), "DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
    )
    output = (await asyncio.wait_for(verify.communicate(), 120))[0].decode()
    assert verify.returncode == 0, output
    assert "sha256(seed) matches the published commitment" in output
    assert "draw 1: OK, the result matches" in output
