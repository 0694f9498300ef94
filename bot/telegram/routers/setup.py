"""/setup: the owner sets the program up in conversation; /program shows it (issue 12).

    /setup ─▶ shop name (owner's language, then the other two) ─▶ currency ─▶ earning rate
           ─▶ signup, birthday, referral (inviter, friend) bonuses ─▶ tier thresholds
           ─▶ first reward (name, cost) ─▶ summary ──✅ Save

Every step has ◀ Back, ✖ Cancel and a "Keep" button for the current value.
A typed value is checked by `bot.domain.setup`; a wrong one is answered and
asked again, with the answers so far kept. Nothing is saved before ✅ Save,
so leaving halfway changes nothing.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.errors import DomainError
from bot.domain.program import LANGS, Program
from bot.domain.setup import (
    COMMON_CURRENCIES,
    SetupAnswers,
    example_amount,
    example_points,
    parse_bonus,
    parse_currency,
    parse_name,
    parse_rate,
    parse_reward_cost,
    parse_threshold,
    spend_per_point,
)
from bot.services import program as program_store
from bot.telegram.errors import describe, describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.render import Fmt, esc, language_name

BONUSES = ("signup", "birthday", "referrer", "referee")


class SetupForm(StatesGroup):
    step = State()


class Setup(CallbackData, prefix="su"):
    act: str  # keep back cancel cur skip save
    at: int  # the step index the button belongs to
    arg: str = ""


def _button(text: str, act: str, at: int, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=Setup(act=act, at=at, arg=arg).pack())


def steps_for(program: Program, lang: str) -> list[str]:
    names = [f"name.{lang}", *(f"name.{other}" for other in LANGS if other != lang)]
    tiers = [f"tier.{i}" for i in range(1, len(program.tiers))]
    return [*names, "currency", "rate", *(f"bonus.{b}" for b in BONUSES), *tiers, "reward_name", "reward_cost", "confirm"]


# -- the answers in FSM data (JSON-safe) ------------------------------------------------


def answers_of(data: dict[str, Any]) -> SetupAnswers:
    raw = data["answers"]
    return SetupAnswers(
        name=dict(raw.get("name", {})),
        currency=raw.get("currency"),
        rate=Decimal(raw["rate"]) if raw.get("rate") else None,
        bonuses=dict(raw.get("bonuses", {})),
        thresholds=raw.get("thresholds"),
        reward_name=raw.get("reward_name"),
        reward_cost=raw.get("reward_cost"),
        reward_lang=data["lang"],
    )


def _currency(program: Program, raw: dict[str, Any]) -> str:
    return raw.get("currency") or program.currency


def _rate(program: Program, raw: dict[str, Any]) -> Decimal:
    return Decimal(raw["rate"]) if raw.get("rate") else program.earning.points_per_unit


def _thresholds(program: Program, raw: dict[str, Any]) -> list[int]:
    return list(raw.get("thresholds") or [t.threshold for t in program.tiers[1:]])


def rate_example(program: Program, currency: str, rate: Decimal, fmt: Fmt) -> str:
    amount = example_amount(currency)
    return _("A purchase of {amount} earns {points}.").format(
        amount=fmt.money(amount, currency), points=fmt.points(example_points(program, rate, amount))
    )


def bonus_label(key: str) -> str:
    return {
        "signup": _("Points for joining"),
        "birthday": _("Points on the member's birthday"),
        "referrer": _("Points for inviting a friend (after the friend's first purchase)"),
        "referee": _("Points for the invited friend (after their first purchase)"),
    }[key]


# -- prompts ----------------------------------------------------------------------------


def prompt(ctx: Any, data: dict[str, Any], fmt: Fmt) -> tuple[str, InlineKeyboardMarkup]:
    program: Program = ctx.program
    at = data["at"]
    step = data["steps"][at]
    raw = data["answers"]
    nav = [_button(_("◀ Back"), "back", at), _button(_("✖ Cancel"), "cancel", at)]
    rows: list[list[InlineKeyboardButton]] = []
    if step.startswith("name."):
        lang = step.split(".")[1]
        current = raw.get("name", {}).get(lang) or program.name.get(lang)
        text = _("🏪 Your shop's name in {language}, as customers see it. Type it.").format(
            language=language_name(lang))
        if current:
            text += "\n" + _("Now: {value}").format(value=echo(current))
            rows.append([_button(_("Keep it"), "keep", at)])
        else:
            rows.append([_button(_("Skip"), "keep", at)])
    elif step == "currency":
        text = _("💰 Your currency: tap one or type its three-letter ISO code (for example IRT for toman).")
        text += "\n" + _("Now: {value}").format(value=esc(fmt.currency(_currency(program, raw))))
        buttons = [_button(fmt.currency(code), "cur", at, code) for code in COMMON_CURRENCIES]
        rows += [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    elif step == "rate":
        currency, rate = _currency(program, raw), _rate(program, raw)
        text = _("⭐ How much must a customer spend to earn 1 point? Type the amount in {currency}.").format(
            currency=fmt.currency(currency))
        text += "\n" + _("Now: 1 point for every {amount}. {example}").format(
            amount=fmt.money(spend_per_point(rate), currency), example=rate_example(program, currency, rate, fmt))
        rows.append([_button(_("Keep it"), "keep", at)])
    elif step.startswith("bonus."):
        key = step.split(".")[1]
        value = raw.get("bonuses", {}).get(key, getattr(program.bonuses, key))
        text = _("🎁 {what}: type a number of points (0 for none).").format(what=bonus_label(key))
        text += "\n" + _("Now: {value}").format(value=fmt.points(value))
        rows.append([_button(_("Keep it"), "keep", at)])
    elif step.startswith("tier."):
        index = int(step.split(".")[1])
        thresholds = _thresholds(program, raw)
        previous = thresholds[index - 2] if index >= 2 else 0
        text = _("🏅 Points a member must earn to reach {tier} (more than {previous}).").format(
            tier=fmt.name(program.tiers[index].name), previous=fmt.points(previous))
        text += "\n" + _("Now: {value}").format(value=fmt.points(thresholds[index - 1]))
        rows.append([_button(_("Keep it"), "keep", at)])
    elif step == "reward_name":
        text = _("🎉 A first reward members can get with their points: type its name (e.g. a free coffee), "
                 "or skip.")
        rows.append([_button(_("Skip"), "skip", at)])
    elif step == "reward_cost":
        text = _("How many points does {reward} cost? Type a number.").format(reward=echo(raw.get("reward_name", "")))
    else:
        text = summary(ctx, data, fmt) + "\n\n" + _("Save these settings? They apply at once.")
        rows.append([_button(_("✅ Save"), "save", at)])
    rows.append(nav)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def summary(ctx: Any, data: dict[str, Any], fmt: Fmt) -> str:
    program: Program = ctx.program
    raw = data["answers"]
    name = {**program.name, **raw.get("name", {})}
    currency, rate = _currency(program, raw), _rate(program, raw)
    bonuses = {b: raw.get("bonuses", {}).get(b, getattr(program.bonuses, b)) for b in BONUSES}
    lines = [_("📋 <b>Your program</b>")]
    lines += [_("Name ({language}): {text}").format(language=language_name(lang), text=echo(name[lang]))
              for lang in LANGS if name.get(lang)]
    lines.append(_("Currency: {currency}").format(currency=esc(fmt.currency(currency))))
    lines.append(_("Earning: 1 point for every {amount}. {example}").format(
        amount=fmt.money(spend_per_point(rate), currency), example=rate_example(program, currency, rate, fmt)))
    lines += [f"{bonus_label(b)}: {fmt.points(bonuses[b])}" for b in BONUSES]
    thresholds = [0, *_thresholds(program, raw)]
    for tier, threshold in zip(program.tiers, thresholds, strict=False):
        lines.append(_("Tier {tier}: from {points}").format(tier=fmt.name(tier.name), points=fmt.points(threshold)))
    if raw.get("reward_name") and raw.get("reward_cost"):
        lines.append(_("New reward: {reward} for {points}").format(
            reward=echo(raw["reward_name"]), points=fmt.points(raw["reward_cost"])))
    return "\n".join(lines)


async def _show(message: Message, ctx: Any, data: dict[str, Any], fmt: Fmt, note: str | None = None) -> None:
    text, markup = prompt(ctx, data, fmt)
    await message.answer(f"{note}\n\n{text}" if note else text, reply_markup=markup)


# -- handlers ---------------------------------------------------------------------------


async def start_setup(message: Message, state: FSMContext, ctx: Any, fmt: Fmt, lang: str) -> None:
    data: dict[str, Any] = {"steps": steps_for(ctx.program, lang), "at": 0, "answers": {}, "lang": lang,
            "based_on": getattr(ctx, "program_version", 0)}
    await state.set_state(SetupForm.step)
    await state.set_data(data)
    await message.answer(_("Let's set up your loyalty program. Nothing changes until you tap ✅ Save at the end."))
    await _show(message, ctx, data, fmt)


def _advance(data: dict[str, Any]) -> None:
    data["at"] += 1
    if data["steps"][data["at"]] == "reward_cost" and not data["answers"].get("reward_name"):
        data["at"] += 1


def _back(data: dict[str, Any]) -> None:
    data["at"] = max(0, data["at"] - 1)
    if data["steps"][data["at"]] == "reward_cost" and not data["answers"].get("reward_name"):
        data["at"] -= 1


def take(ctx: Any, data: dict[str, Any], text: str) -> None:
    """Check a typed answer and keep it in `data` (raises InvalidSetupValue, keeping `data` unchanged)."""
    step = data["steps"][data["at"]]
    raw = data["answers"]
    if step.startswith("name."):
        raw.setdefault("name", {})[step.split(".")[1]] = parse_name(text)
    elif step == "currency":
        raw["currency"] = parse_currency(text)
    elif step == "rate":
        raw["rate"] = str(parse_rate(text))
    elif step.startswith("bonus."):
        raw.setdefault("bonuses", {})[step.split(".")[1]] = parse_bonus(text)
    elif step.startswith("tier."):
        index = int(step.split(".")[1])
        thresholds = _thresholds(ctx.program, raw)
        previous = thresholds[index - 2] if index >= 2 else 0
        thresholds[index - 1] = parse_threshold(text, previous)
        for later in range(index, len(thresholds)):  # later tiers stay above this one
            if thresholds[later] <= thresholds[later - 1]:
                thresholds[later] = thresholds[later - 1] + 1
        raw["thresholds"] = thresholds
    elif step == "reward_name":
        raw["reward_name"] = parse_name(text)
    elif step == "reward_cost":
        raw["reward_cost"] = parse_reward_cost(text)


async def typed(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    data = await state.get_data()
    if data["steps"][data["at"]] == "confirm":
        await _show(message, ctx, data, fmt, _("Tap ✅ Save, ◀ Back or ✖ Cancel."))
        return
    try:
        take(ctx, data, message.text or "")
    except DomainError as error:
        await _show(message, ctx, await state.get_data(), fmt, "⚠️ " + describe(error, fmt))
        return
    note = None
    if data["steps"][data["at"]] == "rate":
        program: Program = ctx.program
        raw = data["answers"]
        note = "✓ " + rate_example(program, _currency(program, raw), _rate(program, raw), fmt)
    _advance(data)
    await state.set_data(data)
    await _show(message, ctx, data, fmt, note)


async def pressed(query: CallbackQuery, callback_data: Setup, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    data = await state.get_data()
    if await state.get_state() != SetupForm.step.state or callback_data.at != data.get("at"):
        await query.answer(_("This button is from an earlier step."), show_alert=True)
        return
    await query.answer()
    message = query.message
    assert isinstance(message, Message)
    await message.edit_reply_markup(reply_markup=None)
    act = callback_data.act
    if act == "cancel":
        await state.clear()
        await message.answer(_("Setup cancelled. Nothing was changed."))
        return
    if act == "back":
        _back(data)
    elif act == "cur":
        data["answers"]["currency"] = callback_data.arg if callback_data.arg in COMMON_CURRENCIES else None
        _advance(data)
    elif act == "skip":
        data["answers"].pop("reward_name", None)
        data["answers"].pop("reward_cost", None)
        _advance(data)
    elif act == "keep":
        _advance(data)
    elif act == "save":
        await state.clear()
        _program, _version, changes = await program_store.save_setup(
            ctx, actor_id=query.from_user.id, answers=answers_of(data), based_on=data["based_on"])
        if changes:
            await message.answer(_("✅ Saved. Your program is in force from now on. /program shows it."))
        else:
            await message.answer(_("Nothing to change: your program stays as it was. /program shows it."))
        return
    await state.set_data(data)
    await _show(message, ctx, data, fmt)


async def show_program(message: Message, ctx: Any, fmt: Fmt, lang: str) -> None:
    data = {"steps": ["confirm"], "at": 0, "answers": {}, "lang": lang}
    program: Program = ctx.program
    lines = [summary(ctx, data, fmt)]
    if program.expiry.months:
        lines.append(ngettext("Points expire {months} month after they are earned.",
                              "Points expire {months} months after they are earned.",
                              program.expiry.months).format(months=fmt.num(program.expiry.months)))
    lines.append(_("Rewards in the catalog: /rewards · change the program: /setup"))
    await message.answer("\n".join(lines))


@describes("invalid_setup_value")
def _invalid(error: DomainError, fmt: Fmt) -> str:
    field = error.details.get("field")
    if field == "name":
        return _("Please type a name of up to {limit} characters.").format(limit=fmt.num(error.details["limit"]))
    if field == "currency":
        return _("{text} is not a currency code I know. Type three letters such as IRT, SAR or USD.").format(
            text=echo(error.details.get("text", "")))
    if field == "rate":
        return _("Please type a positive amount, for example 1000.")
    if field == "threshold":
        return _("Please type a whole number of points above {previous}.").format(
            previous=fmt.points(error.details["previous"]))
    return _("Please type a whole number from 0 to {limit}.").format(limit=fmt.num(error.details.get("limit", 0)))


@describes("program_changed")
def _changed(error: DomainError, fmt: Fmt) -> str:
    return _("Someone else saved the program while you were setting it up, so nothing was saved. "
             "Send /setup to start again from their version.")


def create_router() -> Router:
    router = Router(name="setup")
    router.message.register(start_setup, Command("setup"), IsOwner)
    router.message.register(show_program, Command("program"), IsOwner)
    router.message.register(typed, SetupForm.step, F.text, IsOwner)
    router.callback_query.register(pressed, Setup.filter(), IsOwner)
    return router
