"""`wafa demo`: chat with the real bot in a terminal, no token, no network.

The bot runs exactly as `wafa run` does (long polling over HTTP) against the
Bot API stand-in on 127.0.0.1. You type as one of four people: a customer in
each language and the owner. Buttons are pressed by number. With stdin not
a terminal, lines are read as a script, one at a time, each waiting until
the bot has gone quiet, so the demo can be scripted and tested.
"""
from __future__ import annotations

import asyncio
import os
import re
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import load_settings
from standin import BotAPIStandIn, BotMessage, StandInServer


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: int
    first_name: str
    language_code: str
    username: str
    phone: str


OWNER_ID = 100
PERSONAS = {
    "en": Persona("en", 1001, "Emma", "en", "emma_demo", "+15550101001"),
    "ar": Persona("ar", 1002, "ليلى", "ar", "layla_demo", "+966501234567"),
    "fa": Persona("fa", 1003, "سارا", "fa", "sara_demo", "+989121234567"),
    "friend": Persona("friend", 1004, "رضا", "fa", "reza_demo", "+989351234567"),
    "owner": Persona("owner", OWNER_ID, "Omar", "en", "omar_owner", "+15550100100"),
}

HELP = """\
Wafa demo: the real bot, talking to a Telegram stand-in on this machine.
  type anything          send it as the current person (e.g. /start, /balance)
  1, 2, …                press button number N of the last message with buttons
  :say TEXT              send TEXT as typed, even a bare number (e.g. :say 120 to answer "how many points?")
  :as en|ar|fa|friend|owner  switch person (customers in English, Arabic, Persian; a friend
                         who has not joined yet, Persian; the owner)
  :contact               share the current person's phone with Telegram's contact button
  :open [LINK]           open a t.me link to the bot as the current person (default: the last
                         invitation link the bot showed anyone), as tapping it in Telegram would
  :join [@CHANNEL]       the current person joins the program's channel (for a channel action
                         in /earn); :leave [@CHANNEL] leaves it
  :job NAME [--date D]   run a scheduled job now (birthdays, winback, expiry, surveys, outbox,
                         recovery, draws); a date ahead runs it as of that day, e.g. a week later
  :who                   list the people and their Telegram ids
  :wait SECONDS          pause (useful in scripts)
  :help                  this text
  :quit                  stop the bot gracefully and leave"""


class InFlight:
    """Counts updates the bot is still handling, so the demo waits for slow ones (a chart)
    instead of taking a pause between two messages for the end of the answer."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        self.count += 1
        self.idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if not self.count:
                self.idle.set()


class TerminalChat:
    def __init__(self, standin: BotAPIStandIn, app: Any, out: TextIO, files: Path, *, visual_rtl: bool) -> None:
        self.standin = standin
        self.app = app
        self.out = out
        self.files = files
        self.visual_rtl = visual_rtl
        self.current = PERSONAS["en"]
        # Buttons shown since the person's last input, numbered 1, 2, … across messages.
        self.numbered: dict[int, list[tuple[int, int]]] = {}
        self._shown_text: dict[tuple[int, int], str] = {}
        for persona in PERSONAS.values():
            standin.user(persona.user_id, persona.first_name, username=persona.username, language_code=persona.language_code)
        # The program's channels (earning actions "join our channel"), with the bot as their admin.
        self.channels: dict[str, int] = {}
        for action in app.program.actions:
            if action.channel and action.channel.lower() not in self.channels:
                chat_id = -1000000000 - len(self.channels) - 1
                standin.channel(chat_id, action.channel[1:], username=action.channel[1:])
                self.channels[action.channel.lower()] = chat_id
        standin.add_listener(self._on_bot_message)
        self.in_flight = InFlight()
        app.dispatcher.update.outer_middleware(self.in_flight)
        self._answers_seen = 0

    async def settle(self) -> None:
        """Wait until the bot has answered (and handled every update), then deliver the outbox."""
        for _ in range(20):
            await self.standin.wait_until_idle(quiet=0.3, timeout=10)
            if not self.in_flight.count:
                break
            await asyncio.wait_for(self.in_flight.idle.wait(), 60)
        await self.app.sender.drain()
        self._show_callback_answers()

    def _show_callback_answers(self) -> None:
        """Telegram shows a button's answer as a pop-up (alert) or a brief toast: show it too."""
        answers = self.standin.answered_callbacks
        for answer in answers[self._answers_seen:]:
            if answer.text:
                self._show(f"  🤖 ({'pop-up' if answer.show_alert else 'toast'}) {answer.text}")
        self._answers_seen = len(answers)

    # -- output ------------------------------------------------------------------
    def _show(self, text: str) -> None:
        if self.visual_rtl:
            from bidi import get_display

            text = "\n".join(get_display(line) for line in text.split("\n"))
        print(text, file=self.out, flush=True)

    def _on_bot_message(self, message: BotMessage) -> None:
        key = (message.chat_id, message.message_id)
        if message.edited and self._shown_text.get(key) == message.text and not self.standin.buttons(message):
            return  # only the buttons were taken away: nothing new to read
        self._shown_text[key] = message.text or ""
        persona = next((p for p in PERSONAS.values() if p.user_id == message.chat_id), None)
        who = "" if persona is self.current else f"(to {persona.first_name if persona else message.chat_id}) "
        marker = "✎ " if message.edited else ""
        body = message.text or ""
        if message.kind in ("photo", "document") and message.file is not None:
            path = self.files / f"{message.chat_id}-{message.message_id}-{message.filename or 'file'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(message.file.data)
            body = f"[{message.kind} saved to {path}]" + (f"\n{body}" if body else "")
        lines = body.split("\n")
        self._show(f"  🤖 {who}{marker}{lines[0]}" + "".join(f"\n     {line}" for line in lines[1:]))
        buttons = self.standin.buttons(message)
        if buttons:
            shown = self.numbered.setdefault(message.chat_id, [])
            start = len(shown) + 1
            shown.extend((message.message_id, i) for i in range(len(buttons)))
            self._show("     " + "   ".join(f"[{n}] {text}" for n, (text, _) in enumerate(buttons, start)))

    def prompt(self) -> str:
        return f"[{self.current.first_name} · {self.current.key}] › "

    # -- input -------------------------------------------------------------------
    async def handle(self, line: str) -> bool:
        """Act on one typed line; False means quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line.startswith(":"):
            return await self._command(line[1:])
        if line.isdigit():
            await self._press(int(line))
            return True
        self.numbered[self.current.user_id] = []
        self.standin.send_text(self.current.user_id, line)
        return True

    async def _command(self, text: str) -> bool:
        if text.startswith("say ") and text[4:].strip():
            self.numbered[self.current.user_id] = []
            self.standin.send_text(self.current.user_id, text[4:].strip())
            return True
        words = shlex.split(text)
        if not words:
            return True
        name, args = words[0], words[1:]
        if name in ("quit", "q", "exit"):
            return False
        if name == "help":
            self._show(HELP)
        elif name == "as" and args and args[0] in PERSONAS:
            self.current = PERSONAS[args[0]]
            self._show(f"  (you are now {self.current.first_name}, Telegram id {self.current.user_id}, app language {self.current.language_code})")
        elif name == "who":
            for persona in PERSONAS.values():
                role = "owner (ADMIN_IDS)" if persona.key == "owner" else f"customer, app language {persona.language_code}"
                self._show(f"  {persona.key:6} {persona.first_name} · id {persona.user_id} · @{persona.username} · {role}")
        elif name == "contact":
            self.numbered[self.current.user_id] = []
            self.standin.send_contact(self.current.user_id, self.current.phone)
        elif name == "open":
            self._open(args[0] if args else None)
        elif name in ("join", "leave"):
            self._membership(name, args[0] if args else None)
        elif name == "wait" and args:
            await asyncio.sleep(float(args[0]))
        elif name == "job" and args:
            await self._job(args)
        else:
            self._show("  (unknown demo command; :help lists them)")
        return True

    def _open(self, link: str | None) -> None:
        """A deep link `https://t.me/<bot>?start=<payload>` makes Telegram send `/start <payload>`."""
        pattern = re.compile(rf"https://t\.me/{re.escape(self.standin.username)}\?start=([A-Za-z0-9_-]{{1,64}})")
        if link is None:
            found = [m for m in reversed(self.standin.sent) if m.text and pattern.search(m.text)]
            link = pattern.search(found[0].text).group(0) if found else None  # type: ignore[union-attr]
        match = pattern.fullmatch(link or "")
        if match is None:
            self._show(f"  (no link to @{self.standin.username} to open; /invite shows one)")
            return
        self._show(f"  (opening {link})")
        self.numbered[self.current.user_id] = []
        self.standin.send_text(self.current.user_id, f"/start {match.group(1)}")

    def _membership(self, verb: str, channel: str | None) -> None:
        chat_id = self.channels.get((channel or next(iter(self.channels), "")).lower())
        if chat_id is None:
            self._show("  (the program has no such channel)" if self.channels else "  (the program has no channel action)")
            return
        (self.standin.join_chat if verb == "join" else self.standin.leave_chat)(chat_id, self.current.user_id)
        name = next(c for c, i in self.channels.items() if i == chat_id)
        self._show(f"  ({self.current.first_name} {'joined' if verb == 'join' else 'left'} {name})")

    async def _job(self, args: list[str]) -> None:
        from bot.jobs import JOBS, run_job

        day = None
        if "--date" in args:
            try:
                day = date.fromisoformat(args[args.index("--date") + 1])
            except (IndexError, ValueError):
                self._show("  (use :job NAME --date YYYY-MM-DD)")
                return
        if args[0] not in JOBS:
            self._show(f"  (jobs: {', '.join(sorted(JOBS))})")
            return
        summary = await run_job(self.app, args[0], day)
        self.app.sender.wake.set()
        self._show(f"  (job {args[0]}: {summary})")

    async def _press(self, number: int) -> None:
        shown = self.numbered.get(self.current.user_id, [])
        if not 1 <= number <= len(shown):
            self._show(f"  (press a button number from 1 to {len(shown)})" if shown else "  (no buttons to press here)")
            return
        message_id, index = shown[number - 1]
        message = next(m for m in self.standin.messages(self.current.user_id) if m.message_id == message_id)
        buttons = self.standin.buttons(message)
        if message.deleted or index >= len(buttons):
            self._show("  (that button is gone)")
            return
        text, data = buttons[index]
        markup = message.reply_markup or {}
        if "keyboard" in markup:  # a reply keyboard: pressing sends its text, or the contact
            self.numbered[self.current.user_id] = []
            button = [b for row in markup["keyboard"] for b in row][index]
            if button.get("request_contact"):
                self.standin.send_contact(self.current.user_id, self.current.phone)
            else:
                self.standin.send_text(self.current.user_id, text)
        elif data is None or data.startswith(("http://", "https://", "tg://")):
            self._show(f"  (that button opens a link: {data})")
        else:
            self.standin.press(self.current.user_id, message.message_id, data)


async def _demo(database: Path, fresh: bool, script: TextIO | None, out: TextIO, visual_rtl: bool) -> int:
    from bot.app import App
    from bot.domain.program import Messaging, load_program

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    standin = BotAPIStandIn(username="wafa_demo_bot", first_name="Wafa")
    async with StandInServer(standin) as url:
        settings = load_settings(
            bot_token=f"{standin.bot_id}:demo-token",
            telegram_api_url=url,
            database_url=f"sqlite+aiosqlite:///{database.resolve()}",
            admin_ids=frozenset({OWNER_ID}),
        )
        if settings.port is not None and not _port_free(settings.http_host, settings.port):
            settings = settings.model_copy(update={"port": 0})  # 8080 is taken: any free port will do
        # No quiet hours in the demo: a scheduled message you trigger at 23:00 shows at once.
        program = load_program(settings.program_file)
        program = program.model_copy(update={"messaging": Messaging(quiet_hours="off")})
        app = App(settings, program=program)
        chat = TerminalChat(standin, app, out, database.resolve().parent / "wafa-demo-files", visual_rtl=visual_rtl)
        stop = asyncio.Event()
        bot_task = asyncio.create_task(app.serve_polling(stop))
        try:
            await _wait_until_polling(standin, bot_task)
            print(HELP, file=out, flush=True)
            if app.http_server is not None:
                print(http_help(app.http_server.address, database.resolve()), file=out, flush=True)
                print(miniapp_help(app.http_server.address, settings.bot_token or ""), file=out, flush=True)
            await (_script(chat, script, out) if script is not None else _interactive(chat))
        finally:
            stop.set()
            standin.release_long_polls()
            await bot_task
            await app.close()
    print("  (bot stopped; your demo data is kept in " + str(database) + ", use --fresh to start over)", file=out)
    return 0


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def http_help(address: str, database: Path) -> str:
    """How to reach the demo shop from another terminal, as a POS would (README: Connect your shop)."""
    return f"""\
The shop's HTTP side is on {address} (API docs: {address}/api/docs).
In another terminal, make an API key, then record a purchase for Emma (send /start as :as en first)
and watch her being told here:
  KEY=$(DATABASE_URL=sqlite+aiosqlite:///{database} wafa apikey create pos)
  curl -s {address}/api/v1/purchases -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
       -d '{{"order_id": "A-1001", "member": "@emma_demo", "amount": "120"}}'
  curl -s {address}/api/v1/refunds -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
       -d '{{"refund_id": "R-1", "order_id": "A-1001", "amount": "50"}}'"""


def miniapp_link(address: str, token: str, persona: Persona, *, now: datetime | None = None) -> str:
    """The Mini App in a normal browser as `persona`: init data signed with the demo's
    token, in the URL's fragment as Telegram passes it (`#tgWebAppData=…`)."""
    from urllib.parse import quote

    from bot.http.initdata import sign

    user = {"id": persona.user_id, "first_name": persona.first_name, "language_code": persona.language_code,
            "username": persona.username}
    data = sign(token, user, auth_date=now or datetime.now(UTC))
    return f"{address}/app/#tgWebAppData={quote(data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=unknown"


def miniapp_help(address: str, token: str) -> str:
    """The Mini App's links (valid 24 hours): Sara's card in Persian, and the owner's cashier screen."""
    return f"""\
The Mini App (member card, rewards, history, invite; the owner's cashier and stats) in your browser,
as Sara after `:as fa` then /start (her card in Persian), or as Omar the owner (the cashier screen):
  {miniapp_link(address, token, PERSONAS["fa"])}
  {miniapp_link(address, token, PERSONAS["owner"])}"""


async def _wait_until_polling(standin: BotAPIStandIn, bot_task: asyncio.Task[None]) -> None:
    for _ in range(200):
        if bot_task.done():
            await bot_task  # surfaces a start-up error
        if standin.calls_to("getUpdates"):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not start polling the stand-in")


async def _interactive(chat: TerminalChat) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            line = await loop.run_in_executor(None, input, chat.prompt())
        except (EOFError, KeyboardInterrupt):
            return
        if not await chat.handle(line):
            return
        await chat.settle()


async def _script(chat: TerminalChat, script: TextIO, out: TextIO) -> None:
    loop = asyncio.get_running_loop()
    while True:
        # Read off the event loop: while a script waits for its next line, the bot and
        # its HTTP side keep answering (a purchase posted with curl meanwhile).
        line = await loop.run_in_executor(None, script.readline)
        if not line:
            return
        print(chat.prompt() + line.rstrip("\n"), file=out, flush=True)
        if not await chat.handle(line):
            return
        await chat.settle()


def run_demo(*, fresh: bool, database: Path, visual_rtl: bool | None = None) -> int:
    os.environ.pop("BOT_TOKEN", None)  # the demo never talks to the real Telegram
    script = None if sys.stdin.isatty() else sys.stdin
    rtl = visual_rtl if visual_rtl is not None else bool(os.environ.get("WAFA_DEMO_VISUAL_RTL"))
    return asyncio.run(_demo(database, fresh, script, sys.stdout, rtl))
