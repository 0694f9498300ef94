"""/actions (owner): the program's earning actions, whether the channel check works,
and check-in codes with a QR to print (SPEC §11).

    /actions ─▶ the list ─┬─ [🆕 New code: <action>] ─▶ [today] [7 days] [30 days] ─▶ the code + its QR
                          └─ [🖨 QR: <fixed code>]  ─▶ the QR of the program's own code

The QR holds the deep link `https://t.me/<bot>?start=act-<code>`: a member
who scans it lands in the bot and is checked in (joining first if need be).
"""
from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.domain.actions import CODE_VALIDITY_DAYS, PAYLOAD_PREFIX
from bot.services import actions
from bot.telegram.channels import bot_is_admin
from bot.telegram.filters import IsOwner
from bot.telegram.photos import send_picture
from bot.telegram.qr import qr_card
from bot.telegram.render import Fmt, esc, isolate
from bot.telegram.reward_text import days, last_day
from bot.telegram.routers.earn import limit_text


class NewCode(CallbackData, prefix="acn"):
    action: str
    days: int = 0  # 0: ask how long


class FixedQr(CallbackData, prefix="acq"):
    action: str


def verify_text(action: Any) -> str:
    return {
        "channel": _("checked in the channel {channel}").format(channel=isolate(esc(action.channel or ""))),
        "code": _("a check-in code"),
        "staff": _("confirmed by staff"),
        "api": _("reported by your systems (POST /api/v1/events, action {id})").format(id=isolate(esc(action.id))),
    }[action.verify]


async def show_actions(message: Message, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    program_actions = ctx.program.actions
    if not program_actions:
        await message.answer(
            _("Your program has no earning actions yet. Add [[actions]] to the program file "
              "(see docs/program.example.toml) and restart.")
        )
        return
    live = await actions.live_codes(ctx)
    lines = [_("🎯 <b>Earning actions</b>"), ""]
    buttons: list[list[InlineKeyboardButton]] = []
    for action in program_actions:
        lines.append(f"• <b>{fmt.name(action.name)}</b> — +{fmt.points(action.points)} · {limit_text(action.limit)} · "
                     f"{verify_text(action)}")
        if action.verify == "channel" and action.channel:
            if await bot_is_admin(bot, action.channel):
                lines.append("   " + _("✅ I can check who joined."))
            else:
                lines.append("   " + _("⚠️ I am not an administrator of {channel}, so I cannot check who joined. "
                                      "Add me there as an administrator.").format(channel=isolate(esc(action.channel))))
        if action.verify == "code":
            if action.code:
                lines.append("   " + _("Code in the program: {code}").format(code=fmt.code(action.code.upper())))
                buttons.append([InlineKeyboardButton(
                    text=_("🖨 QR for {code}").format(code=action.code.upper()),
                    callback_data=FixedQr(action=action.id).pack(),
                )])
            for code in (c for c in live if c.action_id == action.id):
                lines.append("   " + _("Code {code}, valid until {date}").format(
                    code=fmt.code(code.code), date=last_day(fmt, code.expires_at)
                ))
            buttons.append([InlineKeyboardButton(
                text=_("🆕 New code: {action}").format(action=fmt.name(action.name))[:64],
                callback_data=NewCode(action=action.id).pack(),
            )])
    keyboard = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
    await message.answer("\n".join(lines), reply_markup=keyboard)


async def new_code(query: CallbackQuery, callback_data: NewCode, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    action = actions.action_of(ctx, callback_data.action, "code")
    if callback_data.days == 0:
        await query.answer()
        row = [
            InlineKeyboardButton(
                text=_("Today only") if count == 1 else days(fmt, count),
                callback_data=NewCode(action=action.id, days=count).pack(),
            )
            for count in CODE_VALIDITY_DAYS
        ]
        await bot.send_message(
            query.from_user.id,
            _("How long should the new code for {action} work?").format(action=fmt.name(action.name)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[row]),
        )
        return
    if callback_data.days not in CODE_VALIDITY_DAYS:
        await query.answer(_("This button is no longer valid. Nothing was changed; open the menu again."), show_alert=True)
        return
    code = await actions.create_code(ctx, actor_id=query.from_user.id, action_id=action.id, days=callback_data.days)
    await query.answer()
    if query.message is not None and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await send_code(bot, query.from_user.id, ctx, fmt, action, code.code, until=code.expires_at)


async def fixed_qr(query: CallbackQuery, callback_data: FixedQr, ctx: Any, fmt: Fmt, bot: Bot) -> None:
    action = actions.action_of(ctx, callback_data.action, "code")
    if not action.code:
        await query.answer(_("This button is no longer valid. Nothing was changed; open the menu again."), show_alert=True)
        return
    await query.answer()
    await send_code(bot, query.from_user.id, ctx, fmt, action, action.code.upper(), until=None)


async def send_code(bot: Bot, chat_id: int, ctx: Any, fmt: Fmt, action: Any, code: str, *, until: Any) -> None:
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={PAYLOAD_PREFIX}{code}"
    lines = [
        _("🎟 Check-in code for {action}: {code}").format(action=fmt.name(action.name), code=fmt.code(code)),
        _("Valid until: {date}").format(date=last_day(fmt, until)) if until is not None else _("It works as long as "
                                                                                                "the program has it."),
        _("Print this QR: scanning it opens the bot and checks the member in (+{points}). "
          "They can also send /checkin {code}.").format(points=fmt.points(action.points), code=esc(code)),
    ]
    await send_picture(bot, ctx, chat_id, qr_card(link, code), kind="qr", filename=f"checkin-{code}.png",
                       caption="\n".join(lines))


def create_router() -> Router:
    router = Router(name="actions_admin")
    router.message.filter(IsOwner)
    router.callback_query.filter(IsOwner)
    router.message.register(show_actions, Command("actions"))
    router.callback_query.register(new_code, NewCode.filter())
    router.callback_query.register(fixed_qr, FixedQr.filter())
    return router
