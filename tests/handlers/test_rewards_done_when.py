"""Issue 3, "Done when": the owner adds a reward in three languages, a customer redeems
it in two taps and gets a voucher with a QR code, the cashier validates it once and a
second validation is refused; the customer reads everything in their language."""
from __future__ import annotations

import re

from bot.app import App
from tests.handlers.rewards_support import button, join, latest, member_of, reward_by_name, vouchers_of, with_buttons
from tests.support import CASHIER, OWNER, SARA, Chat, FakeClock

VOUCHER = re.compile(r"[2-9A-HJKMNP-TW-Z]{2,4}-[2-9A-HJKMNP-TW-Z]{7}")


async def owner_adds_cinnamon_roll(chat: Chat) -> None:
    catalog = with_buttons(await chat.say(OWNER, "/rewards_admin"))
    assert "Rewards catalog" in catalog.text and "Free coffee" in catalog.text  # seeded from the program
    asked = await chat.press(OWNER, catalog, button(chat, catalog, "Add a reward"))
    assert "called in English" in asked[-1].text
    for answer in ("Cinnamon roll", "لفافة القرفة", "رول دارچینی", "Fresh from our oven", "طازجة من فرننا"):
        await chat.say(OWNER, answer)
    skipped = latest(chat, OWNER)
    assert "description in Persian" in skipped.text
    await chat.press(OWNER, skipped, button(chat, skipped, "Skip"))
    assert "How many points" in latest(chat, OWNER).text
    kinds = with_buttons(await chat.say(OWNER, "۱۲۰"))
    stock = await chat.press(OWNER, kinds, button(chat, kinds, "Free product"))
    assert "handed out in total" in stock[-1].text
    limit = with_buttons(await chat.say(OWNER, "5"))
    tiers = await chat.press(OWNER, limit, button(chat, limit, "No limit"))
    validity = await chat.press(OWNER, tiers[-1], button(chat, tiers[-1], "everyone"))
    assert "valid once redeemed" in validity[-1].text
    availability = with_buttons(await chat.say(OWNER, "14"))
    preview = await chat.press(OWNER, availability, button(chat, availability, "No end date"))
    text = preview[-1].text
    assert "Check the new reward" in text and "120 points" in text and "Stock: 5" in text
    assert "لفافة القرفة" in text and "رول دارچینی" in text and "Free product" in text
    saved = await chat.press(OWNER, preview[-1], button(chat, preview[-1], "Save"))
    assert "The reward is in the catalog" in saved[-1].text


async def test_owner_adds_customer_redeems_cashier_validates_once(chat: Chat, app: App, clock: FakeClock) -> None:
    await app.prepare_database()
    await owner_adds_cinnamon_roll(chat)
    roll = await reward_by_name(app, "Cinnamon roll")
    assert roll.name == {"en": "Cinnamon roll", "ar": "لفافة القرفة", "fa": "رول دارچینی"}
    assert roll.description == {"en": "Fresh from our oven", "ar": "طازجة من فرننا"}
    assert (roll.cost, roll.kind, roll.stock, roll.per_member_limit, roll.valid_days) == (120, "free_product", 5, None, 14)

    sara = await join(chat, app, SARA, points=130)  # 20 + 130 = 150
    catalog = with_buttons(await chat.say(SARA, "/rewards"))
    assert "رول دارچینی" in catalog.text and "۱۵۰ امتیاز" in catalog.text
    await chat.press(SARA, catalog, button(chat, catalog, "رول دارچینی"))  # tap 1
    prompt = latest(chat, SARA)
    assert prompt.message_id == catalog.message_id and "تازه" not in prompt.text  # no Persian description given
    assert "۳۰ امتیاز" in prompt.text  # balance after: 150 - 120
    sent = await chat.press(SARA, prompt, button(chat, prompt, "بله"))  # tap 2
    voucher_message = sent[-1]
    assert voucher_message.kind == "photo" and voucher_message.photo.startswith(b"\x89PNG")
    code = VOUCHER.search(voucher_message.text).group(0)  # type: ignore[union-attr]
    assert "کوپن" in voucher_message.text and "رول دارچینی" in voucher_message.text
    assert "۳۰ امتیاز" in voucher_message.text
    assert (await member_of(app, SARA)).balance == 30
    assert (await reward_by_name(app, "Cinnamon roll")).stock == 4

    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    first = await chat.reply_text(CASHIER, f"/redeem {code.lower()}")
    assert "✅" in first and "رول دارچینی" in first and "سارا" in first  # the cashier reads Persian
    second = await chat.reply_text(CASHIER, f"/redeem {code}")
    assert "✅" not in second and "استفاده شده" in second
    again = await chat.reply_text(OWNER, f"/redeem {code}")
    assert "already used on" in again
    [voucher] = await vouchers_of(app, sara.id)
    assert (voucher.status, voucher.validated_by) == ("used", CASHIER.id)

    report = await chat.deliver_outbox()
    assert report.sent >= 2  # the purchase notice and the voucher-used notice
    assert "استفاده شد" in latest(chat, SARA).text and code in latest(chat, SARA).text

    # A little later she is asked how satisfied she is with it (CSAT), once.
    clock.advance(minutes=31)
    await chat.deliver_outbox()
    question = latest(chat, SARA)
    assert "رول دارچینی" in question.text and len(chat.standin.buttons(question)) == 5
    await chat.deliver_outbox()
    assert latest(chat, SARA).message_id == question.message_id

    # The owner sees it among the top rewards of the period.
    stats = (await chat.say(OWNER, "/stats"))[0].text
    assert "🎁 Top rewards: Cinnamon roll ×1 (used 1)" in stats
