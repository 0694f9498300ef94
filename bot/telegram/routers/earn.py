"""/earn, /checkin and the earning actions' buttons (SPEC §3, §11).

    /earn ─▶ every way to earn, with what is left this period
             ├─ channel action: [Join @shop] (link) · [✅ I joined: check] ─▶ getChatMember ─▶ points
             └─ staff action:   [🙋 Ask staff] ─▶ every owner and staff member: [Approve] [Decline]
                                                   └─▶ the first tap decides; the member is told
    /checkin CODE, or the deep link start=act-CODE (a printed QR) ─▶ points

Points move once per member, action and period whatever is tapped or
redelivered (`bot.services.actions`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.errors import DomainError
from bot.domain.ledger import command_key
from bot.domain.program import EarningAction
from bot.services import actions, earn
from bot.telegram.channels import membership_checker
from bot.telegram.edits import replace_message
from bot.telegram.errors import describe, describes, echo
from bot.telegram.filters import IsStaff
from bot.telegram.notices import Outgoing, notice
from bot.telegram.qr import qr_card
from bot.telegram.render import Fmt, esc, isolate
from bot.telegram.reward_text import reward_name, tier_name
from bot.telegram.routers.stamps import card_line, voucher_lines

_SECOND = timedelta(seconds=1)  # a code stops working at the midnight after its last day


class ChannelCheck(CallbackData, prefix="ech"):
    action: str


class AskStaff(CallbackData, prefix="eask"):
    action: str


class Decide(CallbackData, prefix="edc"):
    claim: int
    approve: bool


# -- words --------------------------------------------------------------------------------


def limit_text(limit: str) -> str:
    return {
        "once": _("once"),
        "daily": _("once a day"),
        "weekly": _("once a week"),
        "monthly": _("once a month"),
    }[limit]


def how_text(action: EarningAction, fmt: Fmt) -> str:
    if action.verify == "channel":
        return _("join our channel {channel}, then tap the button below").format(channel=isolate(esc(action.channel)))
    if action.verify == "code":
        return _("send /checkin and the code you get at the event, or scan its QR code")
    if action.verify == "staff":
        return _("tap the button below and staff will confirm it")
    return _("counted automatically when it happens at the shop")


def state_text(state: actions.ActionState, fmt: Fmt) -> str:
    if state.state == "pending":
        return _("⏳ waiting for staff to confirm")
    if state.state == "done":
        if state.again is None:
            return _("✅ done")
        return _("✅ done · again from {date}").format(date=fmt.date(state.again))
    return _("available now")


def earn_view(ctx: Any, view: earn.EarnView, fmt: Fmt) -> tuple[str, InlineKeyboardMarkup | None]:
    program = ctx.program
    lines = [_("✨ <b>Ways to earn at {merchant}</b>").format(merchant=fmt.name(program.name)), ""]
    rate = fmt.points(program.earning.points_per_unit * view.multiplier)
    lines.append(_("🛒 Every purchase: {points} per {unit}").format(
        points=rate, unit=fmt.money(Decimal(1), program.currency)
    ))
    card = view.card
    if card is not None:
        spec = program.stamps
        lines.append(
            _("☕ {card}: {line} · a full card gets you {reward}").format(
                card=fmt.name(spec.name) if spec is not None and spec.name else _("Stamp card"),
                line=card_line(fmt, card.on_card, card.every),
                reward=reward_name(card.reward.name if card.reward else None, fmt),
            )
        )
        lines.append("   " + _("Stamps you can still get today: {count}").format(count=fmt.num(card.left_today)))
    buttons: list[list[InlineKeyboardButton]] = []
    for state in view.actions:
        action = state.action
        lines.append(
            f"🎯 <b>{fmt.name(action.name)}</b> — +{fmt.points(action.points)} · {limit_text(action.limit)} · "
            f"{state_text(state, fmt)}"
        )
        if action.description:
            lines.append(f"   <i>{fmt.name(action.description)}</i>")
        if state.state == "available":
            lines.append("   " + _("How: {how}").format(how=how_text(action, fmt)))
            if action.verify == "channel" and action.channel:
                buttons.append([
                    InlineKeyboardButton(
                        text=_("Open {channel}").format(channel=action.channel), url=f"https://t.me/{action.channel[1:]}"
                    ),
                    InlineKeyboardButton(text=_("✅ I joined: check"), callback_data=ChannelCheck(action=action.id).pack()),
                ])
            elif action.verify == "staff":
                buttons.append([InlineKeyboardButton(
                    text=_("🙋 Ask staff: {action}").format(action=fmt.name(action.name))[:64],
                    callback_data=AskStaff(action=action.id).pack(),
                )])
    milestone = view.next_milestone
    if milestone is not None and milestone.purchases is not None:
        lines.append(
            _("🏆 Next milestone: purchase number {number} ({left} to go): {gift}").format(
                number=fmt.num(milestone.purchases), left=fmt.num(milestone.purchases - view.purchases),
                gift=gift_text(ctx, milestone, fmt),
            )
        )
    for milestone in view.anniversaries:
        years = int(milestone.anniversary_years or 0)
        lines.append(
            ngettext("🎉 {count} year with us: {gift}", "🎉 {count} years with us: {gift}", years).format(
                count=fmt.num(years), gift=gift_text(ctx, milestone, fmt)
            )
        )
    bonuses = program.bonuses
    if bonuses.referrer:
        lines.append(_("🤝 Invite a friend: {points} when they make their first purchase · /invite").format(
            points=fmt.points(bonuses.referrer)
        ))
    if bonuses.birthday and view.member.birth_calendar is None:
        lines.append(_("🎂 Your birthday: {points} on the day · tell us with /birthday").format(
            points=fmt.points(bonuses.birthday)
        ))
    if bonuses.survey:
        lines.append(_("💬 Your feedback: {points} · /feedback").format(points=fmt.points(bonuses.survey)))
    keyboard = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
    return "\n".join(lines), keyboard


def gift_text(ctx: Any, milestone: Any, fmt: Fmt) -> str:
    parts = []
    if milestone.points:
        parts.append(fmt.points(milestone.points))
    if milestone.reward:
        seed = next((r for r in ctx.program.rewards if r.id == milestone.reward), None)
        parts.append(reward_name(seed.name if seed else None, fmt))
    return " + ".join(parts)


# -- handlers -----------------------------------------------------------------------------


async def show_earn(message: Message, ctx: Any, fmt: Fmt, member: Any) -> None:
    text, keyboard = earn_view(ctx, await earn.ways_to_earn(ctx, member), fmt)
    await message.answer(text, reply_markup=keyboard)


def credited_text(result: actions.ActionResult, fmt: Fmt) -> str:
    return _("✅ {action}: +{points}. Your balance is {balance}.").format(
        action=fmt.name(result.action.name), points=fmt.points(result.points), balance=fmt.points(result.balance)
    )


async def checkin(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    typed = (command.args or "").strip()
    if not typed:
        await message.answer(esc(_("Send the code you got at the event: /checkin CODE")))
        return
    result = await actions.checkin(
        ctx, message.from_user.id, typed, key=command_key("checkin", message.chat.id, message.message_id)
    )
    await message.answer(credited_text(result, fmt))


async def checkin_from_link(message: Message, ctx: Any, fmt: Fmt, code: str) -> None:
    """`/start act-<code>` (a printed QR): the member has just joined or was one already."""
    assert message.from_user is not None
    try:
        result = await actions.checkin(
            ctx, message.from_user.id, code, key=command_key("checkin", message.chat.id, message.message_id)
        )
    except DomainError as error:
        await message.answer(describe(error, fmt))
        return
    await message.answer(credited_text(result, fmt))


async def check_channel(query: CallbackQuery, callback_data: ChannelCheck, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    result = await actions.check_channel(ctx, query.from_user.id, callback_data.action, membership_checker(bot))
    await query.answer(_("Thank you for joining!"))
    await bot.send_message(query.from_user.id, credited_text(result, fmt))


async def ask_staff(query: CallbackQuery, callback_data: AskStaff, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    await actions.ask_staff(ctx, query.from_user.id, callback_data.action)
    action = ctx.program.action(callback_data.action)
    await query.answer()
    await bot.send_message(
        query.from_user.id,
        _("🙋 Asked. Staff will confirm {action} shortly, and I will tell you.").format(action=fmt.name(action.name)),
    )


async def decide(query: CallbackQuery, callback_data: Decide, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    decision = await actions.decide(
        ctx, staff_id=query.from_user.id, claim_id=callback_data.claim, approve=callback_data.approve
    )
    member = decision.member
    who = f"{esc(member.first_name or '')} {fmt.code(member.code)}".strip()
    if decision.approved:
        text = _("✅ Approved: {action} for {member}, +{points}.").format(
            action=fmt.name(decision.action.name), member=who, points=fmt.points(decision.action.points)
        )
    else:
        text = _("Declined: {action} for {member}. They have been told.").format(
            action=fmt.name(decision.action.name), member=who
        )
    await query.answer()
    await replace_message(query, bot, text, None)


# -- what went wrong -------------------------------------------------------------------------


@describes("action_done")
def _done(error: DomainError, fmt: Fmt) -> str:
    again: datetime | None = error.details.get("again")
    if error.details.get("limit") == "once" or again is None:
        return _("You already got the points for this: it counts once. Nothing was added.")
    return _("You already got the points for this. You can earn them again from {date}.").format(date=fmt.date(again))


@describes("action_unknown")
@describes("action_wrong_verification")
def _unknown_action(error: DomainError, fmt: Fmt) -> str:
    return _("This way to earn is not offered any more. Nothing was changed; see /earn.")


@describes("checkin_code_unknown")
def _unknown_code(error: DomainError, fmt: Fmt) -> str:
    return _("{code} is not a check-in code I know. Check the spelling against the code shown at the event.").format(
        code=echo(error.details.get("text", ""))
    )


@describes("checkin_code_expired")
def _expired_code(error: DomainError, fmt: Fmt) -> str:
    expired: datetime = error.details["expired_at"]
    return _("The check-in code {code} is no longer valid: its last day was {date}. Nothing was added.").format(
        code=echo(error.details.get("text", "")), date=fmt.date(expired - _SECOND)
    )


@describes("not_in_channel")
def _not_in_channel(error: DomainError, fmt: Fmt) -> str:
    return _("I can't see you in {channel}. Join the channel, then tap the button again.").format(
        channel=isolate(esc(error.details.get("channel", "")))
    )


@describes("channel_check_unavailable")
def _check_unavailable(error: DomainError, fmt: Fmt) -> str:
    return _("I can't check the channel right now. The shop has been told; please try again later.")


@describes("action_request_pending")
def _pending(error: DomainError, fmt: Fmt) -> str:
    return _("You have already asked: staff will confirm it soon.")


@describes("action_request_decided")
def _decided(error: DomainError, fmt: Fmt) -> str:
    if error.details.get("status") == "declined":
        return _("This request was already declined. Nothing was changed.")
    return _("This request was already approved. Nothing was changed.")


# -- notices -------------------------------------------------------------------------------


@notice("action_credited")
def _action_credited(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(_("✅ {action}: you earned {points}. Your balance is {balance}.").format(
        action=fmt.name(payload["name"]), points=fmt.points(int(payload["points"])),
        balance=fmt.points(int(payload["balance"])),
    ))


@notice("action_approved")
def _action_approved(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(_("✅ Staff confirmed {action}: +{points}. Your balance is {balance}.").format(
        action=fmt.name(payload["name"]), points=fmt.points(int(payload["points"])),
        balance=fmt.points(int(payload["balance"])),
    ))


@notice("action_declined")
def _action_declined(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(_("Staff could not confirm {action} this time. If you think this is a mistake, ask at the counter.")
                    .format(action=fmt.name(payload["name"])))


@notice("action_request")
def _action_request(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    who = f"{esc(payload.get('member_name') or '')} {fmt.code(str(payload['code']))}".strip()
    text = _("🙋 {member} asks for {action} (+{points}). Did they do it?").format(
        member=who, action=fmt.name(payload["name"]), points=fmt.points(int(payload["points"]))
    )
    claim = int(payload["claim"])
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Approve"), callback_data=Decide(claim=claim, approve=True).pack()),
        InlineKeyboardButton(text=_("✖️ Decline"), callback_data=Decide(claim=claim, approve=False).pack()),
    ]])
    return Outgoing(text, reply_markup=keyboard)


@notice("channel_check_unavailable")
def _channel_unavailable(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    return Outgoing(_(
        "⚠️ I can't check who joined {channel}, so members cannot get the points for “{action}”. "
        "Add me to the channel as an administrator (no extra rights needed), then it works."
    ).format(channel=isolate(esc(payload["channel"])), action=fmt.name(payload["name"])))


@notice("milestone_reached")
def _milestone(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    if payload.get("name"):
        title = fmt.name(payload["name"])
    elif payload.get("purchases"):
        count = int(payload["purchases"])
        title = ngettext("{count} purchase with us", "{count} purchases with us", count).format(count=fmt.num(count))
    else:
        count = int(payload.get("years") or 0)
        title = ngettext("{count} year with us", "{count} years with us", count).format(count=fmt.num(count))
    lines = [_("🏆 <b>Milestone: {milestone}!</b> Thank you for being with us.").format(milestone=title)]
    if int(payload.get("points") or 0):
        lines.append(_("Here are {points}. Your balance is {balance}.").format(
            points=fmt.points(int(payload["points"])), balance=fmt.points(int(payload["balance"]))
        ))
    if payload.get("code"):
        lines.append(_("🎟 And a voucher for {reward}:").format(reward=reward_name(payload.get("reward_name") or None, fmt)))
        lines += voucher_lines(payload, fmt)
        return Outgoing("\n".join(lines), photo=qr_card(str(payload["code"])))
    return Outgoing("\n".join(lines))


@notice("tier_entry_gift")
def _tier_entry(payload: dict[str, Any], fmt: Fmt, ctx: Any) -> Outgoing:
    lines = [_("🎁 A welcome gift for reaching {tier}:").format(tier=tier_name(ctx, int(payload["tier"]), fmt))]
    if int(payload.get("points") or 0):
        lines.append(_("{points} for you. Your balance is {balance}.").format(
            points=fmt.points(int(payload["points"])), balance=fmt.points(int(payload["balance"]))
        ))
    if payload.get("code"):
        lines.append(_("🎟 A voucher for {reward}:").format(reward=reward_name(payload.get("reward_name") or None, fmt)))
        lines += voucher_lines(payload, fmt)
        return Outgoing("\n".join(lines), photo=qr_card(str(payload["code"])))
    return Outgoing("\n".join(lines))


def create_router() -> Router:
    router = Router(name="earn")
    router.message.register(show_earn, Command("earn"))
    router.message.register(checkin, Command("checkin"))
    router.callback_query.register(check_channel, ChannelCheck.filter())
    router.callback_query.register(ask_staff, AskStaff.filter())
    router.callback_query.register(decide, IsStaff, Decide.filter())
    return router

