"""/birthday through the real dispatcher: any calendar, any digits, confirmed, saved once."""
from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from storage.models import AuditEntry, Member
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, Person


async def member_of(app: App, person: Person) -> Member:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return member


def birthday_of(member: Member) -> tuple[str | None, int | None, int | None, int | None]:
    return member.birth_calendar, member.birth_year, member.birth_month, member.birth_day


async def press_label(chat: Chat, person: Person, message, label: str):  # type: ignore[no-untyped-def]
    data = dict(chat.standin.buttons(message))[label]
    return await chat.press(person, message, data)


async def test_persian_member_sets_a_jalali_birthday_choosing_the_calendar(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    prompt = await chat.reply_text(SARA, "/birthday")
    assert "۱۳۶۹/۰۲/۲۷" in prompt
    question = (await chat.say(SARA, "۱۳۶۹/۰۲/۲۷"))[0]
    labels = [label for label, _ in chat.standin.buttons(question)]
    assert labels[0] == "هجری شمسی: ۲۷ اردیبهشت ۱۳۶۹"  # her own calendar first
    assert labels[1].startswith("هجری قمری: ۲۷ صفر ۱۳۶۹")
    await press_label(chat, SARA, question, labels[0])
    confirm = chat.standin.messages(SARA.id)[-1]
    assert "۲۷ اردیبهشت ۱۳۶۹" in confirm.text and "فقط یک بار" in confirm.text
    assert (await member_of(app, SARA)).birth_calendar is None  # nothing saved before the confirmation
    yes = chat.standin.buttons(confirm)[0][1]
    await chat.press(SARA, confirm, yes)
    saved = chat.standin.messages(SARA.id)[-1]
    assert "ثبت شد" in saved.text and "۱۰۰ امتیاز" in saved.text
    assert birthday_of(await member_of(app, SARA)) == ("j", 1369, 2, 27)
    # Saved once: /birthday now shows it and points to the staff.
    again = await chat.reply_text(SARA, "/birthday")
    assert "۲۷ اردیبهشت ۱۳۶۹" in again and "کارکنان" in again


async def test_an_unambiguous_gregorian_date_goes_straight_to_the_confirmation(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/birthday")
    confirm = (await chat.say(EMMA, "17/05/1990"))[0]
    assert "May 17, 1990" in confirm.text and "Gregorian" in confirm.text
    await press_label(chat, EMMA, confirm, "✅ Yes, save it")
    assert birthday_of(await member_of(app, EMMA)) == ("g", 1990, 5, 17)
    assert "Saved: May 17, 1990" in chat.standin.messages(EMMA.id)[-1].text


async def test_arabic_member_with_a_hijri_date_in_arabic_indic_digits(chat: Chat, app: App) -> None:
    await chat.say(LAYLA, "/start")
    await chat.say(LAYLA, "/birthday")
    confirm = (await chat.say(LAYLA, "١٤١٠/١٠/٢١"))[0]
    # In her calendar, and the same day as she reads dates (Gregorian).
    assert "٢١ شوال ١٤١٠ هـ" in confirm.text and "١٦ مايو ١٩٩٠" in confirm.text
    await chat.press(LAYLA, confirm, chat.standin.buttons(confirm)[0][1])
    assert birthday_of(await member_of(app, LAYLA)) == ("h", 1410, 10, 21)


async def test_fix_it_asks_again_and_a_double_tap_saves_once(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/birthday")
    wrong = (await chat.say(EMMA, "1990-05-18"))[0]
    await press_label(chat, EMMA, wrong, "✏️ No, let me fix it")
    assert "When is your birthday?" in chat.standin.messages(EMMA.id)[-1].text
    right = (await chat.say(EMMA, "1990-05-17"))[0]
    yes = dict(chat.standin.buttons(right))["✅ Yes, save it"]
    await chat.press(EMMA, right, yes)
    chat.standin.press_raw(EMMA.id, right.message_id, yes)  # the second tap of a double tap
    await chat._feed_pending()
    assert chat.last_callback_answer().text == "Already saved."
    # A button from the old confirmation cannot change the saved date.
    await chat.press_raw(EMMA, wrong, "bdo:g:1990:5:18")
    assert "is saved: May 17, 1990" in chat.last_callback_answer().text
    assert birthday_of(await member_of(app, EMMA)) == ("g", 1990, 5, 17)


async def test_bad_dates_are_answered_and_change_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/birthday")
    cases = {
        "1990-02-30": "is not a date that exists",
        "31/04/1990": "is not a date that exists",
        "2030-01-01": "has not come yet",
        "1800-01-01": "more than 120 years ago",
        "17/05/90": "year in full",
        "next tuesday": "could not read",
        "x" * 4096: "could not read",
    }
    for text, expected in cases.items():
        reply = await chat.reply_text(EMMA, text)
        assert expected in reply, (text, reply)
    chat.standin.send_sticker(EMMA.id)
    await chat._feed_pending()
    assert "as a date" in chat.standin.messages(EMMA.id)[-1].text
    assert (await member_of(app, EMMA)).birth_calendar is None


async def test_forged_buttons_are_checked(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/birthday")
    confirm = (await chat.say(EMMA, "1990-05-17"))[0]
    for forged in ("bdo:g:1990:2:30", "bdo:g:2031:1:1", "bdc:x:1990:1:1", "bdo:j:1404:12:30"):
        await chat.press_raw(EMMA, confirm, forged)
        assert chat.last_callback_answer().show_alert
    assert (await member_of(app, EMMA)).birth_calendar is None


async def test_a_command_ends_the_conversation(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/birthday")
    assert "Balance" in await chat.reply_text(EMMA, "/balance")
    assert "didn't catch that" in await chat.reply_text(EMMA, "1990-05-17")  # no longer asking
    await chat.say(EMMA, "/birthday")
    assert "Cancelled" in await chat.reply_text(EMMA, "/cancel")
    assert "didn't catch that" in await chat.reply_text(EMMA, "1990-05-17")


async def test_the_welcome_offers_the_birthday_step(chat: Chat, app: App) -> None:
    replies = await chat.say(EMMA, "/start")
    offer = replies[-1]
    assert "100 points" in offer.text
    await press_label(chat, EMMA, offer, "🎂 Add my birthday")
    assert "When is your birthday?" in chat.standin.messages(EMMA.id)[-1].text
    confirm = (await chat.say(EMMA, "17 May 1990"))[0]
    await press_label(chat, EMMA, confirm, "✅ Yes, save it")
    assert birthday_of(await member_of(app, EMMA)) == ("g", 1990, 5, 17)


async def test_non_members_are_asked_to_join(chat: Chat, app: App) -> None:
    assert "/start" in await chat.reply_text(EMMA, "/birthday")


async def test_staff_correct_a_birthday_and_it_is_audited(chat: Chat, app: App) -> None:
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    await chat.say(SARA, "/start")
    await chat.say(SARA, "/birthday")
    confirm = (await chat.say(SARA, "۱۳۶۹/۰۲/۲۷ شمسی"))[0]
    await chat.press(SARA, confirm, chat.standin.buttons(confirm)[0][1])
    code = (await member_of(app, SARA)).code
    ambiguous = await chat.reply_text(OWNER, f"/setbirthday {code} 1369/02/28")
    assert "more than one calendar" in ambiguous
    reply = await chat.reply_text(OWNER, f"/setbirthday {code} 1369/02/28 jalali")
    assert "28 Ordibehesht 1369" in reply and "It was 27 Ordibehesht 1369" in reply
    assert birthday_of(await member_of(app, SARA)) == ("j", 1369, 2, 28)
    assert "۱۹۹۰" in await chat.reply_text(CASHIER, f"/setbirthday {code} 1990-05-17")
    assert birthday_of(await member_of(app, SARA)) == ("g", 1990, 5, 17)
    usage = await chat.reply_text(OWNER, "/setbirthday")
    assert "Usage: /setbirthday &lt;member&gt;" not in usage and "Usage: /setbirthday <member>" in usage
    assert "not a date that exists" in await chat.reply_text(OWNER, f"/setbirthday {code} 1990-02-30")
    assert "No member matches" in await chat.reply_text(OWNER, "/setbirthday ZZZZZZ 1990-05-17")
    # Customers cannot: they get the unknown-command answer, nothing changes.
    await chat.say(EMMA, "/start")
    assert "don't know that command" in await chat.reply_text(EMMA, f"/setbirthday {code} 2000-01-01")
    assert birthday_of(await member_of(app, SARA)) == ("g", 1990, 5, 17)
    async with app.ctx.uow() as uow:
        audit = (await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "set_birthday"))).all()
    assert [(a.actor_id, a.details["after"]) for a in audit] == [(OWNER.id, "j:1369-02-28"), (CASHIER.id, "g:1990-05-17")]
