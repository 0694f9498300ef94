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
