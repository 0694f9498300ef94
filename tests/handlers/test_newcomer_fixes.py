"""Smaller things a newcomer hit (issue 9): receipts before the notices they cause,
/birthday with a date, /cancel with nothing to cancel, broadcast prompts, /staff add,
phones with spaces, and double taps on inline buttons."""
from __future__ import annotations

from bot.app import App
from tests.handlers.test_core_flow import member_of
from tests.support import EMMA, OWNER, SARA, Chat


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
