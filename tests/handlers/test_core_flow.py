"""The core loyalty loop through the real dispatcher: join, award, see points, in three languages."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from storage.models import AuditEntry, LedgerEntry, Member, OutboxMessage
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, Person


async def member_of(app: App, person: Person) -> Member:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return member


async def ledger_rows(app: App) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count(LedgerEntry.id))) or 0)


async def test_persian_customer_joins_in_one_step_with_persian_digits(chat: Chat, app: App) -> None:
    replies = await chat.say(SARA, "/start")
    assert len(replies) == 3  # welcome with consent buttons, phone offer, birthday offer
    welcome = replies[0].text
    member = await member_of(app, SARA)
    assert "سارا" in welcome and "کافه وفا" in welcome
    assert member.code in welcome
    assert "۲۰ امتیاز" in welcome  # signup bonus, Persian digits
    assert member.balance == 20 and member.language == "fa"
    assert [t for t, _ in chat.standin.buttons(replies[0])] == ["🔔 بله، پیشنهادها را بفرست", "نه، ممنون"]
    assert "شماره تلفن" in replies[1].text
    assert [t for t, _ in chat.standin.buttons(replies[2])] == ["🎂 تاریخ تولدم را اضافه کن"]


async def test_start_twice_never_enrols_twice(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    again = await chat.reply_text(EMMA, "/start")
    assert "Welcome back" in again and "20 points" in again
    async with app.ctx.uow() as uow:
        assert await uow.members.count() == 1
    assert await ledger_rows(app) == 1


async def test_balance_card_in_each_language(chat: Chat, app: App) -> None:
    for person in (EMMA, LAYLA, SARA):
        await chat.say(person, "/start")
    english = await chat.reply_text(EMMA, "/balance")
    assert "Balance: 20 points" in english and "Silver" in english
    assert "480 points more to reach Gold" in english
    arabic = await chat.reply_text(LAYLA, "/balance")
    assert "٢٠ نقطة" in arabic and "فضي" in arabic and "٤٨٠" in arabic
    persian = await chat.reply_text(SARA, "/balance")
    assert "۲۰ امتیاز" in persian and "نقره‌ای" in persian and "۴۸۰" in persian
    code = (await member_of(app, SARA)).code
    assert f"\u2068{code}\u2069" in persian  # the code is isolated inside RTL text


async def test_owner_awards_a_purchase_and_member_is_told_in_their_language(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    code = (await member_of(app, SARA)).code
    reply = await chat.reply_text(OWNER, f"/award {code} ۱۲۰ two lattes")
    assert "✅ 120 points to سارا" in reply and "New balance: 140 points" in reply
    member = await member_of(app, SARA)
    assert member.balance == 140 and member.last_purchase_at is not None
    report = await chat.deliver_outbox()
    assert report.sent == 1
    notice = chat.standin.messages(SARA.id)[-1].text
    assert "۱۲۰ امتیاز" in notice and "۱۴۰ امتیاز" in notice
    async with app.ctx.uow() as uow:
        audit = (await uow.session.scalars(select(AuditEntry))).all()
    assert [(a.actor_id, a.action, a.member_id) for a in audit] == [(OWNER.id, "award", member.id)]


async def test_a_redelivered_award_changes_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    await chat.say(OWNER, f"/award {code} 50")
    again = await chat.redeliver_last(OWNER.id)
    assert "already recorded" in again[0].text
    assert (await member_of(app, EMMA)).balance == 70
    assert await ledger_rows(app) == 2
    await chat.deliver_outbox()
    assert len(chat.standin.messages(EMMA.id)) == 4  # welcome, phone offer, birthday offer, one notice


async def test_two_award_messages_are_two_purchases(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    await chat.say(OWNER, f"/award {code} 50")
    await chat.say(OWNER, f"/award {code} 50")
    assert (await member_of(app, EMMA)).balance == 120


async def test_members_can_be_found_by_username_phone_and_id(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    await chat.share_contact(SARA, "+989121234567")
    for ref in ("@sara_t", "۰۹۱۲۱۲۳۴۵۶۷", str(SARA.id)):
        reply = await chat.reply_text(OWNER, f"/award {ref} 10")
        assert "to سارا" in reply, ref
    card = await chat.reply_text(OWNER, "/member @Sara_T")
    assert "•••4567" in card and "Language: Persian" in card and "فارسی" not in card  # named in the reader's language


async def test_someone_elses_contact_is_not_saved(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    reply = await chat.share_contact(EMMA, "+15550001111", own=False)
    assert "your own number" in reply[0].text
    assert (await member_of(app, EMMA)).phone is None


async def test_customers_cannot_use_admin_commands(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    for command in (f"/award {code} 1000", f"/member {code}"):
        reply = await chat.reply_text(EMMA, command)
        assert reply == "I don't know that command. Send /help to see what I can do."
    assert (await member_of(app, EMMA)).balance == 20


async def test_staff_added_by_the_owner_can_award(chat: Chat, app: App) -> None:
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    reply = await chat.reply_text(CASHIER, f"/award {code} ۳۰")
    assert "۳۰ امتیاز" in reply  # the cashier reads Persian: Telegram app language fa


async def test_bad_award_input_is_answered_and_changes_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    cases = {
        "/award": "Usage: /award <member> <amount> [note]",
        f"/award {code}": "Usage:",
        f"/award {code} abc": "is not a valid amount",
        f"/award {code} -5": "is not a valid amount",
        f"/award {code} 0": "is not a valid amount",
        f"/award {code} 12.345": "is not a valid amount",
        f"/award {code} 100000000000": "more than the largest purchase",
        "/award ZZZZZZ 10": "No member matches",
        "/award hello 10": "No member matches",
        f"/award {code} 10 " + "x" * 300: "note is too long",
        "/member": "Usage: /member <member>",
    }
    for command, expected in cases.items():
        reply = await chat.reply_text(OWNER, command)
        assert expected in reply, (command, reply)
    assert (await member_of(app, EMMA)).balance == 20
    assert await ledger_rows(app) == 1
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(OutboxMessage.id))) == 0


async def test_errors_reach_the_cashier_in_their_language(chat: Chat, app: App) -> None:
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    reply = await chat.reply_text(CASHIER, "/award ZZZZZZ ۱۰")
    assert "هیچ عضوی" in reply


async def test_language_switch_with_buttons(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    menu = (await chat.say(EMMA, "/language"))[0]
    labels = [text for text, _ in chat.standin.buttons(menu)]
    assert labels == ["العربية", "فارسی", "✓ English"]
    data = dict(chat.standin.buttons(menu))["فارسی"]
    await chat.press(EMMA, menu, data)
    assert chat.standin.messages(EMMA.id)[-1].text.startswith("انجام شد")
    assert (await member_of(app, EMMA)).language == "fa"
    assert "۲۰ امتیاز" in await chat.reply_text(EMMA, "/balance")
    menus = [c for c in chat.standin.calls_to("setMyCommands") if c.get("scope", {}).get("chat_id") == EMMA.id]
    assert menus, "the chat's menu follows the chosen language"


async def test_forged_and_stale_buttons_change_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    menu = (await chat.say(EMMA, "/language"))[0]
    for forged in ("lang:xx", "consent:maybe", "rubbish", "redeem:999"):
        await chat.press_raw(EMMA, menu, forged)
        assert "no longer valid" in chat.last_callback_answer().text
    assert (await member_of(app, EMMA)).language == "en"


async def test_anything_unexpected_gets_a_friendly_pointer(chat: Chat, app: App) -> None:
    await chat.say(LAYLA, "/start")
    assert "/help" in await chat.reply_text(LAYLA, "/frobnicate")
    assert "لم أفهم" in await chat.reply_text(LAYLA, "مرحبا")
    assert "لم أفهم" in await chat.reply_text(LAYLA, "x" * 4096)
    chat.standin.send_sticker(LAYLA.id)
    chat.standin.send_photo(LAYLA.id, caption="look")
    before = len(chat.standin.messages(LAYLA.id))
    await chat._feed_pending()
    assert len(chat.standin.messages(LAYLA.id)) == before + 2


async def test_edited_commands_never_act(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    sent = await chat.say(OWNER, f"/award {code} 10")
    assert sent
    owner_message_id = chat.last_update["message"]["message_id"]  # type: ignore[index]
    chat.standin.edit_text(OWNER.id, owner_message_id, f"/award {code} 1000")
    before = len(chat.standin.messages(OWNER.id))
    await chat._feed_pending()
    assert "edited messages" in chat.standin.messages(OWNER.id)[before].text
    assert (await member_of(app, EMMA)).balance == 30


async def test_group_messages_point_to_a_private_chat(chat: Chat, app: App) -> None:
    chat.register(EMMA)
    chat.standin.group(-100123, "Fans")
    chat.standin.send_text(EMMA.id, "/start", chat_id=-100123)
    chat.standin.send_text(EMMA.id, "hello all", chat_id=-100123)
    await chat._feed_pending()
    replies = chat.standin.messages(-100123)
    assert len(replies) == 1 and "private chat" in replies[0].text
    async with app.ctx.uow() as uow:
        assert await uow.members.count() == 0


async def test_help_lists_commands_for_the_role(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    customer = await chat.reply_text(EMMA, "/help")
    assert "/balance" in customer and "/award" not in customer and "Offers and news: off" in customer
    owner = await chat.reply_text(OWNER, "/help")
    assert "/award &lt;member&gt;" not in owner and "/award <member> <amount> [note]" in owner


async def test_translated_menus_are_published_per_language(app: App, standin) -> None:  # type: ignore[no-untyped-def]
    await app.publish_menus()
    calls = standin.calls_to("setMyCommands")
    by_lang = {c.get("language_code"): c for c in calls if c.get("scope", {}).get("type") == "default"}
    assert set(by_lang) >= {"ar", "fa", "en", None}
    fa_descriptions = [c["description"] for c in by_lang["fa"]["commands"]]
    assert "امتیازها، سطح و کارت عضویت شما" in fa_descriptions
    owner_menus = [c for c in calls if c.get("scope", {}).get("chat_id") == OWNER.id]
    assert any(cmd["command"] == "award" for c in owner_menus for cmd in c["commands"])


async def test_start_payloads_never_alarm(chat: Chat, app: App) -> None:
    for person, payload in ((EMMA, "ref-ZZZZZZ"), (LAYLA, "%%%garbage"), (SARA, "x" * 64)):
        replies = await chat.say(person, f"/start {payload}")
        assert len(replies) == 3 and "ZZZZZZ" not in replies[0].text
    async with app.ctx.uow() as uow:
        assert await uow.members.count() == 3
