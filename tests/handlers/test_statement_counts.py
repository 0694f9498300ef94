"""SQL statements per update (issue 16): a change that adds round trips to the
hot paths fails here. Counted on the engine, BEGIN and COMMIT included; the
ceilings are what the code does today. Lower one when you save a query; raise
one only with a reason in the commit message."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.app import App
from tests.support import EMMA, OWNER, Chat

# /balance: 2 read-only transactions (member with the staff flag; the card's ledger sum,
# expiring lots, campaign); the QR goes by file_id from memory (no query).
# Counted after issues 9, 12, 15 landed: every update reads the program's version (one
# primary-key max, so a /setup save reaches every replica); /start checks the keyed hash of
# former members (no farming through /forget); /award looks for open prize draws and
# fills the receipt's balance after the notices it causes are queued.
CEILINGS = {"/start": 15, "/balance": 7, "/award": 18, "button": 6}


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_statements_per_update_stay_within_their_ceilings(chat: Chat, app: App) -> None:
    counts: dict[str, int] = {}
    with statements(app) as seen:
        welcome = (await chat.say(EMMA, "/start"))[0]
    counts["/start"] = len(seen)
    await chat.say(EMMA, "/balance")  # the first card uploads its picture (and keeps the file_id)
    with statements(app) as seen:
        await chat.say(EMMA, "/balance")
    counts["/balance"] = len(seen)
    await chat.say(OWNER, "/help")
    async with app.ctx.uow(readonly=True) as uow:
        code = (await uow.members.by_telegram_id(EMMA.id)).code  # type: ignore[union-attr]
    with statements(app) as seen:
        await chat.say(OWNER, f"/award {code} 12")
    counts["/award"] = len(seen)
    with statements(app) as seen:
        await chat.press(EMMA, welcome, chat.standin.buttons(welcome)[0][1])
    counts["button"] = len(seen)
    over = {name: (n, CEILINGS[name]) for name, n in counts.items() if n > CEILINGS[name]}
    assert not over, f"more SQL statements than the ceiling (counted, ceiling): {over}"
