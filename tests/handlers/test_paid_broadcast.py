"""PAID_BROADCAST=1: sends carry `allow_paid_broadcast`, the sender claims and
records rows a chunk per transaction, and the owner's report says what the
broadcast may cost in Stars."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert

from bot.app import App
from bot.domain.broadcasts import paid_broadcast_star_tenths
from standin import BotAPIStandIn
from storage.models import Member
from tests.handlers.test_outbox_delivery import broadcast_to_all, statuses
from tests.support import OWNER, Chat, FakeClock, make_app

GUESTS = range(500_000, 500_043)


async def seed_guests(app: App, standin: BotAPIStandIn) -> None:
    joined = datetime(2026, 1, 1, tzinfo=UTC)
    async with app.db.engine.begin() as connection:
        await connection.execute(insert(Member), [
            {"telegram_id": user_id, "code": f"P{user_id}", "first_name": "Guest", "language": "en",
             "balance": 10, "tier": 0, "marketing_opt_in": True, "joined_at": joined}
            for user_id in GUESTS
        ])
    for user_id in GUESTS:
        standin.user(user_id, "Guest", language_code="en")
        standin.send_text(user_id, "hi")


def count_commits(app: App) -> list[int]:
    commits = [0]

    @event.listens_for(app.db.engine.sync_engine, "commit")
    def _count(_connection: Any) -> None:
        commits[0] += 1

    return commits


def sends(standin: BotAPIStandIn) -> list[dict[str, Any]]:
    return [params for params in standin.calls_to("sendMessage") if int(params["chat_id"]) in GUESTS]


async def test_a_paid_broadcast_sends_paid_in_chunks_and_reports_its_stars(chat: Chat, app: App, standin: BotAPIStandIn) -> None:
    assert app.settings.paid_broadcast
    await chat.say(OWNER, "/help")
    await seed_guests(app, standin)
    standin.rate_limit(global_per_second=30)  # Telegram's free rate: only paid sends pass it
    number = await broadcast_to_all(app, "Big sale, {first_name}!")
    commits = count_commits(app)
    report = await chat.deliver_outbox()
    assert report.sent == len(GUESTS) + 1  # and the owner's report
    assert await statuses(app, f"broadcast:{number}") == {"sent": len(GUESTS)}
    assert len(sends(standin)) == len(GUESTS)  # no 429, nothing twice
    assert all(str(params.get("allow_paid_broadcast")).lower() == "true" for params in sends(standin))
    # Two transactions per chunk of 20 (rate 200/s), not two per message (86 before).
    assert commits[0] <= 16, commits[0]
    # The fake clock stands still: 43 sent "in one second", 13 beyond the free 30.
    text = standin.messages(OWNER.id)[-1].text or ""
    assert "Paid broadcast: it may cost about 1.3 Telegram Stars" in text


async def test_without_paid_broadcasts_nothing_is_paid(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> None:
    app = await make_app(db_url, standin, clock=clock, paid_broadcast=False, broadcast_rate=30.0)
    try:
        chat = Chat(app, standin)
        await chat.say(OWNER, "/help")
        await seed_guests(app, standin)
        await broadcast_to_all(app, "Big sale, {first_name}!")
        await chat.deliver_outbox()
        assert len(sends(standin)) == len(GUESTS)
        assert all("allow_paid_broadcast" not in params for params in sends(standin))
        assert "Stars" not in (standin.messages(OWNER.id)[-1].text or "")
    finally:
        await app.close()


def test_stars_count_only_what_is_beyond_the_free_thirty_a_second() -> None:
    assert paid_broadcast_star_tenths(0, 0) == 0
    assert paid_broadcast_star_tenths(30, 0.5) == 0
    assert paid_broadcast_star_tenths(1000, 0.99) == 970  # 97.0 Stars
    assert paid_broadcast_star_tenths(10_000, 9.99) == 10_000 - 300
    assert paid_broadcast_star_tenths(100, 10) == 0  # 10/s: all free
