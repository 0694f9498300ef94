"""Surveys through the real dispatcher: /feedback, the comment step, the service-recovery
alert, the redemption CSAT and the post-purchase `surveys` job, on a fake clock."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.app import App
from bot.jobs import JOBS, run_job
from bot.services import surveys
from standin import BotMessage
from storage.models import LedgerEntry, OutboxMessage, Survey
from tests.handlers.test_core_flow import member_of
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person


def button(chat: Chat, message: BotMessage, label: str) -> str:
    data = dict(chat.standin.buttons(message))[label]
    assert data is not None
    return data


async def answer(chat: Chat, person: Person, label: str) -> BotMessage:
    """/feedback, then tap `label`; returns the survey message (edited in place)."""
    survey = (await chat.say(person, "/feedback"))[0]
    await chat.press(person, survey, button(chat, survey, label))
    return survey


async def rows(app: App, model: type, *where: object) -> list:  # type: ignore[type-arg]
    async with app.ctx.uow() as uow:
        return list((await uow.session.scalars(select(model).where(*where).order_by(model.id))).all())  # type: ignore[attr-defined]


async def survey_bonus_entries(app: App) -> int:
    async with app.ctx.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).where(LedgerEntry.kind == "survey")) or 0)


async def add_cashier(chat: Chat, app: App) -> None:
    async with app.ctx.uow() as uow:
        await uow.staff.add(CASHIER.id, added_by=OWNER.id, now=app.ctx.now())
        await uow.commit()
    # Telegram only delivers to people who have opened the chat; joining as a customer
    # also tells the bot the cashier's language (staff who never joined read DEFAULT_LANGUAGE).
    await chat.say(CASHIER, "/start")


async def owner_opens_the_chat(chat: Chat) -> None:
    await chat.say(OWNER, "/help")


async def test_a_promoter_answers_comments_and_earns_the_bonus(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    survey = (await chat.say(EMMA, "/feedback"))[0]
    assert "How likely are you to recommend Wafa Café to a friend?" in survey.text
    labels = [label for label, _ in chat.standin.buttons(survey)]
    assert labels == [str(n) for n in range(11)]
    await chat.press(EMMA, survey, button(chat, survey, "9"))
    assert "Thank you! Your answer: 9/10." in survey.text and "10 points added to your balance" in survey.text
    assert "What do you like most?" in survey.text
    assert [label for label, _ in chat.standin.buttons(survey)] == ["Skip"]
    assert await chat.reply_text(EMMA, "Great flat white") == "Thank you, we read every comment."
    [stored] = await rows(app, Survey)
    assert (stored.kind, stored.trigger, stored.score, stored.comment, stored.bonus, stored.status) == (
        "nps", "feedback", 9, "Great flat white", 10, "closed"
    )
    assert (await member_of(app, EMMA)).balance == 30
    assert await rows(app, OutboxMessage, OutboxMessage.kind == "survey_alert") == []


async def test_a_detractor_alerts_owner_and_staff_at_once_with_the_comment(chat: Chat, app: App) -> None:
    await add_cashier(chat, app)
    await owner_opens_the_chat(chat)
    await chat.say(SARA, "/start")
    code = (await member_of(app, SARA)).code
    survey = await answer(chat, SARA, "۳")
    assert "متأسفیم که ناامیدتان کردیم" in survey.text
    reply = await chat.reply_text(SARA, "قهوه سرد بود <b>")
    assert "به تیم اطلاع داده شد" in reply
    report = await chat.deliver_outbox()
    assert report.sent == 2
    owner = chat.standin.messages(OWNER.id)[-1].text
    assert f"Unhappy customer: سارا \u2068{code}\u2069" in owner
    assert "Score: 3/10 (NPS, with /feedback)." in owner and "“قهوه سرد بود <b>”" in owner
    assert f"/member {code}" in owner
    cashier = chat.standin.messages(CASHIER.id)[-1].text
    assert "مشتری ناراضی" in cashier and "۳/۱۰" in cashier and f"/member {code}" in cashier


async def test_skip_sends_the_alert_without_a_comment(chat: Chat, app: App) -> None:
    await owner_opens_the_chat(chat)
    await chat.say(EMMA, "/start")
    survey = await answer(chat, EMMA, "0")
    await chat.press(EMMA, survey, button(chat, survey, "Skip"))
    assert chat.standin.messages(EMMA.id)[-1].text == "Thank you for your answer!"
    await chat.deliver_outbox()
    owner = chat.standin.messages(OWNER.id)[-1].text
    assert "Score: 0/10" in owner and "No comment." in owner
    # The comment step is over: text now is just text.
    assert "I didn't catch that" in await chat.reply_text(EMMA, "hello?")


async def test_a_detractor_who_walks_away_is_alerted_by_the_job(chat: Chat, app: App, clock: FakeClock) -> None:
    await owner_opens_the_chat(chat)
    await chat.say(EMMA, "/start")
    await answer(chat, EMMA, "4")
    assert "alerts 0" in await run_job(app, "surveys", None)  # the comment may still come
    clock.advance(minutes=16)
    assert "alerts 1" in await run_job(app, "surveys", None)
    assert "alerts 0" in await run_job(app, "surveys", None)
    await chat.deliver_outbox()
    assert "No comment." in chat.standin.messages(OWNER.id)[-1].text
    # A comment that comes after the alert follows it.
    assert "The team has been told" in await chat.reply_text(EMMA, "Waited 20 minutes for a latte")
    await chat.deliver_outbox()
    follow_up = chat.standin.messages(OWNER.id)[-1].text
    assert "added a comment to their score of 4/10" in follow_up and "Waited 20 minutes" in follow_up


async def test_double_taps_old_menus_and_forged_buttons_change_nothing(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await chat.say(LAYLA, "/start")
    first = await answer(chat, EMMA, "8")
    skip = button(chat, first, "Skip")
    await chat.press_raw(EMMA, first, skip)
    for double_tap in (skip, "sv:1:8"):  # the same buttons again
        await chat.press_raw(EMMA, first, double_tap)
        assert "already answered" in chat.last_callback_answer().text
    stale = (await chat.say(EMMA, "/feedback"))[0]
    fresh = (await chat.say(EMMA, "/feedback"))[0]  # replaces the unanswered one
    await chat.press(EMMA, stale, button(chat, stale, "5"))
    assert "This survey has closed" in chat.last_callback_answer().text
    fresh_id = int(button(chat, fresh, "5").split(":")[1])
    for forged in (f"sv:{fresh_id}:11", f"sv:{fresh_id}:-1", "sv:999:5", "sv:x:y", f"svs:{fresh_id}"):
        await chat.press_raw(EMMA, fresh, forged)
        assert "no longer valid" in chat.last_callback_answer().text, forged
    layla_menu = (await chat.say(LAYLA, "/feedback"))[0]
    await chat.press_raw(LAYLA, layla_menu, f"sv:{fresh_id}:0")  # someone else's survey
    assert "لم يعد صالحًا" in chat.last_callback_answer().text
    scores = [(s.member_id, s.score, s.status) for s in await rows(app, Survey)]
    emma, layla = (await member_of(app, EMMA)).id, (await member_of(app, LAYLA)).id
    assert scores == [(emma, 8, "closed"), (emma, None, "superseded"), (emma, None, "open"), (layla, None, "open")]
    assert await survey_bonus_entries(app) == 1
    assert (await member_of(app, EMMA)).balance == 30


async def test_the_survey_bonus_is_paid_once_a_week(chat: Chat, app: App, clock: FakeClock) -> None:
    await chat.say(EMMA, "/start")
    await answer(chat, EMMA, "10")
    second = await answer(chat, EMMA, "10")
    assert "added to your balance" not in second.text  # feedback welcome, bonus not farmable
    clock.advance(days=7)
    third = await answer(chat, EMMA, "9")
    assert "10 points added to your balance" in third.text
    assert await survey_bonus_entries(app) == 2
    assert (await member_of(app, EMMA)).balance == 40


async def test_comment_too_long_non_text_and_commands_during_the_comment_step(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    await answer(chat, EMMA, "7")
    assert "too long (1,001 characters)" in await chat.reply_text(EMMA, "x" * 1001)
    chat.standin.send_sticker(EMMA.id)
    await chat._feed_pending()
    assert chat.standin.messages(EMMA.id)[-1].text == "Please type your comment as text, or tap Skip."
    assert "Balance: 30 points" in await chat.reply_text(EMMA, "/balance")  # commands still work
    assert await chat.reply_text(EMMA, "More oat milk please") == "Thank you, we read every comment."
    [stored] = await rows(app, Survey)
    assert stored.comment == "More oat milk please"
    chat.standin.send_sticker(EMMA.id)  # the comment step is over: a sticker is just a sticker
    await chat._feed_pending()
    assert "I didn't catch that" in chat.standin.messages(EMMA.id)[-1].text


async def test_csat_after_a_redemption(chat: Chat, app: App, clock: FakeClock) -> None:
    await owner_opens_the_chat(chat)
    await chat.say(LAYLA, "/start")
    layla = await member_of(app, LAYLA)
    async with app.ctx.uow() as uow:
        survey_id = await surveys.offer_csat(app.ctx, uow, layla, "VOUCHER-7K2Q", reward={"en": "Free coffee", "ar": "قهوة مجانية"})
        again = await surveys.offer_csat(app.ctx, uow, layla, "VOUCHER-7K2Q")
        other = await surveys.offer_csat(app.ctx, uow, layla, "VOUCHER-OTHER")  # asked this week already
        await uow.commit()
    assert survey_id is not None and again is None and other is None
    assert (await chat.deliver_outbox()).sent == 0  # it comes a little after the voucher was used
    clock.advance(minutes=31)
    await chat.deliver_outbox()
    question = chat.standin.messages(LAYLA.id)[-1]
    assert "ما مدى رضاك عن مكافأتك قهوة مجانية؟" in question.text
    assert [label for label, _ in chat.standin.buttons(question)] == ["😞 ١", "🙁 ٢", "😐 ٣", "🙂 ٤", "😍 ٥"]
    await chat.press(LAYLA, question, button(chat, question, "🙁 ٢"))
    assert "٢/٥" in question.text
    await chat.press(LAYLA, question, button(chat, question, "تخطي"))
    await chat.deliver_outbox()
    owner = chat.standin.messages(OWNER.id)[-1].text
    assert "Score: 2/5 (satisfaction (CSAT), after using a reward)." in owner and layla.code in owner
    [stored] = await rows(app, Survey)
    assert (stored.kind, stored.trigger, stored.reference, stored.score) == ("csat", "redemption", "VOUCHER-7K2Q", 2)


async def test_the_post_purchase_survey_job(chat: Chat, app: App, clock: FakeClock) -> None:
    assert JOBS["surveys"].schedule == {"minute": "*/15"}
    await chat.say(SARA, "/start")
    await chat.say(EMMA, "/start")
    sara = await member_of(app, SARA)
    await chat.say(OWNER, f"/award {sara.code} 50")
    await chat.deliver_outbox()
    clock.advance(hours=1)
    assert (await surveys.run_followups(app.ctx)).asked == 0  # too soon after the purchase
    clock.advance(hours=2)
    assert (await surveys.run_followups(app.ctx)).asked == 1
    assert (await surveys.run_followups(app.ctx)).asked == 0  # safe to run twice
    await chat.deliver_outbox()
    question = chat.standin.messages(SARA.id)[-1]
    assert "از مراجعه‌تان ممنونیم" in question.text and len(chat.standin.buttons(question)) == 11
    await chat.press(SARA, question, button(chat, question, "۱۰"))
    [stored] = await rows(app, Survey)
    assert (stored.trigger, stored.score) == ("post_purchase", 10)

    clock.advance(days=1)  # another purchase the next day: not asked again within a week
    await chat.say(OWNER, f"/award {sara.code} 20")
    clock.advance(hours=4)
    assert (await surveys.run_followups(app.ctx)).asked == 0
    clock.advance(days=7)
    await chat.say(OWNER, f"/award {sara.code} 20")
    clock.advance(hours=3)
    assert (await surveys.run_followups(app.ctx)).asked == 1


async def test_the_job_skips_members_who_blocked_the_bot_and_honours_the_date(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    for person in (EMMA, LAYLA):
        await chat.say(person, "/start")
        await chat.say(OWNER, f"/award @{person.username} 50")
    async with app.ctx.uow() as uow:
        await uow.members.set_fields((await member_of(app, LAYLA)).id, blocked_at=clock())
        await uow.commit()
    clock.advance(hours=5)
    purchase_day = date(2026, 3, 10)
    assert "asked 0" in await run_job(app, "surveys", date(2026, 3, 9))  # as of the day before: nothing yet
    assert "asked 1" in await run_job(app, "surveys", purchase_day)
    assert "asked 0" in await run_job(app, "surveys", purchase_day)
    [stored] = await rows(app, Survey)
    assert stored.member_id == (await member_of(app, EMMA)).id


async def test_a_redelivered_feedback_command_offers_the_same_survey(chat: Chat, app: App) -> None:
    await chat.say(EMMA, "/start")
    first = (await chat.say(EMMA, "/feedback"))[0]
    again = (await chat.redeliver_last(EMMA.id))[0]
    assert chat.standin.buttons(again) == chat.standin.buttons(first)
    assert len(await rows(app, Survey)) == 1
    await chat.press(EMMA, again, button(chat, again, "9"))
    [stored] = await rows(app, Survey)
    assert (stored.status, stored.score) == ("answered", 9)


async def test_a_forgotten_comment_step_does_not_swallow_later_messages(chat: Chat, app: App, clock: FakeClock) -> None:
    await chat.say(EMMA, "/start")
    await answer(chat, EMMA, "7")
    clock.advance(hours=25)  # the member walked away; the step is long over
    chat.standin.send_sticker(EMMA.id)
    await chat._feed_pending()
    assert "I didn't catch that" in chat.standin.messages(EMMA.id)[-1].text
    await answer(chat, EMMA, "8")
    clock.advance(hours=25)
    assert "I didn't catch that" in await chat.reply_text(EMMA, "hello, anyone?")
    assert [s.comment for s in await rows(app, Survey)] == [None, None]
