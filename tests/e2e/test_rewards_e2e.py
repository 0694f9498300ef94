"""End to end: `wafa run-job expiry --date …` as an operator runs it, and issue 3's
"Done when" in `wafa demo`: the owner adds a reward in three languages, a Persian
customer redeems it in two taps and gets a voucher with a QR code, the cashier
validates it once and a second validation is refused."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.services import members
from standin import BotAPIStandIn
from tests.support import make_app

ROOT = Path(__file__).resolve().parents[2]
VOUCHER = re.compile(r"[2-9A-HJKMNP-TW-Z]{2,4}-[2-9A-HJKMNP-TW-Z]{7}")
BUTTON = re.compile(r"\[(\d+)\] (.+?)(?=\s{3}\[\d+\]|$)")


def cli_env(database_url: str) -> dict[str, str]:
    hidden = {"BOT_TOKEN", "ADMIN_IDS", "PROGRAM_FILE", "TIMEZONE"}
    return {**{k: v for k, v in os.environ.items() if k not in hidden}, "DATABASE_URL": database_url}


async def test_run_job_expiry_with_a_date_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/jobs.db"
    app = await make_app(url, BotAPIStandIn())
    try:
        await app.prepare_database()
        joined = await members.enrol(app.ctx, members.TelegramProfile(42, "Ali", None, None, "fa"))
    finally:
        await app.close()
    command = [sys.executable, "-m", "bot", "run-job", "expiry", "--date", "2027-03-12"]
    for _ in range(2):  # safe to run twice
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=cli_env(url), timeout=120)
        assert result.returncode == 0, result.stderr
    assert "wafa: expiry: 0 vouchers expired" in result.stdout and "0 points expired" in result.stdout
    app = await make_app(url, BotAPIStandIn())
    try:
        async with app.ctx.uow() as uow:
            member = await uow.members.by_id(joined.member.id)
            assert member.balance == 0 and await uow.ledger.by_key(f"expire:2027-03-12:{member.id}") is not None
    finally:
        await app.close()
    bad = subprocess.run([*command[:-1], "12/03/2027"], capture_output=True, text=True, cwd=ROOT, env=cli_env(url))
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


class Demo:
    """`wafa demo` fed one line at a time; each step waits for a marker the demo prints
    after the bot has answered the line (a persona switch, echoed as 'you are now')."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.persona = "en"
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    async def say(self, text: str) -> str:
        assert self.process.stdin is not None
        if text.startswith(":as "):
            self.persona = text.split()[1]
        start = len(self.lines)
        self.process.stdin.write(f"{text}\n:as {self.persona}\n".encode())
        await self.process.stdin.drain()
        for _ in range(600):
            new = self.lines[start:]
            if sum("(you are now" in line for line in new) >= (2 if text.startswith(":as ") else 1):
                return "\n".join(new)
            await asyncio.sleep(0.05)
        raise AssertionError("the demo did not answer:\n" + "\n".join(self.lines[start:]))

    async def press(self, label: str, output: str) -> str:
        numbers = {text.strip(): number for number, text in BUTTON.findall(output.replace("\n", "   "))}
        number = next((n for text, n in numbers.items() if label in text), None)
        assert number is not None, f"no button {label!r} in {numbers}"
        return await self.say(number)

    async def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(b":quit\n")
        await self.process.stdin.drain()
        self.process.stdin.close()
        code = await asyncio.wait_for(self.process.wait(), 60)
        await self._reader
        return code


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


async def test_done_when_in_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN", "PROGRAM_FILE"}}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(tmp_path / "demo.db"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
    )
    demo = Demo(process)
    try:
        await demo.say(":as owner")
        catalog = await demo.say("/rewards_admin")
        assert "Rewards catalog" in catalog and "Free coffee" in catalog
        out = await demo.press("Add a reward", catalog)
        for answer in ("Cinnamon roll", "لفافة القرفة", "رول دارچینی", "Fresh from our oven", "طازجة من فرننا",
                       "تازه از فر ما"):
            out = await demo.say(answer)
        out = await demo.say(":say 120")  # a bare number would press button 120
        out = await demo.press("Free product", out)
        out = await demo.say(":say ۱۰")
        out = await demo.press("No limit", out)
        out = await demo.press("everyone", out)
        out = await demo.press("Keep 30 days", out)
        preview = await demo.press("No end date", out)
        assert "Check the new reward" in preview and "رول دارچینی" in preview and "لفافة القرفة" in preview
        saved = await demo.press("Save", preview)
        assert "The reward is in the catalog" in saved

        await demo.say(":as fa")
        assert "به کافه وفا خوش آمدید" in await demo.say("/start")
        await demo.say(":as owner")
        assert "150 points to سارا" in await demo.say("/award @sara_demo 150")
        await demo.say(":as fa")
        rewards = await demo.say("/rewards")
        assert "رول دارچینی" in rewards and "۱۷۰ امتیاز" in rewards
        prompt = await demo.press("رول دارچینی", rewards)  # tap 1
        assert "تازه از فر ما" in prompt and "همین حالا دریافتش می‌کنید؟" in prompt
        voucher = await demo.press("بله", prompt)  # tap 2
        assert "[photo saved to" in voucher and "کوپن: رول دارچینی" in voucher and "۵۰ امتیاز" in voucher
        code = VOUCHER.search(voucher).group(0)  # type: ignore[union-attr]
        photo = Path(re.search(r"\[photo saved to (.+?)\]", voucher).group(1))  # type: ignore[union-attr]
        assert photo.read_bytes().startswith(b"\x89PNG")

        await demo.say(":as owner")
        first = await demo.say(f"/redeem {code}")
        assert "is valid and is now marked as used" in first and "Cinnamon roll" in first  # the owner reads English
        plain = first.replace("\u2068", "").replace("\u2069", "")  # codes are isolated inside RTL text
        assert f"(to سارا) ✅ کوپن {code} شما برای رول دارچینی همین حالا استفاده شد" in plain
        second = await demo.say(f"/redeem {code}")
        assert "was already used on" in second and "is valid" not in second
    finally:
        code = await demo.close()
    assert code == 0, "\n".join(demo.lines[-30:])
