"""/surprise through the real dispatcher: preview, confirm once, the recorded seed
reproduces the pick, and every bad input is answered with nothing given."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.domain.draws import pick
from bot.domain.program import Program
from bot.domain.program import Surprise as SurpriseRules
from bot.services.rewards import seed_rewards
from standin import BotAPIStandIn
from storage.models import AuditEntry, LedgerEntry, Surprise, SurpriseGift, Voucher
from tests.handlers.test_core_flow import member_of
from tests.handlers.test_survey_flow import button, rows
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, make_app


async def gifts(app: App) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).where(LedgerEntry.kind == "surprise")) or 0)


async def join_all(chat: Chat) -> None:
    for person in (EMMA, LAYLA, SARA):
        await chat.say(person, "/start")


async def test_preview_then_confirm_gives_once_to_random_members(chat: Chat, app: App) -> None:
    await join_all(chat)
    preview = (await chat.say(OWNER, "/surprise all 2 30"))[0]
    assert "Who: 2 of 3 members in all members, picked at random." in preview.text
    assert "Each gets: 30 points." in preview.text
    assert "Cost: 60 points. Surprise budget left this month: 1,000 points of 1,000 points." in preview.text
    assert await gifts(app) == 0  # the preview gives nothing
    send = button(chat, preview, "🎁 Send the surprise")
    await chat.press(OWNER, preview, send)
    assert "🎁 Surprise sent!" in preview.text or "Surprise sent" in chat.standin.messages(OWNER.id)[-1].text
    assert await gifts(app) == 2
    # A second tap on the same preview (a double tap, a redelivery) gives nothing more.
    await chat.press_raw(OWNER, preview, send)
    assert await gifts(app) == 2
    [surprise] = await rows(app, Surprise)
    assert surprise.chosen == pick(surprise.seed, surprise.candidates, 2)  # reproducible from the record
    members = {p.id: await member_of(app, p) for p in (EMMA, LAYLA, SARA)}
    assert sorted(surprise.candidates) == sorted(m.id for m in members.values())
    chosen = [p for p, m in members.items() if m.id in surprise.chosen]
    assert len(chosen) == 2
    await chat.deliver_outbox()
    for person_id in chosen:
        text = chat.standin.messages(person_id)[-1].text
        assert "🎁" in text
    english = [p for p in chosen if p == EMMA.id]
    if english:
        assert "just because" in chat.standin.messages(EMMA.id)[-1].text
    assert [a.action for a in await rows(app, AuditEntry) if a.action == "surprise"] == ["surprise"]
    assert len(await rows(app, SurpriseGift)) == 2


async def test_a_reward_surprise_gives_vouchers_at_no_points(chat: Chat, app: App) -> None:
    await seed_rewards(app.ctx)
    await join_all(chat)
    preview = (await chat.say(OWNER, "/surprise fa 1 coffee"))[0]
    assert "Each gets: a voucher for Free coffee." in preview.text and "Cost: 150 points." in preview.text
    await chat.press(OWNER, preview, button(chat, preview, "🎁 Send the surprise"))
    [voucher] = await rows(app, Voucher)
    assert (voucher.member_id, voucher.points, voucher.source) == ((await member_of(app, SARA)).id, 0, "surprise")
    await chat.deliver_outbox()
    sara = chat.standin.messages(SARA.id)[-1]
    assert sara.kind == "photo" and voucher.code in sara.text


async def test_bad_surprises_are_answered_and_give_nothing(chat: Chat, app: App) -> None:
    await join_all(chat)
    assert "Usage: /surprise" in await chat.reply_text(OWNER, "/surprise all 2")
    assert "is not a segment" in await chat.reply_text(OWNER, "/surprise vip 2 30")
    assert "Nobody in that segment" in await chat.reply_text(OWNER, "/surprise tier-3 1 30")
    assert "Only 1 member in that segment can get a surprise, not 5" in await chat.reply_text(OWNER, "/surprise en 5 30")
    assert "is not a number of members" in await chat.reply_text(OWNER, "/surprise all zero 30")
    assert "neither a number of points nor an active reward" in await chat.reply_text(OWNER, "/surprise all 1 caviar")
    assert "Not enough budget left this month: this needs 1,500 points" in await chat.reply_text(
        OWNER, "/surprise all 3 500"
    )
    # Customers do not have the command.
    assert "Surprise" not in await chat.reply_text(EMMA, "/surprise all 1 30")
    assert await gifts(app) == 0 and await rows(app, Surprise) == []


async def test_the_budget_runs_out_between_preview_and_confirm(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> None:
    app = await make_app(db_url, standin, clock=clock, program=Program(surprise=SurpriseRules(budget_points=100)))
    try:
        chat = Chat(app, standin)
        await join_all(chat)
        first = (await chat.say(OWNER, "/surprise all 2 40"))[0]
        second = (await chat.say(OWNER, "/surprise all 1 40"))[0]
        await chat.press(OWNER, first, button(chat, first, "🎁 Send the surprise"))
        await chat.press(OWNER, second, button(chat, second, "🎁 Send the surprise"))
        refusal = chat.last_callback_answer()
        assert refusal.show_alert and "this needs 40 points, 20 points of 100 points is left" in refusal.text
        assert await gifts(app) == 2
        # A member who blocked the bot is never picked.
        emma_id = (await member_of(app, EMMA)).id
        async with app.ctx.uow() as uow:
            await uow.members.set_fields(emma_id, blocked_at=clock())
            await uow.commit()
        assert "Only 2 members" in await chat.reply_text(OWNER, "/surprise all 3 1")
    finally:
        await app.close()
