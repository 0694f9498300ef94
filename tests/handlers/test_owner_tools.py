"""Owner tools through the real dispatcher: /adjust, /campaign and /rewards_admin edits;
bad input answered and changing nothing; staff and customers fall through."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from storage.models import AuditEntry, Campaign, OutboxMessage, Reward
from tests.handlers.rewards_support import (
    add_reward,
    button,
    join,
    latest,
    ledger_count,
    member_of,
    reward_by_name,
    with_buttons,
)
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat

UNKNOWN = "I don't know that command. Send /help to see what I can do."
UNKNOWN_FA = "این فرمان را نمی‌شناسم. برای دیدن کارهایی که می‌توانم انجام دهم /help را بفرستید."


async def make_cashier(app: App) -> None:
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()


async def test_adjust_corrects_audits_and_tells_the_member(chat: Chat, app: App) -> None:
    sara = await join(chat, app, SARA)
    reply = await chat.reply_text(OWNER, f"/adjust {sara.code} +۵۰ goodwill for the wait")
    assert "✅ \u2068+50 points\u2069 for سارا" in reply and "New balance: 70 points" in reply
    again = await chat.redeliver_last(OWNER.id)
    assert "already made" in again[0].text
    reply = await chat.reply_text(OWNER, "/adjust @sara_t -٧٠ counted twice")
    assert "−70 points" in reply and "New balance: 0 points" in reply
    assert (await member_of(app, SARA)).balance == 0
    async with app.ctx.uow() as uow:
        audit = (await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "adjust"))).all()
        assert [(a.actor_id, a.details["points"], a.details["reason"]) for a in audit] == [
            (OWNER.id, 50, "goodwill for the wait"), (OWNER.id, -70, "counted twice")]
    await chat.deliver_outbox()
    told = [m.text for m in chat.standin.messages(SARA.id)][-2:]
    assert "۵۰ امتیاز به موجودی‌تان اضافه کردیم: goodwill for the wait" in told[0]
    assert "۷۰ امتیاز از موجودی‌تان کم کردیم" in told[1]


async def test_adjust_bad_input_changes_nothing(chat: Chat, app: App) -> None:
    emma = await join(chat, app, EMMA)
    before = await ledger_count(app)
    cases = {
        "/adjust": "Usage: /adjust",
        f"/adjust {emma.code}": "Usage: /adjust",
        f"/adjust {emma.code} 50": "Usage: /adjust",
        f"/adjust {emma.code} abc reason": "is not a valid number of points",
        f"/adjust {emma.code} 0 reason": "is not a valid number of points",
        f"/adjust {emma.code} 1.5 reason": "is not a valid number of points",
        f"/adjust {emma.code} 99999999 reason": "more than one correction may move",
        f"/adjust {emma.code} -21 too much": "Not enough points: this needs 21 points, the balance is 20 points",
        "/adjust ZZZZZZ 5 reason": "No member matches",
        f"/adjust {emma.code} 5 " + "r" * 300: "note is too long",
        f"/adjust {emma.code} 5 " + "r" * 4000: "note is too long",
    }
    for command, expected in cases.items():
        assert expected in await chat.reply_text(OWNER, command), command
    assert await ledger_count(app) == before and (await member_of(app, EMMA)).balance == 20
    await make_cashier(app)
    assert await chat.reply_text(CASHIER, f"/adjust {emma.code} 50 because") == UNKNOWN_FA
    assert await chat.reply_text(EMMA, f"/adjust {emma.code} 50 because") == UNKNOWN
    assert (await member_of(app, EMMA)).balance == 20


async def test_a_campaign_multiplies_awards_and_opted_in_members_are_told(chat: Chat, app: App) -> None:
    emma = await join(chat, app, EMMA)
    layla = await join(chat, app, LAYLA)
    async with app.ctx.uow() as uow:
        await uow.members.set_fields(layla.id, marketing_opt_in=True)
        await uow.commit()
    reply = await chat.reply_text(OWNER, "/campaign 2 48h")
    assert "Campaign on: purchases earn ×2 points until" in reply and "1 member who accepts offers" in reply
    assert "✅ 200 points to Emma" in await chat.reply_text(OWNER, f"/award {emma.code} 100")
    await chat.deliver_outbox()
    announcement = [m.text for m in chat.standin.messages(LAYLA.id) if "🔥" in m.text]
    assert len(announcement) == 1 and "×٢" in announcement[0]
    assert not [m for m in chat.standin.messages(EMMA.id) if "🔥" in m.text]  # Emma never opted in
    async with app.ctx.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "campaign_started"))).all()
        assert [(r.category, r.member_id) for r in rows] == [("marketing", layla.id)]

    replaced = await chat.reply_text(OWNER, "/campaign 1.5 1w")
    assert "replaces the campaign" in replaced
    assert "✅ 150 points" in await chat.reply_text(OWNER, f"/award {emma.code} 100")
    assert "campaign has ended" in await chat.reply_text(OWNER, "/campaign off")
    assert "✅ 100 points" in await chat.reply_text(OWNER, f"/award {emma.code} 100")
    assert "nothing to end" in await chat.reply_text(OWNER, "/campaign off")
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(Campaign.id))) == 2


async def test_campaign_bad_input_and_roles(chat: Chat, app: App) -> None:
    cases = {
        "/campaign": "No campaign is running.",
        "/campaign 2": "Usage: /campaign",
        "/campaign 1 48h": "is not a valid multiplier",
        "/campaign 100 48h": "is not a valid multiplier",
        "/campaign two 48h": "is not a valid multiplier",
        "/campaign 2 forever": "is not a valid duration",
        "/campaign 2 400d": "is not a valid duration",
        "/campaign 2 48h extra words": "Usage: /campaign",
        "/campaign " + "9" * 4000: "Usage: /campaign",
    }
    for command, expected in cases.items():
        assert expected in await chat.reply_text(OWNER, command), command
    await make_cashier(app)
    assert await chat.reply_text(CASHIER, "/campaign 2 48h") == UNKNOWN_FA
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(Campaign.id))) == 0


async def test_owner_edits_pauses_and_resumes_a_reward(chat: Chat, app: App) -> None:
    mug = await add_reward(app, name={"en": "Mug"}, cost=100)
    await join(chat, app, EMMA, points=200)
    catalog = with_buttons(await chat.say(OWNER, "/rewards_admin"))
    await chat.press(OWNER, catalog, button(chat, catalog, "Mug"))
    card = latest(chat, OWNER)
    assert "Active" in card.text and "Cost: 100 points" in card.text

    asked = await chat.press(OWNER, card, button(chat, card, "Cost"))
    assert "How many points" in asked[-1].text
    assert "is not a number from 1 to 10,000,000" in await chat.reply_text(OWNER, "-3")
    assert "✅ Saved" in await chat.reply_text(OWNER, "۸۰")
    assert (await reward_by_name(app, "Mug")).cost == 80

    card = latest(chat, OWNER)
    languages = await chat.press(OWNER, card, button(chat, card, "Name"))
    asked = await chat.press(OWNER, languages[-1], button(chat, languages[-1], "Persian"))
    assert "called in Persian" in asked[-1].text
    await chat.say(OWNER, "ماگ")
    assert (await reward_by_name(app, "Mug")).name == {"en": "Mug", "fa": "ماگ"}

    card = latest(chat, OWNER)
    kinds = await chat.press(OWNER, card, button(chat, card, "Kind"))
    asked = await chat.press(OWNER, kinds[-1], button(chat, kinds[-1], "Percentage discount"))
    assert "How many percent" in asked[-1].text
    assert "is not a number from 1 to 100" in await chat.reply_text(OWNER, "150")
    await chat.say(OWNER, "15")
    reward = await reward_by_name(app, "Mug")
    assert (reward.kind, reward.value) == ("discount_percent", 15)

    card = latest(chat, OWNER)
    stock = await chat.press(OWNER, card, button(chat, card, "Stock"))
    await chat.press(OWNER, stock[-1], button(chat, stock[-1], "Unlimited"))
    card = latest(chat, OWNER)
    await chat.press(OWNER, card, button(chat, card, "Pause"))
    assert "Paused" in chat.last_callback_answer().text
    assert not (await reward_by_name(app, "Mug")).active
    assert "Mug" not in await chat.reply_text(EMMA, "/rewards")
    card = latest(chat, OWNER)
    await chat.press(OWNER, card, button(chat, card, "Resume"))
    assert (await reward_by_name(app, "Mug")).active
    assert "Mug" in await chat.reply_text(EMMA, "/rewards")

    async with app.ctx.uow() as uow:
        actions = [a.action for a in (await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()]
    assert actions.count("reward_edit") == 4 and "reward_pause" in actions and "reward_resume" in actions
    assert mug.id == reward.id


async def test_the_admin_conversation_refuses_stale_buttons_and_saves_once(chat: Chat, app: App) -> None:
    catalog = with_buttons(await chat.say(OWNER, "/rewards_admin"))
    first = await chat.press(OWNER, catalog, button(chat, catalog, "Add a reward"))
    skip_name = button(chat, first[-1], "Skip")
    await chat.say(OWNER, "Sticker pack")
    await chat.press_raw(OWNER, first[-1], skip_name)  # the Skip of a step already answered
    assert "no longer valid" in chat.last_callback_answer().text
    asked = latest(chat, OWNER)
    assert "called in Arabic" in asked.text
    await chat.press(OWNER, asked, button(chat, asked, "Skip"))
    await chat.press(OWNER, latest(chat, OWNER), button(chat, latest(chat, OWNER), "Skip"))  # fa
    for _ in range(3):  # no descriptions
        await chat.press(OWNER, latest(chat, OWNER), button(chat, latest(chat, OWNER), "Skip"))
    assert "is not a number" in await chat.reply_text(OWNER, "lots")
    kinds = with_buttons(await chat.say(OWNER, "40"))
    assert "choose with the buttons above" in await chat.reply_text(OWNER, "a gift")
    await chat.press_raw(OWNER, kinds, "ra:kind:0:teleport")
    assert "no longer valid" in chat.last_callback_answer().text
    await chat.press(OWNER, kinds, button(chat, kinds, "Gift"))
    await chat.press(OWNER, latest(chat, OWNER), button(chat, latest(chat, OWNER), "Unlimited"))
    await chat.press(OWNER, latest(chat, OWNER), button(chat, latest(chat, OWNER), "No limit"))
    tiers = latest(chat, OWNER)
    await chat.press(OWNER, tiers, button(chat, tiers, "Gold and above"))
    await chat.press(OWNER, latest(chat, OWNER), button(chat, latest(chat, OWNER), "Keep 30 days"))
    assert "stay in the catalog" in latest(chat, OWNER).text
    await chat.say(OWNER, "/help")  # another command in the middle does not end the conversation
    preview = with_buttons(await chat.say(OWNER, "7"))
    assert "Gold and above" in preview.text and "for 7 days from now" in preview.text
    save = button(chat, preview, "Save")
    await chat.press(OWNER, preview, save)
    await chat.press_raw(OWNER, preview, save)  # a double tap
    assert "no longer valid" in chat.last_callback_answer().text
    async with app.ctx.uow() as uow:
        saved = (await uow.session.scalars(select(Reward).where(Reward.cost == 40))).all()
    assert len(saved) == 1 and saved[0].name == {"en": "Sticker pack"} and saved[0].min_tier == 1
    assert saved[0].ends_at is not None


async def test_cancel_and_roles(chat: Chat, app: App) -> None:
    catalog = with_buttons(await chat.say(OWNER, "/rewards_admin"))
    await chat.press(OWNER, catalog, button(chat, catalog, "Add a reward"))
    await chat.say(OWNER, "Half-made")
    assert "Cancelled" in await chat.reply_text(OWNER, "/cancel")
    assert "I didn't catch that" in await chat.reply_text(OWNER, "more text")  # the conversation is over
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(Reward.id))) == 0
    await make_cashier(app)
    await join(chat, app, EMMA)
    assert await chat.reply_text(CASHIER, "/rewards_admin") == UNKNOWN_FA
    assert await chat.reply_text(EMMA, "/rewards_admin") == UNKNOWN
    menu = (await chat.say(EMMA, "/rewards"))[0]
    await chat.press_raw(EMMA, menu, "ra:add:0:")
    assert "no longer valid" in chat.last_callback_answer().text
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(Reward.id))) == 0


async def test_every_menu_lists_the_new_commands(app: App, standin) -> None:  # type: ignore[no-untyped-def]
    await app.publish_menus()
    calls = standin.calls_to("setMyCommands")
    default_fa = next(c for c in calls if c.get("scope", {}).get("type") == "default" and c.get("language_code") == "fa")
    assert {"rewards", "history"} <= {c["command"] for c in default_fa["commands"]}
    owner = [c for c in calls if c.get("scope", {}).get("chat_id") == OWNER.id]
    names = {cmd["command"] for c in owner for cmd in c["commands"]}
    assert {"redeem", "adjust", "campaign", "rewards_admin"} <= names
