"""/feedback and every survey's buttons: NPS 0–10 or CSAT 1–5, then an optional comment.

The buttons carry the survey id; the service accepts one answer per survey
from its own member, so a double tap, an old menu or a forged button
changes nothing. The comment step is a conversation state holding the
survey id; commands still work while it is open.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.domain.ledger import command_key
from bot.domain.surveys import SCALES, SurveyKind, Trigger, needs_alert
from bot.services import surveys
from bot.telegram.errors import describes
from bot.telegram.notices import Outgoing, notice
from bot.telegram.render import Fmt, esc

CSAT_FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😍"}


class SurveyScore(CallbackData, prefix="sv"):
    id: int
    score: int


class SurveySkip(CallbackData, prefix="svs"):
    id: int


class Feedback(StatesGroup):
    comment = State()


# -- keyboards and questions -----------------------------------------------------
def score_keyboard(survey_id: int, kind: str, fmt: Fmt) -> InlineKeyboardMarkup:
    scores = list(SCALES[SurveyKind(kind)])
    label: Callable[[int], str]
    if kind == SurveyKind.NPS:
        rows = [scores[:6], scores[6:]]  # 0–5 and 6–10: big enough to tap on a phone
        label = fmt.num
    else:
        rows = [scores]

        def label(score: int) -> str:
            return f"{CSAT_FACES[score]} {fmt.num(score)}"

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label(s), callback_data=SurveyScore(id=survey_id, score=s).pack()) for s in row]
            for row in rows
        ]
    )


def skip_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("Skip"), callback_data=SurveySkip(id=survey_id).pack())]]
    )


def nps_question(ctx: Any, fmt: Fmt) -> str:
    return "\n".join(
        [
            _("How likely are you to recommend {merchant} to a friend?").format(merchant=fmt.name(ctx.program.name)),
            _("Tap a number: {low} = not at all likely, {high} = extremely likely.").format(
                low=fmt.num(0), high=fmt.num(10)
            ),
        ]
    )


def csat_question(reward: dict[str, str] | None, fmt: Fmt) -> str:
    if reward:
        question = _("How satisfied are you with your reward {reward}?").format(reward=fmt.name(reward))
    else:
        question = _("How satisfied are you with the reward you just used?")
    scale = _("Tap a number: {low} = very unsatisfied, {high} = very satisfied.").format(
        low=fmt.num(1), high=fmt.num(5)
    )
    return f"{question}\n{scale}"


def score_text(kind: str, score: int, fmt: Fmt) -> str:
    top = 10 if kind == SurveyKind.NPS else 5
    return fmt.digits_of(f"{score}/{top}")


def comment_prompt(kind: str, score: int) -> str:
    if needs_alert(kind, score):
        return _("We are sorry we let you down. What went wrong? Type a few words, or tap Skip.")
    if (kind == SurveyKind.NPS and score >= 9) or (kind == SurveyKind.CSAT and score >= 4):
        return _("Wonderful! What do you like most? Type a few words, or tap Skip.")
    return _("What could we do better? Type a few words, or tap Skip.")


# -- /feedback --------------------------------------------------------------------
async def start_feedback(message: Message, ctx: Any, fmt: Fmt, member: Any, state: FSMContext) -> None:
    offer = await surveys.start_feedback(ctx, member, key=command_key("feedback", message.chat.id, message.message_id))
    await state.clear()
    lines = [_("Your opinion helps us get better."), nps_question(ctx, fmt)]
    await message.answer("\n\n".join(lines), reply_markup=score_keyboard(offer.survey_id, offer.kind, fmt))


async def choose_score(
    query: CallbackQuery, callback_data: SurveyScore, ctx: Any, fmt: Fmt, state: FSMContext
) -> None:
    result = await surveys.answer(ctx, telegram_id=query.from_user.id, survey_id=callback_data.id, score=callback_data.score)
    await query.answer()
    lines = [_("Thank you! Your answer: {score}.").format(score=score_text(result.kind, result.score, fmt))]
    if result.bonus:
        lines.append(_("⭐ {points} added to your balance.").format(points=fmt.points(result.bonus)))
    lines.append(comment_prompt(result.kind, result.score))
    if isinstance(query.message, Message):
        await query.message.edit_text("\n".join(lines), reply_markup=skip_keyboard(result.survey_id))
    await state.set_state(Feedback.comment)
    await state.update_data(survey_id=result.survey_id)


async def skip(query: CallbackQuery, callback_data: SurveySkip, ctx: Any, state: FSMContext) -> None:
    await surveys.skip_comment(ctx, telegram_id=query.from_user.id, survey_id=callback_data.id)
    data = await state.get_data()
    if data.get("survey_id") == callback_data.id:
        await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Thank you for your answer!"))


async def comment(message: Message, ctx: Any, state: FSMContext) -> None:
    assert message.from_user is not None and message.text is not None
    survey_id = (await state.get_data()).get("survey_id")
    if survey_id is None:
        await state.clear()
        await message.answer(_("I didn't catch that. Send /help to see what I can do."))
        return
    result = await surveys.add_comment(ctx, telegram_id=message.from_user.id, survey_id=survey_id, text=message.text)
    await state.clear()
    if not result.accepted:
        # The survey no longer takes a comment: this was just a message.
        await message.answer(_("I didn't catch that. Send /help to see what I can do."))
        return
    if result.alerted:
        await message.answer(_("Thank you for telling us. The team has been told and will look into it."))
    else:
        await message.answer(_("Thank you, we read every comment."))


async def comment_not_text(message: Message, ctx: Any, state: FSMContext) -> None:
    assert message.from_user is not None
    survey_id = (await state.get_data()).get("survey_id")
    if survey_id is not None and await surveys.comment_open(ctx, telegram_id=message.from_user.id, survey_id=survey_id):
        await message.answer(_("Please type your comment as text, or tap Skip."))
        return
    await state.clear()
    await message.answer(_("I didn't catch that. Send /help to see what I can do."))


# -- errors -----------------------------------------------------------------------
@describes("survey_answered")
def _survey_answered(error: DomainError, fmt: Fmt) -> str:
    return _("You have already answered this survey. Thank you!")


@describes("survey_expired")
def _survey_expired(error: DomainError, fmt: Fmt) -> str:
    return _("This survey has closed. Send /feedback any time to tell us how we are doing.")


@describes("comment_too_long")
def _comment_too_long(error: DomainError, fmt: Fmt) -> str:
    return _("That comment is too long ({length} characters). Please keep it under {limit}.").format(
        length=fmt.num(error.details["length"]), limit=fmt.num(error.details["limit"])
    )


# -- messages the bot sends on its own ------------------------------------------------
@notice("survey_nps")
def _survey_nps(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    intro = _("Thank you for your visit! One quick question:")
    return Outgoing(
        f"{intro}\n\n{nps_question(ctx, fmt)}",
        reply_markup=score_keyboard(int(payload["survey_id"]), SurveyKind.NPS, fmt),
    )


@notice("survey_csat")
def _survey_csat(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(
        csat_question(payload.get("reward") or None, fmt),
        reply_markup=score_keyboard(int(payload["survey_id"]), SurveyKind.CSAT, fmt),
    )


def trigger_text(trigger: str) -> str:
    if trigger == Trigger.POST_PURCHASE:
        return _("after a purchase")
    if trigger == Trigger.REDEMPTION:
        return _("after using a reward")
    return _("with /feedback")


@notice("survey_alert")
def _survey_alert(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    """To the owner and staff: a detractor or an unhappy CSAT, with what they need to follow up."""
    who = (esc(payload.get("name") or "") or _("(no name)")) + " " + fmt.code(payload["code"])
    score = score_text(payload["kind"], int(payload["score"]), fmt)
    survey = _("NPS") if payload["kind"] == SurveyKind.NPS else _("satisfaction (CSAT)")
    comment_text = payload.get("comment")
    if payload.get("late_comment"):
        lines = [_("💬 {member} added a comment to their score of {score}:").format(member=who, score=score)]
    else:
        lines = [
            _("⚠️ Unhappy customer: {member}").format(member=who),
            _("Score: {score} ({survey}, {trigger}).").format(
                score=score, survey=survey, trigger=trigger_text(payload["trigger"])
            ),
        ]
    lines.append(f"“{esc(comment_text)}”" if comment_text else _("No comment."))
    lines.append(
        _("Reach out to them soon: {command}").format(command=f"<code>/member {esc(payload['code'])}</code>")
    )
    return Outgoing("\n".join(lines))


def create_router() -> Router:
    router = Router(name="surveys")
    router.message.register(start_feedback, Command("feedback"))
    router.callback_query.register(choose_score, SurveyScore.filter())
    router.callback_query.register(skip, SurveySkip.filter())
    router.message.register(comment, StateFilter(Feedback.comment), F.text, ~F.text.startswith("/"))
    router.message.register(comment_not_text, StateFilter(Feedback.comment), ~F.text)
    return router

