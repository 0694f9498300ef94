"""/mydata and /forget: a full copy on request; erasure that keeps the ledger auditable."""
from __future__ import annotations

import json

from sqlalchemy import select

from bot.app import App
from storage.models import LedgerEntry, Member, OutboxMessage, Survey
from tests.support import EMMA, OWNER, SARA, Chat


async def joined_code(app: App, telegram_id: int) -> str:
    async with app.ctx.uow() as uow:
        return (await uow.members.by_telegram_id(telegram_id)).code


async def test_mydata_sends_everything_as_json(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    await chat.share_contact(SARA, "989121234567")
    code = await joined_code(app, SARA.id)
    await chat.say(OWNER, f"/award {code} 40")
    reply = (await chat.say(SARA, "/mydata"))[-1]
    assert reply.kind == "document" and reply.filename == f"wafa-my-data-{code}.json"
    assert reply.text == "این همه‌ی اطلاعاتی است که از شما نگه می‌داریم."
    data = json.loads(reply.document.decode("utf-8"))  # type: ignore[union-attr]
    assert data["member"]["first_name"] == "سارا" and data["member"]["phone"] == "+989121234567"  # E.164
    assert [e["kind"] for e in data["points_ledger"]] == ["signup", "purchase"]
    assert data["messages_sent_by_the_bot"][0]["kind"] == "points_awarded"


async def test_forget_erases_personal_data_after_confirmation(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    await chat.share_contact(SARA, "989121234567")
    code = await joined_code(app, SARA.id)
    await chat.say(OWNER, f"/award {code} 40")  # leaves a pending notice in the outbox
    ask = (await chat.say(SARA, "/forget"))[-1]
    assert "۶۰ امتیاز" in ask.text
    erase = chat.standin.buttons(ask)[0][1]
    await chat.press(SARA, ask, erase)
    assert "پاک شد" in chat.standin.messages(SARA.id)[-1].text
    async with app.ctx.uow() as uow:
        member = await uow.session.scalar(select(Member).where(Member.code == code))
        assert member.telegram_id is None and member.first_name is None and member.phone is None
        assert member.username is None and member.forgotten_at is not None
        assert member.balance == 60 == await uow.ledger.sum_for(member.id)  # totals stay auditable
        statuses = (await uow.session.scalars(select(OutboxMessage.status))).all()
        assert statuses == ["cancelled"]
    # The user is a stranger now; staff cannot reach the erased account.
    assert "/start" in await chat.reply_text(SARA, "/balance")
    assert "erase their data" in await chat.reply_text(OWNER, f"/award {code} 10")
    # Joining again makes a new member with a new code.
    await chat.say(SARA, "/start")
    assert await joined_code(app, SARA.id) != code


async def test_forget_buttons_cannot_be_replayed_or_borrowed(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(SARA, "/start")
    ask = (await chat.say(EMMA, "/forget"))[-1]
    erase = chat.standin.buttons(ask)[0][1]
    sara_menu = (await chat.say(SARA, "/forget"))[-1]
    await chat.press_raw(SARA, sara_menu, erase)  # Emma's token pressed from Sara's chat
    assert "معتبر نیست" in chat.last_callback_answer().text
    await chat.press(EMMA, ask, erase)
    await chat.press_raw(EMMA, ask, erase)  # double tap
    async with app.ctx.uow() as uow:
        assert await uow.members.by_telegram_id(SARA.id) is not None
        entries = (await uow.session.scalars(select(LedgerEntry))).all()
    assert len(entries) == 2


async def test_keep_my_account_changes_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    ask = (await chat.say(EMMA, "/forget"))[-1]
    await chat.press(EMMA, ask, chat.standin.buttons(ask)[1][1])
    assert "Nothing was erased" in chat.standin.messages(EMMA.id)[-1].text
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_telegram_id(EMMA.id)).first_name == "Emma"


async def test_strangers_are_asked_to_join(chat: Chat) -> None:
    assert "/start" in await chat.reply_text(EMMA, "/mydata")
    assert "/start" in await chat.reply_text(EMMA, "/forget")


async def test_mydata_and_forget_cover_surveys_and_referrals(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    emma = await joined_code(app, EMMA.id)
    await chat.say(SARA, f"/start ref-{emma}")
    survey = (await chat.say(SARA, "/feedback"))[0]
    nine = next(data for label, data in chat.standin.buttons(survey) if label == "۹")
    await chat.press(SARA, survey, nine)
    await chat.say(SARA, "قهوه عالی بود، سارا از تهران")
    data = json.loads((await chat.say(SARA, "/mydata"))[-1].document.decode("utf-8"))  # type: ignore[union-attr]
    [answer] = data["surveys"]
    assert (answer["kind"], answer["score"], answer["comment"]) == ("nps", 9, "قهوه عالی بود، سارا از تهران")
    assert data["referrals"]["invited_by"] == emma
    emma_data = json.loads((await chat.say(EMMA, "/mydata"))[-1].document.decode("utf-8"))  # type: ignore[union-attr]
    assert emma_data["referrals"]["friends_joined"] == 1 and emma_data["surveys"] == []

    ask = (await chat.say(SARA, "/forget"))[-1]
    await chat.press(SARA, ask, chat.standin.buttons(ask)[0][1])
    async with app.ctx.uow() as uow:
        [kept] = (await uow.session.scalars(select(Survey))).all()
    assert (kept.score, kept.comment) == (9, None)  # the score still counts in the NPS, the words are gone
