"""/invite and `/start ref-<code>` through the real dispatcher, in three languages."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.app import App
from tests.handlers.test_core_flow import member_of
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, Person

REZA = Person(1004, "رضا", "fa", "reza_t")


async def test_invite_shows_the_link_a_share_button_and_the_counts(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    card = (await chat.say(EMMA, "/invite"))[0]
    link = f"https://t.me/{chat.standin.username}?start=ref-{code}"
    assert link in card.text
    assert "Friends who joined: 0" in card.text and "Earned from invitations: 0 points" in card.text
    assert "you get 100 points and your friend gets 50 points" in card.text
    [(label, url)] = chat.standin.buttons(card)
    assert label == "📤 Share my link"
    shared = parse_qs(urlsplit(url or "").query)
    assert urlsplit(url or "").path == "/share/url" and shared["url"] == [link]
    assert shared["text"] == ["Join me at Wafa Café: you get 50 points after your first purchase."]

    await chat.say(SARA, f"/start ref-{code}")
    await chat.say(LAYLA, f"/start ref-{code}")
    await chat.say(OWNER, "/award @sara_t 30")
    card = (await chat.say(EMMA, "/invite"))[0]
    assert "Friends who joined: 2" in card.text and "Friends who made a purchase: 1" in card.text
    assert "Earned from invitations: 100 points" in card.text
    assert "this month so far: 1" in card.text


async def test_invite_in_persian_with_persian_digits_and_share_text(chat: Chat, app: App) -> None:
    await chat.say(SARA, "/start")
    card = (await chat.say(SARA, "/invite"))[0]
    assert "دوستانتان را به کافه وفا دعوت کنید" in card.text and "۱۰۰ امتیاز" in card.text
    assert "دوستانی که عضو شدند: ۰" in card.text
    url = chat.standin.buttons(card)[0][1] or ""
    assert parse_qs(urlsplit(url).query)["text"] == ["به من در کافه وفا بپیوند: بعد از اولین خریدت ۵۰ امتیاز می‌گیری."]


async def test_invite_needs_membership(chat: Chat) -> None:
    assert "Send /start to join" in await chat.reply_text(EMMA, "/invite")


async def test_a_friend_joins_through_the_link_and_both_are_told(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    code = (await member_of(app, EMMA)).code
    welcome = (await chat.say(REZA, f"/start ref-{code}"))[0].text
    assert "با دعوت Emma عضو شدید" in welcome and "۵۰ امتیاز اضافه" in welcome
    reza = await member_of(app, REZA)
    assert reza.referrer_id == (await member_of(app, EMMA)).id
    await chat.deliver_outbox()
    assert chat.standin.messages(EMMA.id)[-1].text == (
        "🎉 رضا joined with your invitation! You get 100 points after their first purchase."
    )
    await chat.say(OWNER, f"/award {reza.code} 120")
    await chat.deliver_outbox()
    assert "🎁 رضا made their first purchase: you earned 100 points" in chat.standin.messages(EMMA.id)[-1].text
    told = [m.text for m in chat.standin.messages(REZA.id)[-2:]]
    assert any("۵۰ امتیاز به خاطر عضویت با دعوت Emma" in t for t in told)
    assert (await member_of(app, EMMA)).balance == 120 and (await member_of(app, REZA)).balance == 190


async def test_own_link_and_an_existing_member_get_a_gentle_note(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(LAYLA, "/start")
    emma = await member_of(app, EMMA)
    own = await chat.reply_text(EMMA, f"/start ref-{emma.code}")
    assert "Welcome back" in own and "your own invitation link" in own
    other = await chat.reply_text(LAYLA, f"/start ref-{emma.code}")
    assert "أنت عضو بالفعل" in other
    assert (await member_of(app, LAYLA)).referrer_id is None and (await member_of(app, EMMA)).referrer_id is None
    await chat.deliver_outbox()
    assert len(chat.standin.messages(EMMA.id)) == 4  # welcome, phone and birthday offers, own-link note: no "friend joined"
