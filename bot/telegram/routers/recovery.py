"""Service recovery on the unhappy-customer alert, the member's "did we make it right?",
and `/surprise` (SPEC §11).

    alert ─┬─ [🙏 Apologise]      ─▶ the member gets the program's apology
           ├─ [💐 +N points]      ─▶ goodwill points from the month's budget
           ├─ [🎟 Voucher]        ─▶ a list of rewards ─▶ the member gets the voucher
           └─ [✅ Resolved]       ─▶ the case is closed
    (the first staff member to tap owns the case; every copy of the alert is edited)

    a week later (`recovery` job) ─▶ member: [👍 Yes] [👎 No] ─▶ an optional comment

    /surprise <segment> <count> <points|reward> ─▶ preview ─▶ [🎁 Send] [Cancel]
"""
from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import DomainError
from bot.domain.program import pick_text
from bot.domain.recovery import Action
from bot.domain.surveys import SurveyKind
from bot.services import recovery, surprises
from bot.telegram.edits import replace_message
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner, IsStaff
from bot.telegram.notices import Outgoing, notice, notice_context_data
from bot.telegram.qr import qr_card
from bot.telegram.render import Fmt, esc
from bot.telegram.reward_text import reward_name
from bot.telegram.routers.stamps import voucher_lines
from bot.telegram.routers.surveys import score_text, trigger_text

log = logging.getLogger(__name__)


class CaseAction(CallbackData, prefix="rc"):
    id: int
    a: str


class CaseVoucher(CallbackData, prefix="rcv"):
    id: int
    reward: int


class MadeRight(CallbackData, prefix="rcf"):
    id: int
    yes: bool


class FollowupSkip(CallbackData, prefix="rcs"):
    id: int


class SurpriseSend(CallbackData, prefix="sps"):
    token: str


class SurpriseCancel(CallbackData, prefix="spc"):
    pass


class Followup(StatesGroup):
    comment = State()


# -- the alert ------------------------------------------------------------------------------
def alert_text(payload: dict[str, Any], fmt: Fmt) -> str:
    """To the owner and staff: a detractor or an unhappy CSAT, and what was done about it."""
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
    case = payload.get("case")
    if case:
        lines.extend(case_lines(case, fmt))
    return "\n".join(lines)


def case_lines(case: dict[str, Any], fmt: Fmt) -> list[str]:
    lines = [""]
    if case.get("handler"):
        done = []
        if case.get("apologised"):
            done.append(_("apologised"))
        if case.get("goodwill"):
            done.append(_("gave {points}").format(points=fmt.points(int(case["goodwill"]))))
        if case.get("voucher_code"):
            done.append(_("gave voucher {code}").format(code=fmt.code(case["voucher_code"])))
        if case.get("resolved"):
            done.append(_("marked it resolved"))
        lines.append(
            _("👤 Handled by {name}: {actions}.").format(
                name=esc(case["handler"]), actions=fmt.join(done) if done else _("on it")
            )
        )
    if not case.get("resolved") and int(case.get("goodwill_offer") or 0):
        lines.append(
            _("Goodwill budget left this month: {left} of {budget}.").format(
                left=fmt.points(int(case["budget_left"])), budget=fmt.points(int(case["budget"]))
            )
        )
    return lines


def case_keyboard(case: dict[str, Any], fmt: Fmt) -> InlineKeyboardMarkup | None:
    if case.get("resolved"):
        return None
    case_id = int(case["case_id"])
    buttons = []
    if not case.get("apologised"):
        buttons.append((_("🙏 Apologise"), CaseAction(id=case_id, a=Action.APOLOGY).pack()))
    offer = int(case.get("goodwill_offer") or 0)
    if offer and not case.get("goodwill"):
        buttons.append((f"💐 +{fmt.points(offer)}", CaseAction(id=case_id, a=Action.GOODWILL).pack()))
    if not case.get("voucher_code"):
        buttons.append((_("🎟 Voucher"), CaseAction(id=case_id, a=Action.VOUCHER).pack()))
    buttons.append((_("✅ Resolved"), CaseAction(id=case_id, a=Action.RESOLVED).pack()))
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data) for label, data in row] for row in rows]
    )


@notice_context_data("survey_alert")
async def _alert_data(ctx: Any, uow: Any, row: Any, recipient: Any) -> dict[str, Any]:
    case_id = row.payload.get("case_id")
    return await recovery.alert_data(ctx, uow, int(case_id)) if case_id else {}


@notice("survey_alert")
def _survey_alert(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    case = payload.get("case")
    return Outgoing(alert_text(payload, fmt), reply_markup=case_keyboard(case, fmt) if case else None)


async def edit_copies(bot: Bot, i18n: I18n, ctx: Any, result: recovery.ActResult) -> None:
    """Every recipient's alert shows the case now, in their language."""
    for copy in result.copies:
        lang = copy.language or i18n.default_locale
        fmt = Fmt(lang, ctx.program.display, ctx.zone)
        payload = {**copy.payload, "case": result.case.to_json()}
        with i18n.use_locale(lang):
            text, keyboard = alert_text(payload, fmt), case_keyboard(payload["case"], fmt)
        try:
            await bot.edit_message_text(text=text, chat_id=copy.chat_id, message_id=copy.message_id,
                                        reply_markup=keyboard)
        except TelegramAPIError as exc:  # too old, deleted, unchanged: the case itself is recorded
            log.info("alert copy %s/%s not edited: %s", copy.chat_id, copy.message_id, exc)


async def case_action(
    query: CallbackQuery, callback_data: CaseAction, ctx: Any, fmt: Fmt, bot: Bot, i18n: I18n
) -> None:
    if callback_data.a == Action.VOUCHER:
        await choose_voucher(query, callback_data.id, ctx, fmt, bot)
        return
    result = await recovery.act(
        ctx, staff_id=query.from_user.id, staff_name=query.from_user.full_name, case_id=callback_data.id,
        action=callback_data.a,
    )
    await query.answer(done_text(result, fmt))
    await edit_copies(bot, i18n, ctx, result)


def done_text(result: recovery.ActResult, fmt: Fmt) -> str:
    if result.action == Action.APOLOGY:
        return _("Apology sent.")
    if result.action == Action.GOODWILL:
        return _("{points} given. Budget left this month: {left}.").format(
            points=fmt.points(result.points), left=fmt.points(result.case.budget_left)
        )
    if result.action == Action.VOUCHER:
        return _("Voucher {code} given. Budget left this month: {left}.").format(
            code=result.voucher_code or "", left=fmt.points(result.case.budget_left)
        )
    return _("Marked resolved. The member will be asked in a week whether we made it right.")


async def choose_voucher(query: CallbackQuery, case_id: int, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    rewards, left = await recovery.voucher_choices(ctx, case_id=case_id)
    await query.answer()
    affordable = [r for r in rewards if r.cost <= left]
    if not affordable:
        await bot.send_message(query.from_user.id, _(
            "No reward fits the goodwill budget left this month ({left}). Nothing was given."
        ).format(left=fmt.points(left)))
        return
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=f"{reward_name(dict(r.name), fmt)} · {fmt.points(r.cost)}",
                              callback_data=CaseVoucher(id=case_id, reward=r.id).pack())]
        for r in affordable[:20]
    ])
    await bot.send_message(
        query.from_user.id,
        _("Which voucher? It counts against the goodwill budget at its cost ({left} left this month).").format(
            left=fmt.points(left)
        ),
        reply_markup=keyboard,
    )


async def case_voucher(
    query: CallbackQuery, callback_data: CaseVoucher, ctx: Any, fmt: Fmt, bot: Bot, i18n: I18n
) -> None:
    result = await recovery.act(
        ctx, staff_id=query.from_user.id, staff_name=query.from_user.full_name, case_id=callback_data.id,
        action=Action.VOUCHER, reward_id=callback_data.reward,
    )
    text = done_text(result, fmt)
    await query.answer()
    await replace_message(query, bot, text, None)
    await edit_copies(bot, i18n, ctx, result)


# -- what the member hears -------------------------------------------------------------------
def apology_text(ctx: Any, fmt: Fmt) -> str:
    texts = ctx.program.recovery.apology
    if texts:
        return esc(pick_text(texts, fmt.lang))
    return _(
        "We are sorry about your last visit: it was not the experience we want you to have. "
        "Thank you for telling us. We have looked into it, and we hope to see you again soon."
    )


@notice("recovery_apology")
def _apology(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing("💐 " + apology_text(ctx, fmt))


@notice("recovery_goodwill")
def _goodwill(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(
        _("💐 We are sorry we let you down. {points} are on your balance, with our apologies. "
          "Your balance is {balance}.").format(
            points=fmt.points(int(payload["points"])), balance=fmt.points(int(payload["balance"]))
        )
    )


@notice("recovery_voucher")
def _voucher(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    lines = [
        _("💐 We are sorry we let you down. Please accept this, with our apologies: {reward}").format(
            reward=reward_name(payload.get("reward_name") or None, fmt)
        ),
        *voucher_lines(payload, fmt),
    ]
    return Outgoing("\n".join(lines), photo=qr_card(str(payload["code"])))


@notice("recovery_followup")
def _followup(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    case_id = int(payload["case_id"])
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("👍 Yes"), callback_data=MadeRight(id=case_id, yes=True).pack()),
        InlineKeyboardButton(text=_("👎 No"), callback_data=MadeRight(id=case_id, yes=False).pack()),
    ]])
    return Outgoing(
        _("A little while ago you told us something went wrong. Did we make it right?"), reply_markup=keyboard
    )


async def made_right(query: CallbackQuery, callback_data: MadeRight, ctx: Any, bot: Bot, state: FSMContext) -> None:
    await recovery.answer_followup(ctx, telegram_id=query.from_user.id, case_id=callback_data.id,
                                   made_right=callback_data.yes)
    await query.answer()
    if callback_data.yes:
        text = _("Thank you! We are glad we could make it right. Anything you would like to add? "
                 "Type a few words, or tap Skip.")
    else:
        text = _("Thank you for telling us, and sorry. What could we still do? Type a few words, or tap Skip.")
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Skip"), callback_data=FollowupSkip(id=callback_data.id).pack())
    ]])
    await replace_message(query, bot, text, keyboard)
    await state.set_state(Followup.comment)
    await state.update_data(recovery_case=callback_data.id)


async def followup_skip(query: CallbackQuery, callback_data: FollowupSkip, bot: Bot, state: FSMContext) -> None:
    if (await state.get_data()).get("recovery_case") == callback_data.id:
        await state.clear()
    await query.answer()
    await replace_message(query, bot, _("Thank you for your answer!"), None)


async def followup_comment(message: Message, ctx: Any, state: FSMContext) -> None:
    assert message.from_user is not None and message.text is not None
    case_id = (await state.get_data()).get("recovery_case")
    await state.clear()
    if case_id is None or not await recovery.comment_followup(
        ctx, telegram_id=message.from_user.id, case_id=int(case_id), text=message.text
    ):
        await message.answer(_("I didn't catch that. Send /help to see what I can do."))
        return
    await message.answer(_("Thank you, we read every comment."))


# -- /surprise -------------------------------------------------------------------------------
def segment_text(segment: dict[str, Any], ctx: Any, fmt: Fmt) -> str:
    kind = segment.get("kind")
    if kind == "language":
        return {"ar": "العربية", "fa": "فارسی", "en": "English"}[str(segment["language"])]
    if kind == "tier":
        return fmt.name(ctx.program.tiers[int(segment["tier"])].name)
    if kind == "inactive":
        return _("no purchase for {days} days").format(days=fmt.num(int(segment["days"])))
    if kind == "never":
        return _("members who never bought")
    return _("all members")


def gift_text(points: int, reward: dict[str, str] | None, fmt: Fmt) -> str:
    if reward:
        return _("a voucher for {reward}").format(reward=reward_name(reward, fmt))
    return fmt.points(points)


async def surprise(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    args = (command.args or "").split()
    if len(args) != 3:
        await message.answer(esc(_(
            "Usage: /surprise <segment> <count> <points|reward id>\n"
            "Segments: all, ar, fa, en, tier-1, tier-2…, inactive-30, never.\n"
            "Example: /surprise all 5 50 or /surprise tier-2 3 coffee"
        )))
        return
    plan = await surprises.preview(ctx, owner_id=message.from_user.id, segment_text=args[0], count_text=args[1],
                                   gift_text=args[2])
    lines = [
        _("🎁 Surprise preview"),
        _("Who: {count} of {available} members in {segment}, picked at random.").format(
            count=fmt.num(plan.count), available=fmt.num(plan.available),
            segment=segment_text(plan.segment, ctx, fmt),
        ),
        _("Each gets: {gift}.").format(gift=gift_text(plan.points, plan.reward, fmt)),
        _("Cost: {cost}. Surprise budget left this month: {left} of {budget}.").format(
            cost=fmt.points(plan.cost), left=fmt.points(plan.budget_left), budget=fmt.points(plan.budget)
        ),
        _("They are told it is a gift, just because. The random pick is recorded and can be reproduced."),
    ]
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("🎁 Send the surprise"), callback_data=SurpriseSend(token=plan.token).pack()),
        InlineKeyboardButton(text=_("Cancel"), callback_data=SurpriseCancel().pack()),
    ]])
    await message.answer("\n".join(lines), reply_markup=keyboard)


async def surprise_send(query: CallbackQuery, callback_data: SurpriseSend, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    result = await surprises.confirm(ctx, owner_id=query.from_user.id, token=callback_data.token)
    await query.answer()
    first = _("This surprise was already sent.") if result.already else _("🎁 Surprise sent!")
    text = "\n".join([
        first,
        ngettext("{count} member gets {gift}.", "{count} members get {gift}.", result.given).format(
            count=fmt.num(result.given), gift=gift_text(result.points, result.reward, fmt)
        ),
        _("Picked from {candidates} members with the recorded seed {seed}.").format(
            candidates=fmt.num(result.candidates), seed=f"<code>{esc(result.seed)}</code>"
        ),
        _("Surprise budget left this month: {left}.").format(left=fmt.points(result.budget_left)),
    ])
    await replace_message(query, bot, text, None)


async def surprise_cancel(query: CallbackQuery, bot: Bot) -> None:
    await query.answer()
    await replace_message(query, bot, _("Cancelled. Nothing was sent."), None)


@notice("surprise_gift")
def _surprise_gift(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    name = esc(payload.get("first_name") or "")
    greeting = _("🎁 A little surprise for you, {name}!").format(name=name) if name else _("🎁 A little surprise for you!")
    if payload.get("code"):
        lines = [
            greeting,
            _("No reason, just because we are glad you are with us: {reward}").format(
                reward=reward_name(payload.get("reward_name") or None, fmt)
            ),
            *voucher_lines(payload, fmt),
        ]
        return Outgoing("\n".join(lines), photo=qr_card(str(payload["code"])))
    return Outgoing("\n".join([
        greeting,
        _("No reason, just because we are glad you are with us: {points} are on your balance. "
          "Your balance is {balance}.").format(
            points=fmt.points(int(payload["points"])), balance=fmt.points(int(payload["balance"]))
        ),
    ]))


# -- what went wrong ---------------------------------------------------------------------------
@describes("recovery_taken")
def _taken(error: DomainError, fmt: Fmt) -> str:
    return _("{name} is already handling this customer. Nothing was changed.").format(
        name=esc(error.details.get("by") or "—")
    )


@describes("recovery_action_done")
def _action_done(error: DomainError, fmt: Fmt) -> str:
    return _("That was already done for this customer. Nothing was changed.")


@describes("recovery_resolved")
def _resolved(error: DomainError, fmt: Fmt) -> str:
    return _("This case is already resolved. Nothing was changed.")


@describes("budget_exhausted")
def _budget(error: DomainError, fmt: Fmt) -> str:
    text = _("Not enough budget left this month: this needs {needed}, {left} of {budget} is left. "
             "Nothing was given.")
    return text.format(needed=fmt.points(int(error.details["needed"])), left=fmt.points(int(error.details["left"])),
                       budget=fmt.points(int(error.details["budget"])))


@describes("goodwill_off")
def _goodwill_off(error: DomainError, fmt: Fmt) -> str:
    return _("The program gives no goodwill points ([recovery] goodwill_points = 0).")


@describes("followup_answered")
def _followup_answered(error: DomainError, fmt: Fmt) -> str:
    return _("You have already answered. Thank you!")


@describes("unknown_segment")
def _unknown_segment(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a segment. Use all, ar, fa, en, tier-1, tier-2…, inactive-30 or never.").format(
        text=echo(error.details.get("text", ""))
    )


@describes("empty_segment")
def _empty_segment(error: DomainError, fmt: Fmt) -> str:
    return _("Nobody in that segment can get a surprise right now. Nothing was sent.")


@describes("surprise_count_too_large")
def _too_many(error: DomainError, fmt: Fmt) -> str:
    return ngettext(
        "Only {available} member in that segment can get a surprise, not {count}. Send a smaller number.",
        "Only {available} members in that segment can get a surprise, not {count}. Send a smaller number.",
        int(error.details["available"]),
    ).format(available=fmt.num(int(error.details["available"])), count=fmt.num(int(error.details["count"])))


@describes("invalid_surprise_count")
def _invalid_count(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a number of members. Send a whole number from 1 to {maximum}.").format(
        text=echo(error.details.get("text", "")), maximum=fmt.num(int(error.details["maximum"]))
    )


@describes("unknown_gift")
def _unknown_gift(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is neither a number of points nor an active reward's id (see /rewards_admin).").format(
        text=echo(error.details.get("text", ""))
    )


def create_router() -> Router:
    router = Router(name="recovery")
    router.callback_query.register(case_action, CaseAction.filter(), IsStaff)
    router.callback_query.register(case_voucher, CaseVoucher.filter(), IsStaff)
    router.callback_query.register(made_right, MadeRight.filter())
    router.callback_query.register(followup_skip, FollowupSkip.filter())
    router.message.register(followup_comment, StateFilter(Followup.comment), F.text, ~F.text.startswith("/"))
    router.message.register(surprise, Command("surprise"), IsOwner)
    router.callback_query.register(surprise_send, SurpriseSend.filter(), IsOwner)
    router.callback_query.register(surprise_cancel, SurpriseCancel.filter(), IsOwner)
    return router

