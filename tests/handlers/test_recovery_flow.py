"""Service recovery through the real dispatcher: the alert's buttons (two staff racing),
goodwill points against the monthly budget, a voucher, "resolved", and the member's
"did we make it right?" a week later, on a fake clock; then /stats."""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.app import App
from bot.domain.program import Program, Recovery
from bot.jobs import run_job
from bot.services.rewards import seed_rewards
from standin import BotAPIStandIn, BotMessage
from storage.models import AuditEntry, LedgerEntry, OutboxMessage, RecoveryCase, Voucher
from tests.handlers.test_core_flow import member_of
from tests.handlers.test_survey_flow import (
    add_cashier,
    answer,
    button,
    owner_opens_the_chat,
    rows,
)
from tests.support import CASHIER, EMMA, OWNER, SARA, Chat, FakeClock, Person, make_app


async def detractor_alert(chat: Chat, app: App, person: Person = SARA, score: str = "۲") -> tuple[BotMessage, BotMessage]:
    """`person` scores low and comments; returns the owner's and the cashier's alerts (delivered)."""
    await chat.say(person, "/start")
    await answer(chat, person, score)
    await chat.say(person, "The coffee was cold")
    await chat.deliver_outbox()
    owner = chat.standin.messages(OWNER.id)[-1]
    cashier = chat.standin.messages(CASHIER.id)[-1]
    assert "Unhappy customer" in owner.text or "مشتری ناراضی" in owner.text
    return owner, cashier


async def ledger_count(app: App, kind: str) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).where(LedgerEntry.kind == kind)) or 0)


async def race(chat: Chat, presses: list[tuple[Person, BotMessage, str]]) -> None:
    """Deliver several button taps at the same moment, as concurrent updates."""
    for person, message, data in presses:
        chat.standin.press(person.id, message.message_id, data)
    raws = chat.standin.pending_updates()
    await chat.standin.handle("getUpdates", {"offset": raws[-1]["update_id"] + 1, "timeout": 0, "limit": 100})
    await asyncio.gather(*(chat.feed(raw) for raw in raws))


async def test_the_alert_offers_recovery_buttons_and_the_budget(chat: Chat, app: App) -> None:
    await add_cashier(chat, app)
    await owner_opens_the_chat(chat)
    owner, cashier = await detractor_alert(chat, app)
    assert [label for label, _ in chat.standin.buttons(owner)] == [
        "🙏 Apologise", "💐 +50 points", "🎟 Voucher", "✅ Resolved"
    ]
    assert "Goodwill budget left this month: 1,000 points of 1,000 points." in owner.text
    assert "۱٬۰۰۰" in cashier.text  # the cashier reads it in Persian, with Persian digits
    assert len(chat.standin.buttons(cashier)) == 4


async def test_two_staff_racing_on_goodwill_pay_once_and_both_alerts_show_who(chat: Chat, app: App) -> None:
    await add_cashier(chat, app)
    await owner_opens_the_chat(chat)
    owner, cashier = await detractor_alert(chat, app)
    balance = (await member_of(app, SARA)).balance
    await race(chat, [
        (OWNER, owner, button(chat, owner, "💐 +50 points")),
        (CASHIER, cashier, button(chat, cashier, "💐 +۵۰ امتیاز")),
    ])
    assert await ledger_count(app, "goodwill") == 1
    assert (await member_of(app, SARA)).balance == balance + 50
    [case] = await rows(app, RecoveryCase)
    assert case.goodwill_points == 50 and case.handled_by in (OWNER.id, CASHIER.id)
    answers = {a.user_id: a for a in chat.standin.answered_callbacks[-2:]}
    winner, loser = (OWNER, CASHIER) if case.handled_by == OWNER.id else (CASHIER, OWNER)
    assert answers[loser.id].show_alert, "the slower tap is told, in a pop-up"
    assert winner.first_name in (answers[loser.id].text or "")
    # Both copies of the alert now say who handled it and what was done; the button is gone.
    owner_now, cashier_now = chat.standin.messages(OWNER.id)[-1], chat.standin.messages(CASHIER.id)[-1]
    assert owner_now.message_id == owner.message_id and owner_now.edited
    assert f"Handled by {winner.first_name}: gave 50 points." in owner_now.text
    assert "Goodwill budget left this month: 950 points of 1,000 points." in owner_now.text
    assert winner.first_name in cashier_now.text and "۹۵۰" in cashier_now.text
    assert "💐 +50 points" not in [label for label, _ in chat.standin.buttons(owner_now)]
    # The member hears it once, in Persian.
    await chat.deliver_outbox()
    told = [m.text for m in chat.standin.messages(SARA.id) if "۵۰ امتیاز" in m.text and "💐" in m.text]
    assert len(told) == 1
    # The loser's other buttons are refused too: the case is the winner's.
    loser_alert = cashier_now if loser is CASHIER else owner_now
    label = "🙏 عذرخواهی" if loser is CASHIER else "🙏 Apologise"
    await chat.press(loser, loser_alert, button(chat, loser_alert, label))
    assert chat.last_callback_answer().show_alert
    assert (await rows(app, RecoveryCase))[0].apologised_at is None


async def test_apology_voucher_and_resolved_then_the_member_is_asked_a_week_later(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    await seed_rewards(app.ctx)
    await add_cashier(chat, app)
    await owner_opens_the_chat(chat)
    owner, _cashier = await detractor_alert(chat, app, EMMA, "1")
    clock.advance(minutes=12)
    await chat.press(OWNER, owner, button(chat, owner, "🙏 Apologise"))
    assert chat.last_callback_answer().text == "Apology sent."
    owner = chat.standin.messages(OWNER.id)[-1]
    assert "🙏 Apologise" not in [label for label, _ in chat.standin.buttons(owner)]  # done: the button is gone
    await chat.press(OWNER, owner, button(chat, owner, "🎟 Voucher"))
    choices = chat.standin.messages(OWNER.id)[-1]
    assert "Which voucher?" in choices.text
    await chat.press(OWNER, choices, button(chat, choices, "Free pastry · 100 points"))
    assert "Voucher" in chat.standin.messages(OWNER.id)[-1].text
    owner = next(m for m in chat.standin.messages(OWNER.id) if m.message_id == owner.message_id)
    assert "apologised" in owner.text and "gave voucher" in owner.text
    await chat.press(OWNER, owner, button(chat, owner, "✅ Resolved"))
    owner = next(m for m in chat.standin.messages(OWNER.id) if m.message_id == owner.message_id)
    assert "marked it resolved" in owner.text and chat.standin.buttons(owner) == []
    await chat.deliver_outbox()
    emma = [m.text for m in chat.standin.messages(EMMA.id)]
    assert any("We are sorry about your last visit" in t for t in emma)
    assert any("Please accept this, with our apologies: Free pastry" in t for t in emma)
    [voucher] = await rows(app, Voucher)
    assert (voucher.source, voucher.points) == ("recovery", 0)
    # Six days later nobody is asked; at seven, once.
    clock.advance(days=6)
    assert "asked 0" in await run_job(app, "recovery", None)
    clock.advance(days=1)
    assert "asked 1" in await run_job(app, "recovery", None)
    assert "asked 0" in await run_job(app, "recovery", None)
    await chat.deliver_outbox()
    question = chat.standin.messages(EMMA.id)[-1]
    assert "Did we make it right?" in question.text
    await chat.press(EMMA, question, button(chat, question, "👍 Yes"))
    assert "glad we could make it right" in chat.standin.messages(EMMA.id)[-1].text
    assert await chat.reply_text(EMMA, "Thanks, all good now") == "Thank you, we read every comment."
    [case] = await rows(app, RecoveryCase)
    assert (case.outcome, case.outcome_comment) == ("yes", "Thanks, all good now")
    # A second tap on the old question changes nothing.
    await chat.press_raw(EMMA, question, f"rcf:{case.id}:0")
    assert chat.last_callback_answer().show_alert
    assert (await rows(app, RecoveryCase))[0].outcome == "yes"
    stats = await chat.reply_text(OWNER, "/stats 30")
    assert "Service recovery: 1 alerts · 1 handled · 1 resolved (100%) · median time to first action 12 minutes" in stats
    assert "Made right? 1 asked · 1 answered · recovered 100%" in stats
    actions = [a.action for a in await rows(app, AuditEntry) if a.action.startswith("recovery_")]
    assert actions == ["recovery_apology", "recovery_voucher", "recovery_resolved"]
    mine = json.loads((await chat.say(EMMA, "/mydata"))[-1].document.decode("utf-8"))  # type: ignore[union-attr]
    assert mine["service_recovery"][0]["outcome"] == "yes"
    documents = [m for m in await chat.say(OWNER, "/export") if m.kind == "document"]
    [cases] = [m for m in documents if m.filename and m.filename.startswith("wafa-recovery-")]
    assert "Thanks, all good now" in cases.document.decode("utf-8-sig")  # type: ignore[union-attr]


async def test_an_exhausted_budget_gives_nothing_and_says_so(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> None:
    program = Program(recovery=Recovery(goodwill_points=80, budget_points=100))
    app = await make_app(db_url, standin, clock=clock, program=program)
    try:
        chat = Chat(app, standin)
        await owner_opens_the_chat(chat)
        first, _ = await detractor_alert_owner_only(chat, EMMA)
        await chat.press(OWNER, first, button(chat, first, "💐 +80 points"))
        second, _ = await detractor_alert_owner_only(chat, SARA)
        assert "Goodwill budget left this month: 20 points of 100 points." in second.text
        await chat.press(OWNER, second, button(chat, second, "💐 +80 points"))
        refusal = chat.last_callback_answer()
        assert refusal.show_alert and "Not enough budget left this month: this needs 80 points, 20 points" in refusal.text
        assert await ledger_count(app, "goodwill") == 1
        cases = await rows(app, RecoveryCase)
        assert cases[1].goodwill_points is None and cases[1].handled_by is None  # nothing at all changed
        # Next month the budget is whole again.
        clock.advance(days=31)
        await chat.press(OWNER, second, button(chat, second, "💐 +80 points"))
        assert await ledger_count(app, "goodwill") == 2
    finally:
        await app.close()


async def detractor_alert_owner_only(chat: Chat, person: Person) -> tuple[BotMessage, None]:
    await chat.say(person, "/start")
    survey = await answer(chat, person, "0" if person.language_code == "en" else "۰")
    await chat.press(person, survey, button(chat, survey, "Skip" if person.language_code == "en" else "رد شدن"))
    await chat.deliver_outbox()
    return chat.standin.messages(OWNER.id)[-1], None


async def test_a_forged_case_button_and_a_customer_pressing_change_nothing(chat: Chat, app: App) -> None:
    await owner_opens_the_chat(chat)
    owner, _ = await detractor_alert_owner_only(chat, EMMA)
    await chat.press_raw(OWNER, owner, "rc:999:g")
    assert chat.last_callback_answer().show_alert
    await chat.say(SARA, "/start")
    sara_message = chat.standin.messages(SARA.id)[-1]
    await chat.press_raw(SARA, sara_message, button(chat, owner, "💐 +50 points"))
    assert await ledger_count(app, "goodwill") == 0
    assert (await rows(app, RecoveryCase))[0].handled_by is None
    assert await rows(app, OutboxMessage, OutboxMessage.kind == "recovery_goodwill") == []
