"""Smaller things a newcomer hit (issue 9): receipts before the notices they cause,
/birthday with a date, /cancel with nothing to cancel, broadcast prompts, /staff add,
phones with spaces, and double taps on inline buttons."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from standin import BotMessage
from storage.models import LedgerEntry
from tests.handlers.test_broadcast_flow import got, join, last, press
from tests.handlers.test_core_flow import member_of
from tests.support import EMMA, OWNER, SARA, Chat, FakeClock, Person


async def test_the_receipt_arrives_before_the_tier_up_and_referral_notices(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    sara = await member_of(app, SARA)
    await chat.say(EMMA, f"/start ref-{sara.code}")
    await chat.deliver_outbox()
    before = len(chat.standin.messages(EMMA.id))
    await chat.say(OWNER, "/award @emma_w 600")  # first purchase: referral bonus, and Gold at 500
    await chat.deliver_outbox()
    texts = [m.text for m in chat.standin.messages(EMMA.id)[before:]]
    assert len(texts) >= 3, texts
    assert texts[0].startswith("⭐ You earned 600 points for your purchase"), texts
    assert "Gold" in " ".join(texts[1:]) and any("50 points" in t for t in texts[1:])
    # The receipt's balance counts everything the purchase posted.
    balance = (await member_of(app, EMMA)).balance
    assert f"Your balance is {balance:,} points" in texts[0]


async def test_birthday_with_a_date_reads_it_at_once(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    [confirm] = await chat.say(EMMA, "/birthday 1990-05-17")
    assert "Is that right?" in confirm.text and "17" in confirm.text and "1990" in confirm.text
    await chat.press(EMMA, confirm, chat.standin.buttons(confirm)[0][1])
    assert (await member_of(app, EMMA)).birth_month == 5
    # Persian digits in a Jalali date, from a Persian speaker.
    await chat.say(SARA, "/start")
    [confirm] = await chat.say(SARA, "/birthday ۱۳۶۹/۰۲/۲۷")
    assert confirm.text == "این تاریخ به کدام تقویم است؟"  # 1369 is Jalali or Hijri: the usual question


async def test_birthday_with_a_bad_date_says_so_and_saves_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    reply = await chat.reply_text(EMMA, "/birthday 1990-02-31")
    assert "is not a date that exists" in reply
    reply = await chat.reply_text(EMMA, "/birthday tomorrow-ish")
    assert "I could not read" in reply
    assert (await member_of(app, EMMA)).birth_calendar is None
    # The conversation goes on: the next message may be the date.
    assert "Is that right?" in await chat.reply_text(EMMA, "17/05/1990")


async def test_cancel_with_nothing_to_cancel_says_so_in_the_users_language(chat: Chat) -> None:
    await chat.say(EMMA, "/start")
    assert await chat.reply_text(EMMA, "/cancel") == "There is nothing to cancel."
    await chat.say(SARA, "/start")
    assert await chat.reply_text(SARA, "/cancel") == "چیزی برای لغو کردن نیست."
    await chat.say(EMMA, "/birthday")
    assert await chat.reply_text(EMMA, "/cancel") == "Cancelled. Nothing was changed."


async def test_a_first_name_that_looks_like_a_placeholder_is_not_expanded(chat: Chat, app: App) -> None:
    sly = Person(1090, "{points}", "en", "sly_one")
    await join(chat, sly)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    preview = await chat.say(OWNER, "Hi {first_name}, you have {points}!")
    await press(chat, OWNER, preview[-1], "📤 Send now")
    await chat.deliver_outbox()
    assert got(chat, sly, "Hi {points}, you have 20 points!") == 1


async def test_the_scheduling_example_is_a_future_date_in_the_owners_calendar(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    await join(chat, EMMA)
    owner_fa = Person(OWNER.id, "امید", "fa", "omar_owner")
    menu = (await chat.say(owner_fa, "/broadcast"))[0]
    await press(chat, owner_fa, menu, button_with(chat, menu, "همه"))
    prompt = last(chat, owner_fa).text
    assert "{points} خودش کلمه‌ی «امتیاز» را دارد (مثلاً می‌شود ۱۲۰ امتیاز)" in prompt
    preview = await chat.say(owner_fa, "سلام {first_name}، شما {points} دارید")
    assert any("کلمه‌ی «امتیاز»" in m.text for m in preview)  # the preview says it too
    await press(chat, owner_fa, preview[-1], button_with(chat, preview[-1], "🕒"))
    when = last(chat, owner_fa).text
    assert "۱۴۰۵/۰۴/۱۲ ۱۸:۳۰" in when  # 3 July 2026 = 12 Tir 1405, two days ahead
    reply = await chat.reply_text(owner_fa, "گاهی")
    assert "۱۴۰۵/۰۴/۱۲ ۱۸:۳۰" in reply
    # The example works as typed.
    example = "\u2068۱۴۰۵/۰۴/۱۲ ۱۸:۳۰\u2069"
    assert "۱۸:۳۰" in await chat.reply_text(owner_fa, example)


async def test_the_scheduling_example_in_english_moves_with_today(chat: Chat, app: App, clock: FakeClock) -> None:
    clock.set(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    await join(chat, EMMA)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    prompt = last(chat, OWNER).text
    assert "{points} already includes the word “points” (it becomes e.g. 120 points), so do not add it." in prompt
    preview = await chat.say(OWNER, "Evening offer")
    assert not any("already includes" in m.text for m in preview)  # no {points}: no hint
    await press(chat, OWNER, preview[-1], "🕒 Schedule")
    assert "e.g. 18:30, tomorrow 10:00 or \u20682026-07-03 18:30\u2069." in last(chat, OWNER).text


def button_with(chat: Chat, message: BotMessage, part: str) -> str:
    return next(label for label, _data in chat.standin.buttons(message) if part in label)


async def test_staff_add_for_someone_who_never_opened_the_bot_is_refused(chat: Chat, app: App) -> None:
    reply = await chat.reply_text(OWNER, "/staff add 4242")
    assert "has never opened this bot" in reply and "/start" in reply and "Nothing was changed" in reply
    async with app.ctx.uow() as uow:
        assert not await uow.staff.is_staff(4242)
    await chat.say(Person(4242, "Kian", "fa"), "/start")
    assert "is staff now" in await chat.reply_text(OWNER, "/staff add 4242")


async def test_a_phone_typed_with_spaces_is_found(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    await chat.share_contact(SARA, "989121234567")
    card = await chat.reply_text(OWNER, "/member +98 912 123 4567")
    assert "سارا" in card and "Balance" in card
    reply = await chat.reply_text(OWNER, "/award +98 912 123 4567 40 two lattes")
    assert "✅ 40 points" in reply and "سارا" in reply
    reply = await chat.reply_text(OWNER, "/award ۰۹۱۲ ۱۲۳ ۴۵۶۷ ۱۰")
    assert "✅ 10 points" in reply
    sara = await member_of(app, SARA)
    async with app.ctx.uow() as uow:
        notes = (await uow.session.scalars(
            select(LedgerEntry.note).where(LedgerEntry.member_id == sara.id, LedgerEntry.kind == "purchase")
            .order_by(LedgerEntry.id)
        )).all()
    assert notes == ["two lattes", None]
    assert (await member_of(app, SARA)).balance == 20 + 40 + 10


async def double_tap(chat: Chat, person: Person, message: BotMessage, data: str) -> None:
    """Two callback queries for one button, the second one arriving after the first acted."""
    await chat.press_raw(person, message, data)
    before = len(chat.standin.messages(person.id))
    await chat.press_raw(person, message, data)
    assert len(chat.standin.messages(person.id)) == before  # nothing said twice
    answer = chat.last_callback_answer()
    assert answer.text in ("Already done.", "قبلاً انجام شده است.", "تم ذلك بالفعل.") and not answer.show_alert


async def test_double_taps_on_inline_buttons_are_already_done_and_log_nothing(
    chat: Chat, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    welcome = (await chat.say(SARA, "/start"))[0]
    buttons = chat.standin.buttons(welcome)
    await double_tap(chat, SARA, welcome, buttons[0][1])  # consent
    assert (await member_of(app, SARA)).marketing_opt_in
    birthday = next(m for m in chat.standin.messages(SARA.id) if "🎂" in str(chat.standin.buttons(m)))
    await double_tap(chat, SARA, birthday, chat.standin.buttons(birthday)[0][1])
    await chat.say(SARA, "/cancel")
    menu = (await chat.say(SARA, "/language"))[0]
    english = next(data for label, data in chat.standin.buttons(menu) if "English" in label)
    await double_tap(chat, SARA, menu, english or "")
    assert (await member_of(app, SARA)).language == "en"
    card = (await chat.say(SARA, "/notifications"))[0]
    off = chat.standin.buttons(card)[0][1]
    await double_tap(chat, SARA, card, off or "")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info
    ]


async def test_a_late_answer_to_a_button_is_not_an_error(chat: Chat, app: App, caplog: pytest.LogCaptureFixture) -> None:
    await chat.say(EMMA, "/start")
    card = (await chat.say(EMMA, "/notifications"))[0]
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    chat.standin.fail_next("answerCallbackQuery", 400, too_old, times=2)
    await chat.press(EMMA, card, chat.standin.buttons(card)[0][1])
    assert (await member_of(app, EMMA)).marketing_opt_in  # the toggle itself happened
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
