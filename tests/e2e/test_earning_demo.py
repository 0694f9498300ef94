"""Issue 14's "done when" in `wafa demo` with the documented program file: the coffee
card and "20 points for joining our channel" in /earn and on the card, the channel
checked through the stand-in's getChatMember (left, then member), and /stamp with its
daily cap."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.test_rewards_e2e import ROOT, Demo

EXAMPLE = ROOT / "docs" / "program.example.toml"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


async def test_the_coffee_card_and_the_channel_in_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN"}}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(tmp_path / "demo.db"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT), "PROGRAM_FILE": str(EXAMPLE)},
    )
    demo = Demo(process)
    try:
        await demo.say(":as en")
        await demo.say("/start")
        earn = await demo.say("/earn")
        assert "Coffee card: ○○○○○○○○" in earn and "Join our channel — +20 points · once · available now" in earn
        refused = await demo.press("I joined: check", earn)
        assert "I can't see you in" in refused  # not in the channel yet: nothing is paid
        assert "joined @wafa_cafe" in await demo.say(":join")
        paid = await demo.press("I joined: check", await demo.say("/earn"))
        assert "Join our channel: +20 points. Your balance is 40 points." in paid
        await demo.say(":as owner")
        stamped = await demo.say("/stamp @emma_demo")
        assert "✅ 1 stamp for Emma" in stamped and "(to Emma) ☕ +1 stamp on your Coffee card: ●○○○○○○○" in stamped
        assert "at most 1 stamp a day" in await demo.say("/stamp @emma_demo")  # the card's daily cap
        await demo.say(":as en")
        card = await demo.say("/balance")
        assert "Coffee card: ●○○○○○○○" in card
    finally:
        code = await demo.close()
    assert code == 0, "\n".join(demo.lines[-30:])
