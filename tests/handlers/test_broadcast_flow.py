"""/broadcast through the real dispatcher: segment, texts, preview, send now or
later, personalised per member, delivered once, reported to the owner."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.app import App
from bot.domain.calendars import BirthDate
from standin import BotMessage
from storage.models import Broadcast, OutboxMessage
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person

CUSTOMERS = (EMMA, SARA, LAYLA)


async def join(chat: Chat, person: Person, *, offers: bool = True) -> None:
    welcome = (await chat.say(person, "/start"))[0]
    await chat.press(person, welcome, chat.standin.buttons(welcome)[0 if offers else 1][1])


async def press(chat: Chat, person: Person, message: BotMessage, label: str) -> list[BotMessage]:
    buttons = dict(chat.standin.buttons(message))
    assert label in buttons, (label, list(buttons))
    before = len(chat.standin.messages(person.id))
    await chat.press(person, message, buttons[label])
    return chat.standin.messages(person.id)[before - 1 :]


def last(chat: Chat, person: Person) -> BotMessage:
    return chat.standin.messages(person.id)[-1]


def got(chat: Chat, person: Person, needle: str) -> int:
    return sum(1 for m in chat.standin.messages(person.id) if needle in (m.text or ""))


async def broadcasts_made(app: App) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count(Broadcast.id))) or 0)


async def test_a_text_per_language_reaches_each_member_once_with_a_report(chat: Chat, app: App) -> None:
    for person in CUSTOMERS:
        await join(chat, person)
    await join(chat, Person(1004, "Noor", "en", "noor_x"), offers=False)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    assert "Who should get it?" in menu.text
    await press(chat, OWNER, menu, "Everyone")
    summary = last(chat, OWNER)
    assert "Segment: all members." in summary.text and "Members who will get it: 3 of 4." in summary.text
    assert "1 without consent to offers" in summary.text
    await press(chat, OWNER, summary, "A text per language")
    assert "in Arabic (members: 1)" in last(chat, OWNER).text
    assert "<code>{first_name}</code>" in last(chat, OWNER).raw_text
    assert "in Persian" in await chat.reply_text(OWNER, "مرحبا {first_name}، لديك {points}")
    assert "in English" in await chat.reply_text(OWNER, "سلام {first_name}، شما {points} دارید")
    preview = await chat.say(OWNER, "Hi {first_name}, you have {points}. <b>Double</b> points & more!")
    texts = [m.text for m in preview]
    assert "Preview for members who speak Arabic:" in texts[0] and texts[1].startswith("مرحبا Omar، لديك ٠ نقطة")
    assert texts[3].startswith("سلام Omar، شما ۰ امتیاز دارید")
    assert texts[5].startswith("Hi Omar, you have 0 points. <b>Double</b> points & more!")  # typed, shown as typed
    assert "/notifications" in texts[5]
    confirm = preview[-1]
    assert "Send this to all members? Members who will get it: 3." in confirm.text
    await press(chat, OWNER, confirm, "📤 Send now")
    assert "is on its way. Recipients: 3." in last(chat, OWNER).text
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Hi Emma, you have 20 points. <b>Double</b> points & more!") == 1
    assert got(chat, SARA, "سلام سارا، شما ۲۰ امتیاز دارید") == 1
    assert got(chat, LAYLA, "مرحبا ليلى، لديك ٢٠ نقطة") == 1
    assert got(chat, Person(1004, "Noor"), "Double") == 0
    report = last(chat, OWNER).text
    assert "is done" in report and "Delivered: 3" in report and "no consent to offers: 1" in report
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Hi Emma") == 1 and got(chat, OWNER, "Broadcast #1 is done") == 1


async def test_one_language_segment_and_braces_the_owner_typed(chat: Chat, app: App) -> None:
    for person in CUSTOMERS:
        await join(chat, person)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "By language")
    await press(chat, OWNER, last(chat, OWNER), "فارسی")
    prompt = last(chat, OWNER).text
    assert "members who speak Persian" in prompt and "Send the message in Persian (members: 1)" in prompt
    preview = await chat.say(OWNER, "{first_name} عزیز، {price} تومان تخفیف {0} {")
    await press(chat, OWNER, preview[-1], "📤 Send now")
    await chat.deliver_outbox()
    assert got(chat, SARA, "سارا عزیز، {price} تومان تخفیف {0} {") == 1
    assert got(chat, EMMA, "تخفیف") == 0 and got(chat, LAYLA, "تخفیف") == 0


async def test_other_segments_and_their_counts(chat: Chat, app: App, clock: FakeClock) -> None:
    for person in CUSTOMERS:
        await join(chat, person)
    await chat.say(OWNER, "/award @emma_w 600")  # Emma buys (and reaches Gold)
    await chat.deliver_outbox()
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Never purchased")
    assert "Members who will get it: 2 of 2." in last(chat, OWNER).text
    menu = (await chat.say(OWNER, "/broadcast"))[0]  # a new /broadcast starts over
    await press(chat, OWNER, menu, "By tier")
    await press(chat, OWNER, last(chat, OWNER), "Gold")
    assert "members in the Gold tier" in last(chat, OWNER).text and "it: 1 of 1." in last(chat, OWNER).text
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Inactive for N days")
    assert "is not a number of days" in await chat.reply_text(OWNER, "soon")
    assert "is not a number of days" in await chat.reply_text(OWNER, "0")
    clock.advance(days=31)
    assert "it: 3 of 3." in await chat.reply_text(OWNER, "۳۰")
    async with app.ctx.uow() as uow:
        emma = await uow.members.by_telegram_id(EMMA.id)
        await uow.audiences.set_birthday(emma.id, BirthDate("g", 1990, 4, 11), only_if_unset=False)  # type: ignore[union-attr]
        await uow.commit()
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Birthdays this month")
    text = last(chat, OWNER).text
    assert "birthday is this month (April)" in text and "it: 1 of 1." in text


async def test_schedule_for_later_and_cancel(chat: Chat, app: App, clock: FakeClock) -> None:
    await join(chat, EMMA)
    await chat.say(OWNER, "/help")
    for attempt in range(2):
        menu = (await chat.say(OWNER, "/broadcast"))[0]
        await press(chat, OWNER, menu, "Everyone")  # one language among them: straight to the text
        preview = await chat.say(OWNER, f"Evening offer {attempt}")
        await press(chat, OWNER, preview[-1], "🕒 Schedule")
        assert "When should it go out?" in last(chat, OWNER).text and "Asia/Tehran" in last(chat, OWNER).text
        assert "could not read" in await chat.reply_text(OWNER, "25:00")
        assert "already passed" in await chat.reply_text(OWNER, "2026-03-01 10:00")
        scheduled = (await chat.say(OWNER, "۲۳:۰۰"))[0]  # 23:00 Tehran, today
        assert "is scheduled for" in scheduled.text and "23:00" in scheduled.text
        assert "quiet hours (22:00-09:00): members get it from 09:00" in scheduled.text
    await press(chat, OWNER, scheduled, "✖️ Cancel this broadcast")
    assert "is cancelled" in last(chat, OWNER).text
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Evening offer") == 0  # not yet
    clock.set(datetime(2026, 3, 10, 19, 31, tzinfo=UTC))  # 23:01: released, held by quiet hours
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Evening offer") == 0
    clock.set(datetime(2026, 3, 11, 5, 30, tzinfo=UTC))  # 09:00
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Evening offer 0") == 1 and got(chat, EMMA, "Evening offer 1") == 0
    assert "Delivered: 1" in last(chat, OWNER).text
    # Cancelling once it has gone out is refused.
    await chat.press(OWNER, next(m for m in chat.standin.messages(OWNER.id) if "#1 is scheduled" in m.text),
                     "bc:stop:1")
    assert "Too late" in chat.last_callback_answer().text


async def test_bad_texts_are_refused_and_the_conversation_goes_on(chat: Chat, app: App) -> None:
    await join(chat, EMMA)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    assert "Send the message in English (members: 1)" in last(chat, OWNER).text
    assert "too long" in await chat.reply_text(OWNER, "x" * 4096)
    chat.standin.send_sticker(OWNER.id)
    await chat._feed_pending()
    assert "as text" in last(chat, OWNER).text
    preview = await chat.say(OWNER, "Fine now")
    assert "Send this to all members? Members who will get it: 1." in preview[-1].text
    assert await broadcasts_made(app) == 0


async def test_a_double_tap_sends_once_and_cancel_sends_nothing(chat: Chat, app: App) -> None:
    await join(chat, EMMA)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    confirm = (await chat.say(OWNER, "Only once"))[-1]
    go = dict(chat.standin.buttons(confirm))["📤 Send now"]
    await chat.press(OWNER, confirm, go)
    chat.standin.press_raw(OWNER.id, confirm.message_id, go)
    await chat._feed_pending()
    assert chat.last_callback_answer().show_alert  # that menu is gone
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Only once") == 1 and await broadcasts_made(app) == 1
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "✖️ Cancel")
    assert "nothing was sent" in last(chat, OWNER).text
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    assert "Cancelled" in await chat.reply_text(OWNER, "/cancel")
    assert "didn't catch that" in await chat.reply_text(OWNER, "Some text")  # no longer in the conversation
    assert await broadcasts_made(app) == 1


async def test_nobody_to_reach_ends_the_conversation(chat: Chat, app: App) -> None:
    await join(chat, EMMA, offers=False)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    assert "nothing to send" in last(chat, OWNER).text
    assert "didn't catch that" in await chat.reply_text(OWNER, "hello")


async def test_only_owners_can_broadcast(chat: Chat, app: App) -> None:
    await join(chat, EMMA)
    assert "don't know that command" in await chat.reply_text(EMMA, "/broadcast")
    welcome = chat.standin.messages(EMMA.id)[0]
    for forged in ("bc:seg:all", "bc:go:abcdefabcdef", "bc:stop:1"):
        await chat.press_raw(EMMA, welcome, forged)
        assert "no longer valid" in chat.last_callback_answer().text
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(OutboxMessage.id))) == 0


async def test_scheduled_broadcasts_go_to_the_segment_as_it_is_when_sent(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    await join(chat, EMMA)
    menu = (await chat.say(OWNER, "/broadcast"))[0]
    await press(chat, OWNER, menu, "Everyone")
    preview = await chat.say(OWNER, "Tomorrow's news")
    await press(chat, OWNER, preview[-1], "🕒 Schedule")
    await chat.say(OWNER, "tomorrow 10:00")
    await join(chat, SARA)  # joins after it was written, before it goes out
    clock.advance(days=1)
    clock.set(clock.current + timedelta(hours=-clock.current.hour + 7))  # 10:30 in Tehran
    await chat.deliver_outbox()
    assert got(chat, EMMA, "Tomorrow's news") == 1 and got(chat, SARA, "Tomorrow's news") == 1
