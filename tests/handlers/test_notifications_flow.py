"""/notifications: marketing consent on and off; service messages always arrive."""
from __future__ import annotations

from bot.app import App
from tests.support import EMMA, OWNER, SARA, Chat


async def opted_in(app: App, telegram_id: int) -> bool:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        assert member is not None
        return bool(member.marketing_opt_in)


async def test_toggle_with_the_button_and_see_it_in_help(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    assert "Offers and news: off" in await chat.reply_text(EMMA, "/help")
    card = (await chat.say(EMMA, "/notifications"))[0]
    assert "Offers and news are off" in card.text and "points, vouchers and your birthday" in card.text
    on = dict(chat.standin.buttons(card))["🔔 Turn offers on"]
    await chat.press(EMMA, card, on)
    assert await opted_in(app, EMMA.id)
    edited = chat.standin.messages(EMMA.id)[-1]
    assert "Offers and news are on" in edited.text and chat.standin.buttons(edited)[0][0] == "🔕 Turn offers off"
    assert "Offers and news: on" in await chat.reply_text(EMMA, "/help")
    # A stale "on" button pressed again changes nothing harmful: still on.
    await chat.press_raw(EMMA, edited, on)
    assert await opted_in(app, EMMA.id)


async def test_arguments_in_any_language(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    assert "روشن" in await chat.reply_text(SARA, "/notifications on")
    assert await opted_in(app, SARA.id)
    assert "خاموش" in await chat.reply_text(SARA, "/notifications خاموش")
    assert not await opted_in(app, SARA.id)
    assert "/notifications on | off" in await chat.reply_text(SARA, "/notifications maybe")
    assert not await opted_in(app, SARA.id)


async def test_service_messages_arrive_without_consent(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(EMMA, "/notifications off")
    await chat.say(OWNER, "/award @emma_w 30")
    assert (await chat.deliver_outbox()).sent == 1
    assert "You earned 30 points" in chat.standin.messages(EMMA.id)[-1].text


async def test_non_members_are_asked_to_join(chat: Chat, app: App) -> None:
    assert "/start" in await chat.reply_text(EMMA, "/notifications")
    assert "/start" in await chat.reply_text(EMMA, "/notifications on")
