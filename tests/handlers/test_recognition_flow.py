"""Milestones, tier entry rewards, early access and "top tiers first" broadcasts through
the real dispatcher (SPEC §11): each gift once, told with a message that names it, in the
transaction that earned it; redelivered purchases give nothing twice."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.jobs import run_job
from bot.services.ledger import change_tier
from standin import BotAPIStandIn, BotMessage
from storage.models import LedgerEntry, MemberGrant, OutboxMessage, Voucher
from tests.handlers.earning_support import cafe_program, count, member_of, texts
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person, make_app

TIERS = [
    {"name": {"en": "Silver", "ar": "فضي", "fa": "نقره‌ای"}, "threshold": 0},
    {"name": {"en": "Gold", "ar": "ذهبي", "fa": "طلایی"}, "threshold": 500, "multiplier": "1.25",
     "perks": {"en": "A free size upgrade", "ar": "ترقية مجانية للحجم", "fa": "بزرگ‌کردن رایگان"}, "entry_points": 50},
    {"name": {"en": "Platinum", "ar": "بلاتيني", "fa": "پلاتینی"}, "threshold": 1500, "multiplier": "1.5",
     "entry_points": 100, "entry_reward": "coffee"},
]
NEW_BLEND = {"id": "new-blend", "name": {"en": "New blend", "ar": "خلطة جديدة", "fa": "ترکیب تازه"}, "cost": 120,
             "kind": "free_product", "min_tier": 2, "early_access_hours": 48}


def program() -> Any:
    base = cafe_program()
    return cafe_program(
        tiers=TIERS,
        rewards=[*base.model_dump(mode="json")["rewards"], NEW_BLEND],
        milestones=[
            {"purchases": 3, "points": 50, "name": {"en": "Third visit", "ar": "الزيارة الثالثة", "fa": "سومین خرید"}},
            {"purchases": 5, "reward": "pastry"},
            {"anniversary_years": 1, "reward": "coffee", "points": 10},
        ],
    )


@pytest.fixture
async def shop(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    application = await make_app(db_url, standin, clock=clock, program=program())
    await application.prepare_database()
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
def shop_chat(shop: App, standin: BotAPIStandIn) -> Chat:
    return Chat(shop, standin)


async def vouchers(app: App, member_id: int) -> list[Voucher]:
    async with app.ctx.uow() as uow:
        return await uow.vouchers.for_member(member_id)


def photos(chat: Chat, person: Person) -> list[BotMessage]:
    return [m for m in chat.standin.messages(person.id) if m.kind == "photo"]


# -- purchase milestones ----------------------------------------------------------------------


async def deliver_all(chat: Chat, clock: FakeClock) -> None:
    """Deliver what is due, then what follows a purchase's receipt (a second later)."""
    await chat.deliver_outbox()
    clock.advance(seconds=1)
    await chat.deliver_outbox()


async def test_the_third_purchase_is_a_milestone_given_once(shop_chat: Chat, shop: App, clock: FakeClock) -> None:
    await shop_chat.say(EMMA, "/start")
    emma = await member_of(shop, EMMA)
    for _ in range(2):
        await shop_chat.say(OWNER, f"/award {emma.code} 10")
    third = await shop_chat.reply_text(OWNER, f"/award {emma.code} 10")
    assert "New balance: 100 points." in third  # 20 + 3 × 10 + the milestone's 50
    again = texts(await shop_chat.redeliver_last(OWNER.id))
    assert "already recorded" in again
    assert await count(shop, MemberGrant) == 1 and (await member_of(shop, EMMA)).balance == 100
    await deliver_all(shop_chat, clock)
    told = [m.text for m in shop_chat.standin.messages(EMMA.id) if "Milestone" in m.text]
    assert told == ["🏆 Milestone: Third visit! Thank you for being with us.\nHere are 50 points. Your balance is 100 points."]
    await shop_chat.say(OWNER, f"/award {emma.code} 10")
    await shop_chat.say(OWNER, f"/award {emma.code} 10")  # the fifth: a voucher, no points spent
    [pastry] = await vouchers(shop, emma.id)
    assert (pastry.points, pastry.source) == (0, "milestone")
    await deliver_all(shop_chat, clock)
    gift = photos(shop_chat, EMMA)[-1]
    assert "Milestone: 5 purchases with us!" in gift.text and pastry.code in gift.text and "Free pastry" in gift.text
    await shop_chat.say(OWNER, f"/award {emma.code} 10")
    assert await count(shop, MemberGrant) == 2


async def test_milestone_points_in_persian(shop_chat: Chat, shop: App, clock: FakeClock) -> None:
    await shop_chat.say(SARA, "/start")
    sara = await member_of(shop, SARA)
    for _ in range(3):
        await shop_chat.say(OWNER, f"/award {sara.code} 10")
    await deliver_all(shop_chat, clock)
    said = [m.text for m in shop_chat.standin.messages(SARA.id)]
    assert "سومین خرید" in said[-1] and "۵۰" in said[-1]  # after the purchase's receipt
    assert "۱۰ امتیاز" in said[-2]


# -- anniversaries ----------------------------------------------------------------------------


async def test_a_membership_anniversary_is_given_by_the_daily_job_once(shop_chat: Chat, shop: App, clock: FakeClock) -> None:
    await shop_chat.say(LAYLA, "/start")  # joined 10 March 2026, 15:30 in Tehran
    layla = await member_of(shop, LAYLA)
    clock.set(datetime(2027, 3, 9, 7, 0, tzinfo=UTC))
    assert "0 anniversary milestone(s) given" in await run_job(shop, "anniversaries", None)
    clock.set(datetime(2027, 3, 12, 7, 0, tzinfo=UTC))  # the bot was stopped on the 10th: caught up
    assert "1 anniversary milestone(s) given" in await run_job(shop, "anniversaries", None)
    assert "0 anniversary milestone(s) given, 1 already given" in await run_job(shop, "anniversaries", None)
    [coffee] = await vouchers(shop, layla.id)
    assert coffee.source == "milestone" and (await member_of(shop, LAYLA)).balance == 30
    await shop_chat.deliver_outbox()
    told = photos(shop_chat, LAYLA)[-1].text
    assert "١" in told and coffee.code in told  # "1 year with us", in Arabic digits


# -- tier entry rewards -------------------------------------------------------------------------


async def test_jumping_two_tiers_gives_both_entry_rewards_in_the_same_transaction(
    shop_chat: Chat, shop: App, clock: FakeClock
) -> None:
    await shop_chat.say(EMMA, "/start")
    emma = await member_of(shop, EMMA)
    reply = await shop_chat.reply_text(OWNER, f"/award {emma.code} 1600")
    emma = await member_of(shop, EMMA)
    assert emma.tier == 2
    assert emma.balance == 20 + 1600 + 50 + 100
    assert "New balance: 1,770 points." in reply
    async with shop.ctx.uow() as uow:
        kinds = [(e.kind, e.delta) for e in await uow.ledger.recent(emma.id, limit=10)]
        earned = await uow.ledger.earned_since(emma.id, ["tier_bonus"], None)
    assert ("tier_bonus", 50) in kinds and ("tier_bonus", 100) in kinds
    assert earned == 150  # written, but not an earning kind: it never lifts a tier
    [coffee] = await vouchers(shop, emma.id)
    assert coffee.source == "tier_entry"
    await deliver_all(shop_chat, clock)
    said = [m.text for m in shop_chat.standin.messages(EMMA.id)]
    assert any("You are now Platinum" in t for t in said)
    assert any("A welcome gift for reaching Gold" in t and "50 points" in t for t in said)
    assert any("A welcome gift for reaching Platinum" in t and coffee.code in t for t in said)
    card = await shop_chat.reply_text(EMMA, "/balance")
    assert "You are in our top tier" in card


async def test_a_tier_regained_within_its_window_gives_nothing_again(shop_chat: Chat, shop: App, clock: FakeClock) -> None:
    await shop_chat.say(EMMA, "/start")
    emma = await member_of(shop, EMMA)
    await shop_chat.say(OWNER, f"/award {emma.code} 600")
    assert await count(shop, MemberGrant, MemberGrant.kind == "tier_entry") == 1
    await demote(shop, emma.id, clock)
    clock.advance(days=30)
    await shop_chat.say(OWNER, f"/award {emma.code} 10")  # back in Gold, within the 12-month window
    assert (await member_of(shop, EMMA)).tier == 1
    assert await count(shop, MemberGrant, MemberGrant.kind == "tier_entry") == 1
    await demote(shop, emma.id, clock)
    clock.advance(days=400)  # the window has moved past the first gift
    await shop_chat.say(OWNER, f"/award {emma.code} 600")
    assert (await member_of(shop, EMMA)).tier == 1
    async with shop.ctx.uow() as uow:
        grants = list(await uow.session.scalars(
            select(MemberGrant.key).where(MemberGrant.kind == "tier_entry").order_by(MemberGrant.id)
        ))
    assert grants == [f"tier-entry:{emma.id}:1:1", f"tier-entry:{emma.id}:1:2"]
    assert await count(shop, LedgerEntry, LedgerEntry.kind == "tier_bonus") == 2


async def demote(app: App, member_id: int, clock: FakeClock) -> None:
    """What the expiry job does at the end of a tier period, done now."""
    async with app.ctx.uow() as uow:
        member = await uow.members.by_id(member_id)
        await change_tier(app.ctx, uow, member, member.tier, 0, "demotion", earned=0, now=clock())
        await uow.commit()


async def test_perks_show_on_the_card(shop_chat: Chat, shop: App) -> None:
    await shop_chat.say(SARA, "/start")
    await shop_chat.say(OWNER, f"/award {(await member_of(shop, SARA)).code} 600")
    card = await shop_chat.reply_text(SARA, "/balance")
    assert "بزرگ‌کردن رایگان" in card and "طلایی" in card


# -- early access ---------------------------------------------------------------------------------


async def test_early_access_lets_the_top_tier_redeem_first(shop_chat: Chat, shop: App, clock: FakeClock) -> None:
    await shop_chat.say(EMMA, "/start")
    await shop_chat.say(LAYLA, "/start")
    await shop_chat.say(OWNER, f"/award {(await member_of(shop, EMMA)).code} 1600")
    await shop_chat.say(OWNER, f"/award {(await member_of(shop, LAYLA)).code} 200")
    top = await shop_chat.reply_text(EMMA, "/rewards")
    assert "New blend — 120 points · ✅ ready to redeem" in top
    catalog = await shop_chat.reply_text(LAYLA, "/rewards")
    assert "خلطة جديدة" in catalog and "🔒" in catalog
    clock.advance(hours=48)
    assert "🔒" not in (await shop_chat.reply_text(LAYLA, "/rewards")).split("خلطة جديدة")[1].split("\n")[0]


async def test_early_access_wording_for_a_lower_tier(shop_chat: Chat, shop: App) -> None:
    await shop_chat.say(EMMA, "/start")
    await shop_chat.say(OWNER, f"/award {(await member_of(shop, EMMA)).code} 200")
    catalog = await shop_chat.reply_text(EMMA, "/rewards")
    assert "New blend — 120 points · 🔒 early access for Platinum members; open to everyone from" in catalog


# -- broadcasts: top tiers first ---------------------------------------------------------------------


async def test_a_broadcast_reaches_the_top_tiers_first_and_everyone_else_later(
    shop_chat: Chat, shop: App, clock: FakeClock
) -> None:
    for person, amount in ((EMMA, 600), (SARA, 10)):
        welcome = (await shop_chat.say(person, "/start"))[0]
        await shop_chat.press(person, welcome, shop_chat.standin.buttons(welcome)[0][1])  # yes to offers
        await shop_chat.say(OWNER, f"/award {(await member_of(shop, person)).code} {amount}")
    await shop_chat.deliver_outbox()
    menu = (await shop_chat.say(OWNER, "/broadcast"))[0]
    await shop_chat.press(OWNER, menu, dict(shop_chat.standin.buttons(menu))["Everyone"])
    summary = shop_chat.standin.messages(OWNER.id)[-1]
    await shop_chat.press(OWNER, summary, dict(shop_chat.standin.buttons(summary))["One text for everyone"])
    confirm = (await shop_chat.say(OWNER, "New beans this week, {first_name}!"))[-1]
    early = await shop_chat.press(OWNER, confirm, dict(shop_chat.standin.buttons(confirm))["⭐ Top tiers first"])
    assert not early
    tiers = shop_chat.standin.messages(OWNER.id)[-1]
    await shop_chat.press(OWNER, tiers, dict(shop_chat.standin.buttons(tiers))["Gold"])
    hours = shop_chat.standin.messages(OWNER.id)[-1]
    confirmed = await shop_chat.press(OWNER, hours, dict(shop_chat.standin.buttons(hours))["24 hours"])
    final = confirmed[-1]
    assert "⭐ Gold and above first (1); everyone else (1) 24 hours later." in final.text
    await shop_chat.press(OWNER, final, dict(shop_chat.standin.buttons(final))["📤 Send now"])
    await shop_chat.deliver_outbox()
    assert any("New beans this week, Emma!" in m.text for m in shop_chat.standin.messages(EMMA.id))
    assert not any("New beans" in m.text for m in shop_chat.standin.messages(SARA.id))
    assert not any("Broadcast #1 is done" in m.text for m in shop_chat.standin.messages(OWNER.id))
    clock.advance(hours=24)
    await shop_chat.deliver_outbox()
    assert any("New beans this week, سارا!" in m.text for m in shop_chat.standin.messages(SARA.id))
    await shop_chat.deliver_outbox()
    assert any("Broadcast #1 is done" in m.text for m in shop_chat.standin.messages(OWNER.id))
    async with shop.ctx.uow() as uow:
        rows = (await uow.session.execute(
            select(OutboxMessage.member_id, OutboxMessage.not_before).where(OutboxMessage.kind == "broadcast")
        )).all()
    delays = sorted(round((row.not_before - min(r.not_before for r in rows)) / timedelta(hours=1)) for row in rows)
    assert delays == [0, 24]
