"""Issue 14's "done when": a café owner runs "every 8th coffee free" and "20 points for
joining our channel" from the documented program file, and a customer sees both in /earn
and on the card."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.domain.program import load_program
from bot.telegram.routers.earn import AskStaff, ChannelCheck
from standin import BotAPIStandIn
from tests.handlers.earning_support import member_of
from tests.support import EMMA, OWNER, SARA, Chat, FakeClock, make_app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "program.example.toml"


@pytest.fixture
async def example(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    application = await make_app(db_url, standin, clock=clock, program=load_program(EXAMPLE))
    await application.prepare_database()
    try:
        yield application
    finally:
        await application.close()


async def test_every_8th_coffee_free_and_20_points_for_joining_the_channel(
    example: App, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    chat = Chat(example, standin)
    standin.channel(-1009, "Wafa Café", username="wafa_cafe")
    standin.join_chat(-1009, EMMA.id)
    await chat.say(EMMA, "/start")
    emma = await member_of(example, EMMA)
    listing = (await chat.say(EMMA, "/earn"))[-1]
    assert "☕ Coffee card: ○○○○○○○○ \u20680/8\u2069 · a full card gets you Free coffee" in listing.text
    assert "Join our channel — +20 points · once · available now" in listing.text
    await chat.press(EMMA, listing, ChannelCheck(action="join-channel").pack())
    for day in range(8):
        await chat.say(OWNER, f"/stamp {emma.code}")
        if day < 7:
            card = await chat.reply_text(EMMA, "/balance")
            assert f"●{'●' * day}{'○' * (7 - day)}" in card
        clock.advance(days=1)
    emma = await member_of(example, EMMA)
    assert emma.balance == 20 + 20 and emma.stamps == 0
    await chat.deliver_outbox()
    voucher = [m for m in standin.messages(EMMA.id) if m.kind == "photo"][-1]
    assert "Your Coffee card is full!" in voucher.text and "Free coffee" in voucher.text
    listing = await chat.reply_text(EMMA, "/earn")
    assert "Join our channel — +20 points · once · ✅ done" in listing and "○○○○○○○○" in listing


async def test_the_persian_card_and_earn_list(example: App, standin: BotAPIStandIn) -> None:
    chat = Chat(example, standin)
    await chat.say(SARA, "/start")
    await chat.say(OWNER, f"/stamp {(await member_of(example, SARA)).code}")
    card = await chat.reply_text(SARA, "/balance")
    assert "کارت قهوه: ●○○○○○○○ \u2068۱/۸\u2069" in card
    listing = await chat.reply_text(SARA, "/earn")
    assert "عضویت در کانال ما" in listing and "+۲۰ امتیاز" in listing and "یک بار" in listing
    assert "نقطه‌ی عطف بعدی: خرید شماره‌ی ۱۰" in listing


async def test_forgetting_a_member_removes_their_name_from_staff_requests(example: App, standin: BotAPIStandIn) -> None:
    chat = Chat(example, standin)
    await chat.say(OWNER, "/start")
    await chat.say(EMMA, "/start")
    listing = (await chat.say(EMMA, "/earn"))[-1]
    await chat.press(EMMA, listing, AskStaff(action="review").pack())
    confirm = (await chat.say(EMMA, "/forget"))[-1]
    await chat.press(EMMA, confirm, standin.buttons(confirm)[0][1])
    async with example.ctx.uow() as uow:
        rows = [m for m in await uow.privacy.messages_to((await uow.members.by_telegram_id(OWNER.id)).id)]
    [request] = [m for m in rows if m.kind == "action_request"]
    assert request.payload["member_name"] is None and "Emma" not in json.dumps(request.payload)
