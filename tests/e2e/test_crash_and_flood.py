"""`wafa run` as a real process under hostile conditions, through the Bot API stand-in:

- killed with SIGKILL at random moments while cashiers award purchases and
  customers redeem rewards, restarted each time: every update is handled in
  the end, each action exactly once, and everything a user was told happened;
- flooded with 300 messages from one account: another customer is answered
  promptly, the flooder is told once to slow down and then ignored.
"""
from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.ledger import command_key
from standin import BotAPIStandIn, BotMessage, StandInServer, buttons
from storage.engine import create_engine
from storage.models import LedgerEntry, Member, Voucher
from tests.e2e.test_processes import e2e_database

ROOT = Path(__file__).resolve().parents[2]
OWNERS = (4242, 4243, 4244)  # three tills awarding at once
KILLS = 3
LAUNCHER = Path(__file__).with_name("forking_launcher.py")
CUSTOMERS = tuple(range(9001, 9007))
VOUCHER = re.compile(r"[2-9A-HJKMNP-TW-Z]{2,4}-[2-9A-HJKMNP-TW-Z]{7}")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


class Bots:
    """`wafa run` processes forked by `forking_launcher.py`: started, SIGKILLed, started again.

    A fork runs exactly what `wafa run` runs; only the interpreter's start and
    the imports are paid once, so a restart takes a moment even on a busy machine.
    """

    def __init__(self, standin: BotAPIStandIn, url: str, database: str, log: Path) -> None:
        self.standin = standin
        self.log = log
        self.env = {
            **os.environ,
            "BOT_TOKEN": f"{standin.bot_id}:e2e",
            "TELEGRAM_API_URL": url,
            "DATABASE_URL": database,
            "ADMIN_IDS": ",".join(map(str, OWNERS)),
            "PROGRAM_FILE": "",
            "PORT": "0",  # the HTTP side on any free port: never a fixed one in tests
        }
        self.launcher: asyncio.subprocess.Process | None = None
        self.pid: int | None = None
        self.starts = 0

    async def _ask(self, line: str) -> int:
        if self.launcher is None:
            with self.log.open("ab") as log:  # a file, never a pipe that could fill up and stall the bot
                self.launcher = await asyncio.create_subprocess_exec(
                    sys.executable, str(LAUNCHER), cwd=ROOT, env=self.env,
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
                )
        assert self.launcher.stdin is not None and self.launcher.stdout is not None
        self.launcher.stdin.write(f"{line}\n".encode())
        await self.launcher.stdin.drain()
        answer = await asyncio.wait_for(self.launcher.stdout.readline(), 120)
        if not answer:
            raise AssertionError(self.log.read_text())
        return int(answer)

    async def start(self) -> None:
        polled = len(self.standin.calls_to("getUpdates"))
        self.pid = await self._ask("start")
        self.starts += 1
        try:
            await until(lambda: len(self.standin.calls_to("getUpdates")) > polled, timeout=120)
        except AssertionError:
            raise AssertionError(f"the bot never polled:\n{self.log.read_text()}") from None

    async def kill(self) -> int:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        return await self._ask(f"wait {self.pid}")

    async def stop(self) -> int:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGTERM)
        status = await self._ask(f"wait {self.pid}")
        self.pid = None
        return status

    async def close(self) -> None:
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            await self._ask(f"wait {self.pid}")
            self.pid = None
        if self.launcher is not None and self.launcher.stdin is not None:
            self.launcher.stdin.close()
            await asyncio.wait_for(self.launcher.wait(), 30)


async def until(condition: Callable[[], Any], timeout: float = 40.0, *, or_none: bool = False) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        await asyncio.sleep(0.05)
    if or_none:
        return None
    raise AssertionError("timed out waiting")


def button(message: BotMessage, prefix: str) -> str | None:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for key in row:
            if str(key.get("callback_data", "")).startswith(prefix):
                return str(key["callback_data"])
    return None


@dataclass
class Script:
    """What the test did, to check against what the bot did."""

    awards: list[tuple[int, int, Decimal]] = field(default_factory=list)  # (till, message id, amount)
    confirms: list[tuple[int, str, str]] = field(default_factory=list)  # (customer, token, callback id)
    redeems: list[tuple[int, int, str]] = field(default_factory=list)  # (till, message id, voucher code)


async def redeem_a_pastry(
    standin: BotAPIStandIn, customer: int, script: Script, seen: set[tuple[int, int]]
) -> None:
    """/rewards, tap the pastry, confirm: reacting to whatever the bot shows, as a person would
    (and asking again when the answer is slow in coming, e.g. across a restart)."""

    def pastry(message: BotMessage) -> str | None:
        return next((data for label, data in buttons(message) if data and "pastry" in label), None)

    catalog: BotMessage | None = None
    while catalog is None:
        before = len(standin.messages(customer))
        standin.send_text(customer, "/rewards")
        catalog = await until(
            lambda before=before: next(
                (m for m in standin.messages(customer)[before:] if (customer, m.message_id) not in seen and pastry(m)), None
            ),
            timeout=8,
            or_none=True,
        )
    seen.add((customer, catalog.message_id))  # message ids count per chat
    standin.press_raw(customer, catalog.message_id, pastry(catalog) or "")
    data = await until(lambda: button(catalog, "rwc:"))  # the pick edits the catalog into the question
    pressed = standin.press_raw(customer, catalog.message_id, data)
    script.confirms.append((customer, data.removeprefix("rwc:"), pressed["id"]))


async def test_sigkill_at_random_moments_loses_nothing_and_repeats_nothing(tmp_path: Path, db_url: str) -> None:
    rng = random.Random()
    standin = BotAPIStandIn()
    for number, user in enumerate(OWNERS):
        standin.user(user, f"Till{number}", language_code="en")
    for number, user in enumerate(CUSTOMERS):
        standin.user(user, f"Guest{number}", language_code="en", username=f"guest{number}")
    script = Script()
    database = e2e_database(tmp_path, db_url)
    async with StandInServer(standin) as url:
        bots = Bots(standin, url, database, tmp_path / "bot.log")
        try:
            await bots.start()
            for user in CUSTOMERS:
                standin.send_text(user, "/start")
            for user in CUSTOMERS:
                await standin.wait_for_messages(user, timeout=30, after=0)

            async def tills() -> None:
                for round_ in range(8):
                    for till in OWNERS:
                        for n in range(2):
                            customer = CUSTOMERS[(round_ * 6 + OWNERS.index(till) * 2 + n) % len(CUSTOMERS)]
                            amount = Decimal(f"{150 + len(script.awards)}.75")
                            sent = standin.send_text(till, f"/award @guest{CUSTOMERS.index(customer)} {amount}")
                            script.awards.append((till, sent["message_id"], amount))
                    await asyncio.sleep(rng.uniform(0.2, 0.6))

            async def customers() -> None:
                # Once the first round of awards was answered, everyone can afford a pastry.
                await until(lambda: sum(len(standin.messages(till)) for till in OWNERS) >= len(CUSTOMERS))
                seen: set[tuple[int, int]] = set()
                for _ in range(2):
                    await asyncio.gather(*(redeem_a_pastry(standin, c, script, seen) for c in CUSTOMERS))

            async def cashiers_validate() -> None:
                used: set[str] = set()
                while len(used) < len(CUSTOMERS):
                    for message in list(standin.sent):
                        codes = VOUCHER.findall(message.text or "") if message.kind == "photo" else []
                        for code in codes:
                            if code not in used:
                                used.add(code)
                                till = rng.choice(OWNERS)
                                sent = standin.send_text(till, f"/redeem {code}")
                                script.redeems.append((till, sent["message_id"], code))
                    await asyncio.sleep(0.1)

            async def crashes() -> None:
                for _ in range(KILLS):
                    await asyncio.sleep(rng.uniform(0.3, 1.5))  # a random moment of the load
                    assert await bots.kill() == -signal.SIGKILL
                    await bots.start()

            await asyncio.gather(tills(), customers(), cashiers_validate(), crashes())
            # Everything the test sent gets handled in the end, by whichever process.
            await until(lambda: not standin.pending_updates())
            await standin.wait_until_idle(quiet=0.5, timeout=30)
            assert await bots.stop() == 0
        finally:
            await bots.close()

    assert bots.starts == KILLS + 1
    till_texts = {till: [m.text for m in standin.messages(till)] for till in OWNERS}
    answers: dict[str, list[str]] = {}
    for answered in standin.answered_callbacks:
        answers.setdefault(answered.callback_query_id, []).append(answered.text or "")

    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            entries = (await connection.execute(select(LedgerEntry))).all()
            members = (await connection.execute(select(Member))).all()
            vouchers = (await connection.execute(select(Voucher))).all()
    finally:
        await engine.dispose()
    by_key = {entry.idempotency_key: entry for entry in entries}

    # Every /award was applied exactly once, and its till was told.
    for till, message_id, amount in script.awards:
        entry = by_key.get(command_key("award", till, message_id))
        assert entry is not None, f"/award {amount} from {till} was lost"
        assert entry.amount == amount
        assert any(f"for a purchase of {amount} SAR" in t or f"for {amount} SAR" in t for t in till_texts[till]), (
            amount, till_texts[till])
    assert sum(1 for entry in entries if entry.kind == "purchase") == len(script.awards)

    # Every confirmation was answered; the ones that redeemed spent once and made one voucher.
    codes = {voucher.code for voucher in vouchers}
    for customer, token, callback_id in script.confirms:
        told = answers.get(callback_id)
        assert told, f"the confirmation of {customer} was never answered"
        debit = by_key.get(f"redeem:{token}")
        if any("Done!" in text or "already confirmed" in text for text in told):
            assert debit is not None and debit.note in codes
        else:
            assert debit is None
    redeemed = [entry for entry in entries if entry.kind == "redeem"]
    assert len(redeemed) == len(vouchers) >= len(CUSTOMERS)
    assert {entry.idempotency_key for entry in redeemed} <= {f"redeem:{token}" for _, token, _ in script.confirms}

    # Every /redeem at the till marked its voucher used once, by that message.
    by_code = {voucher.code: voucher for voucher in vouchers}
    for till, message_id, code in script.redeems:
        assert by_code[code].status == "used"
        assert by_code[code].redeem_key == command_key("redeem", till, message_id)
    assert not any("already used" in text for texts in till_texts.values() for text in texts)

    # Points are money: each balance is the sum of its ledger, never negative.
    for member in members:
        total = sum(entry.delta for entry in entries if entry.member_id == member.id)
        assert member.balance == total >= 0


# -- flooding ---------------------------------------------------------------------------


FLOODER, OTHER = 8001, 8002


async def test_one_flooding_account_does_not_delay_another_customer(tmp_path: Path, db_url: str) -> None:
    standin = BotAPIStandIn()
    standin.user(FLOODER, "Flood", language_code="fa")
    standin.user(OTHER, "Calm", language_code="en")
    async with StandInServer(standin) as url:
        bots = Bots(standin, url, e2e_database(tmp_path, db_url), tmp_path / "bot.log")
        try:
            await bots.start()
            for user in (FLOODER, OTHER):
                standin.send_text(user, "/start")
                await standin.wait_for_messages(user, count=3, timeout=30, after=0)
            flooder_before = len(standin.messages(FLOODER))
            other_before = len(standin.messages(OTHER))
            started = time.monotonic()
            for n in range(300):
                standin.send_text(FLOODER, "/balance")
                if n == 97:
                    standin.send_text(OTHER, "/balance")  # among the first hundred the bot fetches
            await standin.wait_for_messages(OTHER, timeout=30, after=other_before)
            flooder_replies_then = len(standin.messages(FLOODER)) - flooder_before
            await until(lambda: not standin.pending_updates(), timeout=30)
            standin.send_text(OTHER, "/balance")  # after the flood: still answered
            await standin.wait_for_messages(OTHER, count=2, timeout=30, after=other_before)
            elapsed = time.monotonic() - started
            await standin.wait_until_idle(quiet=0.3, timeout=30)
            assert await bots.stop() == 0
        finally:
            await bots.close()

    flood = [m.text for m in standin.messages(FLOODER)[flooder_before:]]
    # Before: the other customer's /balance came after ~100 of the flooder's answers (6-7 s).
    assert flooder_replies_then < 10
    slow_down = [text for text in flood if "سریع‌تر از آن می‌فرستید" in text]
    assert len(slow_down) == 1
    # The budget: 20 at once (/start took one) plus one a second, then the warning, then nothing.
    assert flood[-1] == slow_down[0]
    assert 19 <= len(flood) - 1 <= 19 + int(elapsed) + 1
    assert all("موجودی" in text for text in flood[:-1])
