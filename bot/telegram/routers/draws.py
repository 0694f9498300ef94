"""Prize draws (SPEC §11): `/draw` for owners, `/draws` for members, and the draw's messages.

    /draw ─▶ name ─▶ window ─▶ [per purchase] | [per amount ─▶ how much] ─▶ prizes ─▶ winners
          ─▶ summary ─▶ [✅ Local rules allow this draw: open it] | [Cancel]

The confirm button carries a one-time token (also the draw's key), so a
double tap opens one draw. `/cancel` or any command leaves the conversation.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.draws import (
    PER_AMOUNT,
    PER_PURCHASE,
    parse_names,
    parse_unit,
    parse_window,
    parse_winners,
)
from bot.domain.errors import DomainError
from bot.services import draws
from bot.telegram.edits import replace_message
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.notices import Outgoing, notice, notice_data
from bot.telegram.qr import qr_card
from bot.telegram.render import Fmt, esc
from bot.telegram.reward_text import reward_name
from bot.telegram.routers.stamps import voucher_lines

# Each language's example in its own script, outside the catalogs (no catalog mixes scripts).
NAME_EXAMPLE = "en: Spring draw\nar: سحب الربيع\nfa: قرعه\u200cکشی بهار"


class DrawForm(StatesGroup):
    name = State()
    window = State()
    rule = State()
    unit = State()
    prizes = State()
    winners = State()
    confirm = State()


class DrawRule(CallbackData, prefix="drr"):
    rule: str


class DrawOpen(CallbackData, prefix="dro"):
    token: str


class DrawCancel(CallbackData, prefix="drc"):
    pass


def moment(fmt: Fmt, value: datetime, zone: Any) -> str:
    local = value.astimezone(zone)
    return f"{fmt.date(local)} {fmt.digits_of(local.strftime('%H:%M'))}"


def rule_text(rule: str, unit: Decimal | str | None, fmt: Fmt, ctx: Any) -> str:
    if rule == PER_AMOUNT and unit is not None:
        return _("one entry per {amount} spent").format(amount=fmt.money(Decimal(str(unit)), ctx.program.currency))
    return _("one entry per purchase")


def prizes_text(names: list[dict[str, str]], fmt: Fmt) -> str:
    return fmt.join(reward_name(name, fmt) for name in names) if names else "—"


# -- /draw -----------------------------------------------------------------------------------
async def start_draw(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(DrawForm.name)
    await message.answer("\n".join([
        _("🎟 A new prize draw. What is it called? Send one name for every language, or one line per language:"),
        NAME_EXAMPLE,
        _("(/cancel to stop)"),
    ]))


async def got_name(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    names = parse_names(message.text)
    await state.update_data(names=names)
    await state.set_state(DrawForm.window)
    await message.answer(_(
        "When can members enter? Send 7d or 48h (from now), an end date such as 2026-03-31 "
        "(through that day), or a start and an end date: 2026-03-20 2026-03-31."
    ))


async def got_window(message: Message, state: FSMContext, ctx: Any) -> None:
    assert message.text is not None
    opens_at, closes_at = parse_window(message.text, ctx.now(), ctx.zone)
    await state.update_data(opens_at=opens_at.isoformat(), closes_at=closes_at.isoformat())
    await state.set_state(DrawForm.rule)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("One entry per purchase"), callback_data=DrawRule(rule=PER_PURCHASE).pack())],
        [InlineKeyboardButton(text=_("One entry per amount spent"), callback_data=DrawRule(rule=PER_AMOUNT).pack())],
    ])
    await message.answer(_("How are entries earned?"), reply_markup=keyboard)


async def got_rule(query: CallbackQuery, callback_data: DrawRule, state: FSMContext, ctx: Any, bot: Bot) -> None:
    await query.answer()
    if await state.get_state() != DrawForm.rule.state:
        await replace_message(query, bot, _("This button is no longer valid. Nothing was changed; open the menu again."), None)
        return
    await state.update_data(rule=callback_data.rule, unit=None)
    if callback_data.rule == PER_AMOUNT:
        await state.set_state(DrawForm.unit)
        await replace_message(query, bot, _("How much does a member spend for one entry? (in {currency})").format(
            currency=esc(ctx.program.currency)), None)
        return
    await ask_prizes(query.from_user.id, bot, state, ctx)


async def got_unit(message: Message, state: FSMContext, ctx: Any, bot: Bot) -> None:
    assert message.text is not None and message.from_user is not None
    unit = parse_unit(message.text, ctx.program.earning.max_purchase)
    await state.update_data(unit=str(unit))
    await ask_prizes(message.from_user.id, bot, state, ctx)


async def ask_prizes(chat_id: int, bot: Bot, state: FSMContext, ctx: Any) -> None:
    await state.set_state(DrawForm.prizes)
    await bot.send_message(chat_id, _(
        "What do winners get? Send a reward id from your catalog (e.g. coffee), or several separated by spaces: "
        "the first winner gets the first, the second the second, and the last one is given to everyone after."
    ))


async def got_prizes(message: Message, state: FSMContext, ctx: Any) -> None:
    assert message.text is not None
    ids, names = await draws.resolve_prizes(ctx, message.text)
    await state.update_data(prizes=ids, prize_names=names)
    await state.set_state(DrawForm.winners)
    await message.answer(_("How many winners? (a member can win once)"))


async def got_winners(message: Message, state: FSMContext, ctx: Any, fmt: Fmt) -> None:
    assert message.text is not None and message.from_user is not None
    winners = parse_winners(message.text)
    await state.update_data(winners=winners)
    data = await state.get_data()
    token = await draws.issue_confirmation(ctx, message.from_user.id)
    await state.update_data(token=token)
    await state.set_state(DrawForm.confirm)
    lines = [
        f"🎟 <b>{fmt.name(data['names'])}</b>",
        _("Entries: from {start} until {end}, {rule}.").format(
            start=moment(fmt, datetime.fromisoformat(data["opens_at"]), ctx.zone),
            end=moment(fmt, datetime.fromisoformat(data["closes_at"]), ctx.zone),
            rule=rule_text(data["rule"], data.get("unit"), fmt, ctx),
        ),
        _("Prizes: {prizes}.").format(prizes=prizes_text(data["prize_names"], fmt)),
        ngettext("{count} winner.", "{count} winners.", winners).format(count=fmt.num(winners)),
        "",
        _("Prize draws need a permit in some countries. Open it only if the rules where you trade allow it. "
          "Members who accept offers are told when it opens, with the fingerprint (SHA-256) of the secret "
          "that will pick the winners."),
    ]
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("✅ Local rules allow this draw: open it"),
                              callback_data=DrawOpen(token=token).pack())],
        [InlineKeyboardButton(text=_("Cancel"), callback_data=DrawCancel().pack())],
    ])
    await message.answer("\n".join(lines), reply_markup=keyboard)


async def open_it(
    query: CallbackQuery, callback_data: DrawOpen, state: FSMContext, ctx: Any, fmt: Fmt, lang: str, bot: Bot
) -> None:
    data = await state.get_data()
    if data.get("token") != callback_data.token or "winners" not in data:  # a second tap, an old summary
        await query.answer()
        await replace_message(query, bot, _("This button is no longer valid. Nothing was changed; open the menu again."), None)
        return
    plan = draws.DrawPlan(
        names=data["names"], opens_at=datetime.fromisoformat(data["opens_at"]),
        closes_at=datetime.fromisoformat(data["closes_at"]), rule=data["rule"],
        unit=Decimal(data["unit"]) if data.get("unit") else None, prizes=list(data["prizes"]),
        prize_names=list(data["prize_names"]), winners=int(data["winners"]),
    )
    opened = await draws.open_draw(ctx, owner_id=query.from_user.id, owner_lang=lang, token=callback_data.token,
                                   plan=plan)
    await state.clear()
    await query.answer()
    lines = [
        _("🎟 Draw #{id} is open.").format(id=fmt.num(opened.draw_id)) if plan.opens_at <= ctx.now()
        else _("🎟 Draw #{id} is set: it opens {start}.").format(
            id=fmt.num(opened.draw_id), start=moment(fmt, plan.opens_at, ctx.zone)),
        _("Published fingerprint (SHA-256 of the secret seed): {hash}").format(
            hash=f"<code>{opened.commitment}</code>"),
        _("It closes by itself at the end of the window; you get the report. Anyone can check it with "
          "{command}.").format(command=f"<code>wafa draw verify {opened.draw_id}</code>"),
    ]
    if opened.announced:
        lines.append(ngettext("{count} member is being told.", "{count} members are being told.",
                              opened.announced).format(count=fmt.num(opened.announced)))
    await replace_message(query, bot, "\n".join(lines), None)


async def cancel_draw(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await state.clear()
    await query.answer()
    await replace_message(query, bot, _("Cancelled. Nothing was changed."), None)


# -- /draws ------------------------------------------------------------------------------------
async def my_draws(message: Message, ctx: Any, fmt: Fmt, member: Any) -> None:
    found = await draws.member_draws(ctx, member)
    if not found:
        await message.answer(_("There is no prize draw open right now."))
        return
    lines = [_("🎟 Open prize draws")]
    for item in found:
        lines.extend([
            "",
            f"<b>{fmt.name(item.name)}</b>",
            _("Entries: {rule}, until {end}.").format(
                rule=rule_text(item.rule, item.unit, fmt, ctx), end=moment(fmt, item.closes_at, ctx.zone)),
            ngettext("You have {count} entry of {total}.", "You have {count} entries of {total}.",
                     item.tickets).format(count=fmt.num(item.tickets), total=fmt.num(item.total_tickets)),
            _("Fingerprint of the secret seed: {hash}").format(hash=f"<code>{item.commitment}</code>"),
        ])
    await message.answer("\n".join(lines))


# -- notices -------------------------------------------------------------------------------------
@notice_data("draw_opened")
async def _draw_opened_data(uow: Any, row: Any, recipient: Any) -> dict[str, Any]:
    return await draws.notice_facts(uow, int(row.payload["draw"]))


@notice("draw_opened")
def _draw_opened(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    lines = [
        _("🎟 <b>{name}</b>: a prize draw is open!").format(name=fmt.name(payload["name"])),
        _("Prizes: {prizes}.").format(prizes=prizes_text(payload.get("prizes") or [], fmt)),
        _("Entries: {rule}, until {end}.").format(
            rule=rule_text(payload["rule"], payload.get("unit"), fmt, ctx),
            end=moment(fmt, datetime.fromisoformat(payload["closes_at"]), ctx.zone)),
        _("Fair by design: here is the fingerprint (SHA-256) of the secret that will pick the winners. "
          "It is revealed at the close, so anyone can check the result: {hash}").format(
            hash=f"<code>{payload['commitment']}</code>"),
        _("See your entries with /draws."),
    ]
    return Outgoing("\n".join(lines))


@notice("draw_won")
def _draw_won(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    lines = [
        _("🎉 You won the prize draw {name}! Your prize: {reward}").format(
            name=fmt.name(payload["name"]), reward=reward_name(payload.get("reward_name") or None, fmt)),
        *voucher_lines(payload, fmt),
        _("Winning entry: number {ticket}. Secret seed: {seed}").format(
            ticket=fmt.num(int(payload["ticket"])), seed=f"<code>{payload['seed']}</code>"),
    ]
    return Outgoing("\n".join(lines), photo=qr_card(str(payload["code"])))


@notice("draw_result")
def _draw_result(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    lines = [
        _("🎟 The prize draw {name} has closed. This time you did not win: thank you for taking part!").format(
            name=fmt.name(payload["name"])),
        ngettext("You had {count} entry of {total}.", "You had {count} entries of {total}.",
                 int(payload["mine"])).format(count=fmt.num(int(payload["mine"])),
                                              total=fmt.num(int(payload["tickets"]))),
        _("The secret seed was {seed}; its SHA-256 is the fingerprint we published: {hash}").format(
            seed=f"<code>{payload['seed']}</code>", hash=f"<code>{payload['commitment']}</code>"),
    ]
    return Outgoing("\n".join(lines))


@notice("draw_report")
def _draw_report(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    wanted, drawn = int(payload["winners"]), payload.get("winners_drawn") or []
    lines = [
        _("🎟 Draw #{id} {name} has closed.").format(id=fmt.num(int(payload["draw"])), name=fmt.name(payload["name"])),
        _("Entrants: {entrants}, entries: {tickets}.").format(
            entrants=fmt.num(int(payload["entrants"])), tickets=fmt.num(int(payload["tickets"]))),
    ]
    if not drawn:
        lines.append(_("Nobody entered, so there is no winner and nothing was given."))
    elif len(drawn) < wanted:
        lines.append(_("Fewer entrants than winners: all {count} entrants win, {missing} prize(s) stay unawarded.")
                     .format(count=fmt.num(len(drawn)), missing=fmt.num(wanted - len(drawn))))
    for winner in drawn:
        line = _("{rank}. {name} {code}: entry {ticket}, {prize}, voucher {voucher}").format(
            rank=fmt.num(int(winner["rank"])), name=esc(winner.get("name") or ""), code=fmt.code(winner["code"]),
            ticket=fmt.num(int(winner["ticket"])), prize=reward_name(winner.get("prize") or None, fmt),
            voucher=fmt.code(winner["voucher"]))
        if not winner.get("told"):
            line += " " + _("(blocked the bot: could not be told; the voucher waits in their account)")
        lines.append(line)
    lines.append(_("Seed: {seed}").format(seed=f"<code>{payload['seed']}</code>"))
    lines.append(_("Check it: {command}").format(command=f"<code>wafa draw verify {int(payload['draw'])}</code>"))
    return Outgoing("\n".join(lines))


# -- errors -----------------------------------------------------------------------------------------
@describes("invalid_draw_window")
def _invalid_window(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not an entry window. Send 7d, 48h, an end date such as 2026-03-31, or two dates; "
             "at most a year, and it must end in the future.").format(text=echo(error.details.get("text", "")))


@describes("invalid_winners")
def _invalid_winners(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a number of winners. Send a whole number from 1 to {maximum}.").format(
        text=echo(error.details.get("text", "")), maximum=fmt.num(int(error.details["maximum"])))


@describes("invalid_entry_unit")
def _invalid_unit(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not an amount. Send a positive amount, e.g. 50.").format(
        text=echo(error.details.get("text", "")))


@describes("draw_name_too_long")
def _name_too_long(error: DomainError, fmt: Fmt) -> str:
    return _("That name is too long. Keep each name under {limit} characters.").format(
        limit=fmt.num(int(error.details["limit"])))


@describes("invalid_draw_name")
def _invalid_name(error: DomainError, fmt: Fmt) -> str:
    return _("Send the draw's name as text.")


@describes("draw_not_found")
def _draw_not_found(error: DomainError, fmt: Fmt) -> str:
    return _("There is no such prize draw.")


def create_router() -> Router:
    router = Router(name="draws")
    router.message.register(start_draw, Command("draw"), IsOwner)
    router.message.register(got_name, StateFilter(DrawForm.name), F.text, IsOwner)
    router.message.register(got_window, StateFilter(DrawForm.window), F.text, IsOwner)
    router.callback_query.register(got_rule, DrawRule.filter(), IsOwner)
    router.message.register(got_unit, StateFilter(DrawForm.unit), F.text, IsOwner)
    router.message.register(got_prizes, StateFilter(DrawForm.prizes), F.text, IsOwner)
    router.message.register(got_winners, StateFilter(DrawForm.winners), F.text, IsOwner)
    router.callback_query.register(open_it, DrawOpen.filter(), IsOwner)
    router.callback_query.register(cancel_draw, DrawCancel.filter(), IsOwner)
    router.message.register(my_draws, Command("draws"))
    return router

