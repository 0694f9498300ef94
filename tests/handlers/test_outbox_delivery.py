"""The outbox sender against the Bot API stand-in: 429 and 403, retries, unknown
outcomes, quiet hours, blocking and coming back, one sender across replicas,
and a crash in the middle of a broadcast."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage
from sqlalchemy import func, select

from bot.app import App
from bot.domain.broadcasts import Segment
from bot.services import broadcasts
from standin import BotAPIStandIn
from storage.models import Member, OutboxMessage
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person, make_app

CUSTOMERS = (EMMA, SARA, LAYLA)


async def join_with_offers(chat: Chat, person: Person) -> None:
    welcome = (await chat.say(person, "/start"))[0]
    await chat.press(person, welcome, chat.standin.buttons(welcome)[0][1])


async def broadcast_to_all(app: App, text: str = "Hello {first_name}, you have {points}!") -> int:
    token = await broadcasts.issue_confirmation(app.ctx, OWNER.id)
    created = await broadcasts.create_broadcast(
        app.ctx, owner_id=OWNER.id, owner_lang="en", segment=Segment("all"), texts={"*": text}, send_at=None,
        token=token,
    )
    return int(created.broadcast.id)


def received(standin: BotAPIStandIn, person: Person, needle: str) -> int:
    return sum(1 for m in standin.messages(person.id) if needle in (m.text or ""))


async def statuses(app: App, batch: str | None = None) -> dict[str, int]:
    async with app.ctx.uow() as uow:
        return await uow.outbox.count_by_status(batch)


async def test_429_and_403_still_deliver_each_message_exactly_once(
    chat: Chat, app: App, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    for person in CUSTOMERS:
        await join_with_offers(chat, person)
    await chat.say(OWNER, "/help")  # the owner has talked to the bot: reports can reach them
    standin.block(LAYLA.id)  # she blocks the bot; the bot has not read that update yet
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=2)
    number = await broadcast_to_all(app)
    first = await chat.deliver_outbox()
    assert first.retried == 2  # two sends answered 429: back to pending, not before retry_after
    clock.advance(seconds=2)  # retry_after has passed
    second = await chat.deliver_outbox()
    assert (first.sent + second.sent, first.blocked + second.blocked) == (3, 1)  # two members, the report; Layla
    assert received(standin, EMMA, "Hello Emma, you have 20 points!") == 1
    assert received(standin, SARA, "Hello سارا, you have ۲۰ امتیاز!") == 1
    assert received(standin, LAYLA, "Hello") == 0
    async with app.ctx.uow() as uow:
        layla = await uow.members.by_telegram_id(LAYLA.id)
        assert layla is not None and layla.blocked_at is not None
    assert await statuses(app, f"broadcast:{number}") == {"sent": 2, "blocked": 1}
    report = standin.messages(OWNER.id)[-1].text
    assert f"Broadcast #{number} is done" in report
    assert "Delivered: 2" in report and "blocked the bot: 1" in report and "Unknown (the bot stopped" in report
    # Nothing more is ever sent for this broadcast.
    clock.advance(hours=1)
    assert (await chat.deliver_outbox()).processed == 0
    assert received(standin, EMMA, "Hello") == 1 and received(standin, OWNER, "is done") == 1


async def test_a_member_who_comes_back_is_reachable_again(chat: Chat, app: App, standin: BotAPIStandIn) -> None:
    await join_with_offers(chat, LAYLA)
    standin.block(LAYLA.id)
    await chat._feed_pending()  # Telegram's my_chat_member update: marked before any send
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_telegram_id(LAYLA.id)).blocked_at is not None  # type: ignore[union-attr]
    await broadcast_to_all(app, "First news")
    await chat.deliver_outbox()
    assert received(standin, LAYLA, "First news") == 0
    assert not [c for c in standin.calls_to("sendMessage") if c.get("chat_id") == LAYLA.id and "First" in str(c)]
    await chat.say(LAYLA, "/balance")  # she writes again (the client unblocks the bot)
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_telegram_id(LAYLA.id)).blocked_at is None  # type: ignore[union-attr]
    await broadcast_to_all(app, "Second news")
    await chat.deliver_outbox()
    assert received(standin, LAYLA, "Second news") == 1


async def test_writing_again_clears_the_mark_even_without_my_chat_member(chat: Chat, app: App) -> None:
    await join_with_offers(chat, EMMA)
    async with app.ctx.uow() as uow:  # marked after a 403, and Telegram sent no update since
        await uow.members.set_fields((await uow.members.by_telegram_id(EMMA.id)).id, blocked_at=app.ctx.now())  # type: ignore[union-attr]
        await uow.commit()
    await chat.say(EMMA, "/help")
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_telegram_id(EMMA.id)).blocked_at is None  # type: ignore[union-attr]


async def test_server_errors_are_retried_with_backoff(
    chat: Chat, app: App, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    await join_with_offers(chat, EMMA)
    standin.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    await broadcast_to_all(app, "Retry me")
    assert (await chat.deliver_outbox()).retried == 1
    clock.advance(seconds=2)  # first backoff: 2 s
    assert (await chat.deliver_outbox()).retried == 1
    clock.advance(seconds=3)
    assert (await chat.deliver_outbox()).sent == 0  # second backoff is 4 s
    clock.advance(seconds=2)
    assert (await chat.deliver_outbox()).sent == 1
    assert received(standin, EMMA, "Retry me") == 1


class LostAnswers(BotAPIStandIn):
    """Telegram accepts the message, but the answer never reaches the bot."""

    lose = 0

    async def handle(self, method: str, params: Any) -> tuple[int, dict[str, Any]]:
        result = await super().handle(method, params)
        if method.lower() == "sendmessage" and self.lose:
            self.lose -= 1
            raise TelegramNetworkError(method=SendMessage(chat_id=0, text="x"), message="Request timeout error")
        return result


async def test_a_send_whose_answer_was_lost_is_unknown_and_never_resent(
    db_url: str, clock: FakeClock
) -> None:
    standin = LostAnswers()
    application = await make_app(db_url, standin, clock=clock)
    chat = Chat(application, standin)
    try:
        await join_with_offers(chat, EMMA)
        await chat.say(OWNER, "/help")
        standin.lose = 1
        number = await broadcast_to_all(application, "Maybe twice?")
        report = await chat.deliver_outbox()
        assert report.unknown == 1
        clock.advance(hours=1)
        await chat.deliver_outbox()
        assert received(standin, EMMA, "Maybe twice?") == 1  # it did arrive, and only once
        assert await statuses(application, f"broadcast:{number}") == {"unknown": 1}
        assert "Unknown (the bot stopped mid-send; never sent twice): 1" in standin.messages(OWNER.id)[-1].text
    finally:
        await application.close()


async def test_quiet_hours_hold_offers_but_not_receipts(
    chat: Chat, app: App, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    await join_with_offers(chat, EMMA)
    clock.set(datetime(2026, 3, 10, 19, 0, tzinfo=UTC))  # 22:30 in Tehran
    await chat.say(OWNER, "/award @emma_w 40")
    await broadcast_to_all(app, "Late offer")
    report = await chat.deliver_outbox()
    assert report.sent == 1 and report.deferred == 1
    assert "You earned 40 points" in standin.messages(EMMA.id)[-1].text  # the receipt came at once
    assert received(standin, EMMA, "Late offer") == 0
    async with app.ctx.uow() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "broadcast"))
        assert row is not None and row.not_before == datetime(2026, 3, 11, 5, 30, tzinfo=UTC)  # 09:00
    clock.set(datetime(2026, 3, 11, 5, 30, tzinfo=UTC))
    await chat.deliver_outbox()
    assert received(standin, EMMA, "Late offer") == 1


async def test_one_message_per_second_per_chat(chat: Chat, app: App, standin: BotAPIStandIn) -> None:
    await join_with_offers(chat, EMMA)
    now = app.ctx.now()
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(EMMA.id)
        for n in range(3):
            await uow.outbox.enqueue(key=f"test:{n}", chat_id=EMMA.id, member_id=member.id, kind="points_awarded",  # type: ignore[union-attr]
                                     payload={"points": n + 1, "balance": 20, "amount": "1"}, now=now)
        await uow.commit()
    assert await app.sender.hold_lease()
    first = await app.sender.drain_once()
    second = await app.sender.drain_once()  # immediately after: the chat's next slot is a second away
    assert (first.sent, second.sent) == (1, 0)
    await chat.deliver_outbox()  # waits for the slots
    assert (await statuses(app)).get("sent") == 3


async def test_one_sender_at_a_time_across_replicas(
    chat: Chat, app: App, standin: BotAPIStandIn, clock: FakeClock, db_url: str
) -> None:
    await join_with_offers(chat, EMMA)
    assert await app.sender.hold_lease()
    replica = await make_app(db_url, standin, clock=clock)
    try:
        await broadcast_to_all(app, "From replica one")
        assert (await replica.sender.drain()).processed == 0  # standing by
        assert received(standin, EMMA, "From replica one") == 0
        clock.advance(seconds=21)  # the first replica stopped renewing its lease
        assert (await replica.sender.drain()).sent == 1
        assert not await app.sender.hold_lease()  # and it cannot take it back while the other holds it
    finally:
        await replica.close()
    assert received(standin, EMMA, "From replica one") == 1


async def test_a_crash_mid_broadcast_leaves_only_the_inflight_row_in_doubt(
    chat: Chat, app: App, standin: BotAPIStandIn, clock: FakeClock, db_url: str
) -> None:
    for person in CUSTOMERS:
        await join_with_offers(chat, person)
    await chat.say(OWNER, "/help")
    number = await broadcast_to_all(app, "Crash test")
    assert await app.sender.hold_lease()
    # The first sender claims Emma's row and dies before the outcome is recorded.
    async with app.ctx.uow() as uow:
        emma = await uow.members.by_telegram_id(EMMA.id)
        row = await uow.outbox.by_key(f"broadcast:{number}:{emma.id}")  # type: ignore[union-attr]
        assert await uow.outbox.claim(row.id, worker=app.sender.worker, now=clock.current)  # type: ignore[union-attr]
        await uow.commit()
    restarted = await make_app(db_url, standin, clock=clock)
    try:
        clock.advance(seconds=21)
        await Chat(restarted, standin).deliver_outbox()
    finally:
        await restarted.close()
    assert received(standin, EMMA, "Crash test") == 0  # in doubt: never resent
    assert received(standin, SARA, "Crash test") == 1 and received(standin, LAYLA, "Crash test") == 1
    assert await statuses(app, f"broadcast:{number}") == {"sent": 2, "unknown": 1}
    assert "Unknown (the bot stopped mid-send; never sent twice): 1" in standin.messages(OWNER.id)[-1].text


async def test_erased_members_and_non_members_are_left_out(chat: Chat, app: App) -> None:
    await join_with_offers(chat, EMMA)
    await join_with_offers(chat, SARA)
    async with app.ctx.uow() as uow:
        await uow.session.execute(
            Member.__table__.update().where(Member.telegram_id == SARA.id).values(telegram_id=None,
                                                                                    forgotten_at=app.ctx.now())
        )
        await uow.commit()
    number = await broadcast_to_all(app)
    async with app.ctx.uow() as uow:
        rows = await uow.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.batch == f"broadcast:{number}"))
    assert rows == 1
