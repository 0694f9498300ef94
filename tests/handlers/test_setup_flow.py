"""/setup and /program through the real dispatcher: every step, back and cancel, bad input
kept out, a saved change in force on another replica at once (issue 12)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.app import App
from standin import BotAPIStandIn, BotMessage
from storage.models import AuditEntry, ProgramVersion, Reward
from tests.support import EMMA, OWNER, Chat, FakeClock, Person, make_app

OWNER_FA = Person(OWNER.id, "امید", "fa", "omid")


def P(text: str) -> str:
    """The text without its direction isolates (the bot wraps names and codes in them)."""
    return text.replace("\u2068", "").replace("\u2069", "")


def tap(chat: Chat, message: BotMessage, label: str) -> str:
    for text, data in chat.standin.buttons(message):
        if text == label:
            assert data is not None
            return data
    raise AssertionError(f"no button {label!r} in {chat.standin.buttons(message)}")


async def versions(app: App) -> list[tuple[int, str]]:
    async with app.ctx.uow() as uow:
        rows = await uow.session.scalars(select(ProgramVersion).order_by(ProgramVersion.version))
        return [(r.version, r.source) for r in rows]


async def test_a_fresh_install_offers_setup_to_the_owners_first_start(chat: Chat, app: App) -> None:
    text = (await chat.say(OWNER, "/start"))[0].text
    assert text.startswith("Welcome to Wafa, Omar! Your shop has no program yet. Send /setup")
    await chat.say(EMMA, "/start")
    assert "/setup" not in await chat.reply_text(OWNER, "/start")  # members joined: no longer fresh


async def test_every_step_with_refusals_back_and_save(chat: Chat, app: App) -> None:
    await app.prepare_database()
    assert await versions(app) == [(1, "file")]
    intro, first = await chat.say(OWNER, "/setup")
    assert "Nothing changes until you tap ✅ Save" in P(intro.text)
    assert "name in English" in P(first.text) and "Now: Wafa Café" in P(first.text)
    arabic = (await chat.say(OWNER, "Café Nima"))[-1]
    assert "name in Arabic" in P(arabic.text)
    persian = (await chat.press(OWNER, arabic, tap(chat, arabic, "Keep it")))[-1]
    assert "name in Persian" in P(persian.text)
    currency = (await chat.say(OWNER, "کافه نیما"))[-1]
    assert "three-letter ISO code" in P(currency.text)
    refused = (await chat.say(OWNER, "XYZ"))[-1]
    assert "XYZ" in P(refused.text) and "is not a currency code I know" in P(refused.text)
    assert "three-letter ISO code" in P(refused.text)  # asked again
    rate = (await chat.press(OWNER, refused, tap(chat, refused, "toman")))[-1]
    assert "spend to earn 1 point" in P(rate.text)
    for bad in ("-5", "0", "abc"):
        assert "Please type a positive amount" in (await chat.say(OWNER, bad))[-1].text
    signup = (await chat.say(OWNER, "۱٬۰۰۰"))[-1]
    assert "✓ A purchase of 250,000 toman earns 250 points." in P(signup.text)
    assert "Points for joining" in P(signup.text)
    assert "Please type a whole number" in P((await chat.say(OWNER, "-1"))[-1].text)
    birthday = (await chat.say(OWNER, "50"))[-1]
    assert "birthday" in P(birthday.text)
    referrer = (await chat.press(OWNER, birthday, tap(chat, birthday, "Keep it")))[-1]
    referee = (await chat.press(OWNER, referrer, tap(chat, referrer, "Keep it")))[-1]
    gold = (await chat.press(OWNER, referee, tap(chat, referee, "Keep it")))[-1]
    assert "reach Gold" in P(gold.text)
    platinum = (await chat.say(OWNER, "300"))[-1]
    assert "reach Platinum (more than 300 points)" in P(platinum.text)
    below = (await chat.say(OWNER, "200"))[-1]
    assert "above 300 points" in P(below.text)
    back = (await chat.press(OWNER, below, tap(chat, below, "◀ Back")))[-1]
    assert "reach Gold" in P(back.text) and "Now: 300 points" in P(back.text)
    await chat.say(OWNER, "400")
    reward = (await chat.say(OWNER, "2000"))[-1]
    assert "first reward" in P(reward.text)
    cost = (await chat.say(OWNER, "Free tea"))[-1]
    assert "How many points does" in P(cost.text)
    confirm = (await chat.say(OWNER, "120"))[-1]
    assert "Currency: toman" in P(confirm.text) and "Name (English): " in P(confirm.text)
    assert "Tier Gold: from 400 points" in P(confirm.text) and "New reward:" in P(confirm.text)
    # Nothing is saved before the last tap.
    assert await versions(app) == [(1, "file")]
    save = tap(chat, confirm, "✅ Save")
    saved = (await chat.press(OWNER, confirm, save))[-1]
    assert "✅ Saved" in P(saved.text)
    assert await versions(app) == [(1, "file"), (2, "chat")]
    program = app.ctx.program
    assert program.currency == "IRT" and program.earning.points_per_unit == Decimal("0.001")
    assert program.name["en"] == "Café Nima" and program.name["fa"] == "کافه نیما" and program.name["ar"] == "مقهى وفا"
    assert program.bonuses.signup == 50 and [t.threshold for t in program.tiers] == [0, 400, 2000]
    async with app.ctx.uow() as uow:
        names = [r.name for r in await uow.session.scalars(select(Reward))]
        audit = [(a.action, a.details) for a in await uow.session.scalars(select(AuditEntry))]
    assert {"en": "Free tea"} in names
    assert ("program", {"version": 2, "changes": audit[-1][1]["changes"]}) in audit
    assert audit[-1][1]["changes"]["currency"] == "IRT"
    summary = P(await chat.reply_text(OWNER, "/program"))
    assert "Café Nima" in summary and "1 point for every 1,000 toman" in summary
    # The start-up after a chat edit keeps the chat's program, whatever the file says.
    await app.prepare_database()
    assert await versions(app) == [(1, "file"), (2, "chat")] and app.ctx.program.currency == "IRT"
    # A stale button of the finished conversation changes nothing.
    await chat.press_raw(OWNER, confirm, save)
    assert await versions(app) == [(1, "file"), (2, "chat")]


async def test_cancel_and_abandoning_change_nothing(chat: Chat, app: App) -> None:
    await chat.say(OWNER, "/setup")
    arabic = (await chat.say(OWNER, "Another name"))[-1]
    cancelled = (await chat.press(OWNER, arabic, tap(chat, arabic, "✖ Cancel")))[-1]
    assert P(cancelled.text) == "Setup cancelled. Nothing was changed."
    await chat.say(OWNER, "/setup")
    await chat.say(OWNER, "Third name")
    await chat.say(OWNER, "/stats")  # leaves the conversation
    assert await versions(app) == [] and app.ctx.program.name["en"] == "Wafa Café"
    assert "Wafa Café" in P(await chat.reply_text(OWNER, "/program"))


async def test_setup_speaks_the_owners_language(chat: Chat) -> None:
    intro, first = await chat.say(OWNER_FA, "/setup")
    assert "فارسی" in P(first.text) and "Save" not in P(intro.text)
    assert (await chat.reply_text(OWNER_FA, "/cancel")) == "لغو شد. چیزی تغییر نکرد."


async def test_customers_and_staff_cannot_set_up(chat: Chat) -> None:
    await chat.say(EMMA, "/start")
    assert "I don't know that command" in await chat.reply_text(EMMA, "/setup")


async def test_a_saved_rate_is_in_force_on_another_replica_at_once(
    chat: Chat, app: App, db_url: str, standin: BotAPIStandIn, clock: FakeClock
) -> None:
    replica = await make_app(db_url, standin, clock=clock)
    try:
        other = Chat(replica, standin)
        await other.say(EMMA, "/start")  # the replica has read the program once already
        assert "100 points" in await other.reply_text(OWNER, "/award @emma_w 100")
        await chat.say(OWNER, "/setup")
        # a new English name, the others kept; currency IRT; 1 point per 1000
        step = (await chat.say(OWNER, "Café Nima"))[-1]
        step = (await chat.press(OWNER, step, tap(chat, step, "Keep it")))[-1]
        step = (await chat.press(OWNER, step, tap(chat, step, "Keep it")))[-1]
        step = (await chat.press(OWNER, step, tap(chat, step, "toman")))[-1]
        step = (await chat.say(OWNER, "1000"))[-1]
        while "Save these settings" not in P(step.text):
            label = "Skip" if "first reward" in P(step.text) else "Keep it"
            step = (await chat.press(OWNER, step, tap(chat, step, label)))[-1]
        await chat.press(OWNER, step, tap(chat, step, "✅ Save"))
        reply = P(await other.reply_text(OWNER, "/award @emma_w 250000"))
        assert "250 points" in reply and "250,000 toman" in reply
        assert replica.ctx.program.name["en"] == "Café Nima"
    finally:
        await replica.close()
