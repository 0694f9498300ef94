"""Stamp cards through the real dispatcher (SPEC §11): /stamp at the counter, the card on
/balance, a full card's voucher without points, the daily cap in merchant time, lapsing
stamps, and the card in /history, /mydata, /export and /stats. Bad input changes nothing,
and a redelivered /stamp stamps once."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from bot.app import App
from bot.jobs import run_job
from standin import BotAPIStandIn
from storage.models import OutboxMessage, StampEntry, Voucher
from tests.handlers.earning_support import (
    books,
    cafe,
    cafe_chat,
    cafe_program,
    count,
    member_of,
    texts,
)
from tests.support import CASHIER, EMMA, OWNER, SARA, Chat, FakeClock, make_app

__all__ = ["cafe", "cafe_chat"]  # fixtures


async def staff(app: App) -> None:
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()


async def test_a_stamp_shows_on_the_card_in_the_members_digits(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(SARA, "/start")
    sara = await member_of(cafe, SARA)
    await staff(cafe)
    reply = await cafe_chat.reply_text(CASHIER, f"/stamp {sara.code}")
    assert "●○○" in reply and "۱/۳" in reply  # the cashier reads Persian too
    await cafe_chat.deliver_outbox()
    notice = cafe_chat.standin.messages(SARA.id)[-1].text
    assert "کارت قهوه" in notice and "●○○" in notice and "۱/۳" in notice
    card = await cafe_chat.reply_text(SARA, "/balance")
    assert "کارت قهوه: ●○○ \u2068۱/۳\u2069" in card and "قهوه رایگان" in card
    assert (await books(cafe, sara.id))["stamps"] == 1


async def test_the_third_stamp_fills_the_card_with_a_voucher_and_no_points_spent(cafe_chat: Chat, cafe: App, clock: FakeClock) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    first = await cafe_chat.reply_text(OWNER, f"/stamp {emma.code} 2")
    assert "✅ 2 stamps for Emma" in first and "●●○ \u20682/3\u2069" in first
    clock.advance(days=1)
    full = await cafe_chat.reply_text(OWNER, f"/stamp {emma.code}")
    [voucher] = await _vouchers(cafe, emma.id)
    assert "🎉 A full card!" in full and voucher.code in full and "○○○ \u20680/3\u2069" in full
    assert voucher.points == 0 and voucher.source == "stamps"
    assert await books(cafe, emma.id) == {
        "balance": 20, "ledger": 20, "stamps": 0, "stamp_ledger": 0, "cards": 1, "stamp_vouchers": 1,
    }
    await cafe_chat.deliver_outbox()
    given = [m for m in cafe_chat.standin.messages(EMMA.id) if m.kind == "photo"][-1]
    assert "Your Coffee card is full!" in given.text and voucher.code in given.text and "Free coffee" in given.text
    assert "Your card is full" in cafe_chat.standin.messages(EMMA.id)[-2].text
    used = await cafe_chat.reply_text(OWNER, f"/redeem {voucher.code}")
    assert "is valid and is now marked as used" in used
    rewards = await cafe_chat.reply_text(EMMA, "/rewards")
    assert "Free coffee — 150 points" in rewards  # the card's voucher did not touch the points catalog


async def test_one_stamping_can_fill_several_cards(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> None:
    program = cafe_program(stamps={"every": 2, "reward": "pastry", "max_per_day": 5})
    app = await make_app(db_url, standin, clock=clock, program=program)
    try:
        await app.prepare_database()
        chat = Chat(app, standin)
        await chat.say(EMMA, "/start")
        emma = await member_of(app, EMMA)
        reply = await chat.reply_text(OWNER, f"/stamp {emma.code} 5")
        assert reply.count("🎉 A full card!") == 2 and "●○ \u20681/2\u2069" in reply
        assert await books(app, emma.id) == {
            "balance": 20, "ledger": 20, "stamps": 1, "stamp_ledger": 1, "cards": 2, "stamp_vouchers": 2,
        }
    finally:
        await app.close()


async def test_the_daily_cap_counts_merchant_days(cafe_chat: Chat, cafe: App, clock: FakeClock) -> None:
    # 23:40 in Tehran (UTC+03:30) on 10 March; 20 minutes later it is the 11th there, still the 10th in UTC.
    clock.set(datetime(2026, 3, 10, 20, 10, tzinfo=UTC))
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    await cafe_chat.say(OWNER, f"/stamp {emma.code} 2")
    refused = await cafe_chat.reply_text(OWNER, f"/stamp {emma.code}")
    assert "at most 2 stamps a day" in refused and "already got 2 today" in refused
    assert (await books(cafe, emma.id))["stamps"] == 2
    clock.advance(minutes=25)  # 00:05 on the 11th in Tehran
    allowed = await cafe_chat.reply_text(OWNER, f"/stamp {emma.code}")
    assert "🎉 A full card!" in allowed
    partly = await cafe_chat.reply_text(OWNER, f"/stamp {emma.code} 2")
    assert "already got 1 today" in partly and "You can still give 1 stamp today." in partly
    assert (await books(cafe, emma.id))["stamp_ledger"] == 0


async def test_bad_input_is_answered_and_changes_nothing(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    await staff(cafe)
    cases = {
        "/stamp": "Usage: /stamp <member>",
        "/stamp ZZZZZZ": "No member matches",
        f"/stamp {emma.code} 0": "is not a number of stamps",
        f"/stamp {emma.code} -1": "is not a number of stamps",
        f"/stamp {emma.code} 99999999999999999999": "is not a number of stamps",
        f"/stamp {emma.code} two": "is not a number of stamps",
        f"/stamp {emma.code} 3": "from 1 to 2",
        f"/stamp {emma.code} 1 2": "Usage: /stamp <member>",
    }
    for command, expected in cases.items():
        assert expected in await cafe_chat.reply_text(OWNER, command), command
    persian = await cafe_chat.reply_text(CASHIER, f"/stamp {emma.code} ۵")
    assert "تعداد مهر نیست" in persian and "از ۱ تا ۲" in persian  # the cashier's own language and digits
    unknown = await cafe_chat.reply_text(EMMA, f"/stamp {emma.code}")
    assert "I don't know that command" in unknown  # customers cannot stamp
    assert await count(cafe, StampEntry) == 0 and (await books(cafe, emma.id))["stamps"] == 0


async def test_a_program_without_a_stamp_card_says_so(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    emma = await member_of(app, EMMA)
    assert "This program has no stamp card" in await chat.reply_text(OWNER, f"/stamp {emma.code}")
    assert "☕" not in await chat.reply_text(EMMA, "/balance")


async def test_a_redelivered_stamp_stamps_once_and_tells_once(cafe_chat: Chat, cafe: App, clock: FakeClock) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    await cafe_chat.say(OWNER, f"/stamp {emma.code} 2")
    clock.advance(days=1)
    first = await cafe_chat.reply_text(OWNER, f"/stamp {emma.code}")  # fills the card
    [voucher] = await _vouchers(cafe, emma.id)
    again = texts(await cafe_chat.redeliver_last(OWNER.id))
    assert "already recorded: 1 stamp for Emma" in again and "Nothing was added" in again
    assert voucher.code in first and voucher.code in again  # the cashier sees the same voucher again
    assert await books(cafe, emma.id) == {
        "balance": 20, "ledger": 20, "stamps": 0, "stamp_ledger": 0, "cards": 1, "stamp_vouchers": 1,
    }
    assert await count(cafe, OutboxMessage, OutboxMessage.kind == "voucher_given") == 1
    assert await count(cafe, OutboxMessage, OutboxMessage.kind == "stamps_added") == 2


async def test_stamps_lapse_after_expiry_days_oldest_first(cafe_chat: Chat, cafe: App, clock: FakeClock) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    await cafe_chat.say(OWNER, f"/stamp {emma.code}")
    clock.advance(days=20)
    await cafe_chat.say(OWNER, f"/stamp {emma.code}")
    card = await cafe_chat.reply_text(EMMA, "/balance")
    assert "●●○" in card and "The oldest stamp on your card is valid until" in card
    clock.advance(days=11)  # the first stamp is 31 days old, the second 11
    report = await run_job(cafe, "stamps", None)
    assert "1 stamp(s) lapsed for 1 member(s)" in report
    assert "0 stamp(s) lapsed" in await run_job(cafe, "stamps", None)  # twice: nothing more
    assert (await books(cafe, emma.id))["stamps"] == 1
    await cafe_chat.deliver_outbox()  # 15:30 in Tehran: outside quiet hours
    assert "expired: a stamp lasts 30 days" in cafe_chat.standin.messages(EMMA.id)[-1].text
    history = await cafe_chat.reply_text(EMMA, "/history")
    assert "☕ Stamps (newest first)" in history and "expired stamps" in history and "new stamps" in history


async def test_stamps_are_in_mydata_export_and_stats(cafe_chat: Chat, cafe: App) -> None:
    await cafe_chat.say(EMMA, "/start")
    emma = await member_of(cafe, EMMA)
    await cafe_chat.say(OWNER, f"/stamp {emma.code} 2")
    data = json.loads((await cafe_chat.say(EMMA, "/mydata"))[-1].document.decode("utf-8"))  # type: ignore[union-attr]
    assert data["stamp_card"]["stamps_on_card"] == 2
    assert [(e["kind"], e["delta"]) for e in data["stamp_card"]["entries"]] == [("stamp", 2)]
    files = [m for m in await cafe_chat.say(OWNER, "/export") if m.kind == "document"]
    stamps_file = next(f for f in files if f.filename and "stamps" in f.filename)
    rows = list(csv.reader(io.StringIO(stamps_file.document.decode("utf-8-sig"))))  # type: ignore[union-attr]
    assert rows[0] == ["id", "created_at", "member_id", "member_code", "kind", "delta", "voucher_code", "actor_id"]
    assert rows[1][3:6] == [emma.code, "stamp", "2"] and rows[1][7] == str(OWNER.id)
    stats = texts(await cafe_chat.say(OWNER, "/stats"))
    assert "☕ Stamps: 2 given · 0 cards completed (each a voucher) · 0 expired · 2 on cards now" in stats


async def _vouchers(app: App, member_id: int) -> list[Voucher]:
    async with app.ctx.uow() as uow:
        return await uow.vouchers.for_member(member_id)

