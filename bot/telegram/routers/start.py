"""/start: join in one step, then optional extras offered with buttons (SPEC §3)."""
from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from bot.domain.actions import code_from_payload
from bot.domain.referrals import referral_code_from_payload
from bot.services import claims, members
from bot.services import program as program_store
from bot.telegram.edits import already_done, answer_quietly, edit_or_done, keyboard_gone
from bot.telegram.render import Fmt, esc
from bot.telegram.routers import birthday, earn
from bot.telegram.routers.referrals import start_note


class Consent(CallbackData, prefix="consent"):
    opt_in: bool


def consent_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("🔔 Yes, send me offers"), callback_data=Consent(opt_in=True).pack()),
                InlineKeyboardButton(text=_("No, thanks"), callback_data=Consent(opt_in=False).pack()),
            ]
        ]
    )


def phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)], [KeyboardButton(text=_("Not now"))]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def display_name(user_first_name: str | None) -> str:
    return esc(user_first_name) if user_first_name else _("friend")


async def start(message: Message, command: CommandObject, ctx: Any, fmt: Fmt, lang: str, role: str = "customer") -> None:
    assert message.from_user is not None
    user = message.from_user
    offer_setup = None
    if role == "owner" and not command.args and await program_store.needs_setup(ctx):
        offer_setup = _("Welcome to Wafa, {name}! Your shop has no program yet. Send /setup: a few questions about "
                        "your shop's name, currency, points and tiers, and your customers can join.").format(
            name=display_name(user.first_name))
    profile = members.TelegramProfile(user.id, user.first_name, user.last_name, user.username, lang)
    joined = await members.enrol(ctx, profile, referral_code=referral_code_from_payload(command.args))
    member = joined.member
    merchant = fmt.name(ctx.program.name)
    note = start_note(joined.referral, fmt)
    checkin_code = code_from_payload(command.args)
    if not joined.created:
        if checkin_code is not None:  # a member scanning an event's QR: just the check-in
            await earn.checkin_from_link(message, ctx, fmt, checkin_code)
            return
        welcome_back = _("Welcome back to {merchant}, {name}! Your balance is {balance}. /balance shows your card.").format(
            merchant=merchant, name=display_name(user.first_name), balance=fmt.points(member.balance)
        )
        await message.answer("\n\n".join(filter(None, [welcome_back, note])))
        return
    lines = [] if offer_setup is None else [offer_setup]
    lines += [
        _("Welcome to {merchant}, {name}! 🎉 You are a member now.").format(
            merchant=merchant, name=display_name(user.first_name)
        ),
        _("Your member code is {code}. Show it at the counter to earn points on every purchase.").format(
            code=fmt.code(member.code)
        ),
    ]
    if joined.bonus:
        lines.append(_("Here are {bonus} to welcome you.").format(bonus=fmt.points(joined.bonus)))
    if note:
        lines.append(note)
    lines.append(_("Would you like to hear about offers and rewards? You can change this any time."))
    await message.answer("\n\n".join(lines), reply_markup=consent_keyboard())
    await message.answer(
        _("Optional: share your phone number so the cashier can find you by it."), reply_markup=phone_keyboard()
    )
    await message.answer(birthday.welcome_offer(ctx, fmt), reply_markup=birthday.ask_keyboard())
    if checkin_code is not None:
        await earn.checkin_from_link(message, ctx, fmt, checkin_code)


async def choose_consent(query: CallbackQuery, callback_data: Consent, ctx: Any) -> None:
    # Setting a flag to the same value twice is harmless, so a double tap needs no token.
    member = await members.set_marketing_consent(ctx, query.from_user.id, callback_data.opt_in)
    if member is None:
        await query.answer(_("You are not a member yet. Send /start to join: it takes one tap."), show_alert=True)
        return
    text = (
        _("🔔 Done: you will hear about offers and rewards.")
        if callback_data.opt_in
        else _("Done: no offers. You will still get messages about your points and vouchers.")
    )
    if keyboard_gone(query):
        await already_done(query)  # a double tap: the first one answered already
        return
    if isinstance(query.message, Message):
        if not await edit_or_done(query, query.message.edit_reply_markup(reply_markup=None)):
            return
        await answer_quietly(query)
        await query.message.answer(text)
        return
    await answer_quietly(query)


async def share_phone(message: Message, ctx: Any, fmt: Fmt) -> None:
    assert message.contact is not None and message.from_user is not None
    if message.contact.user_id != message.from_user.id:
        # Someone else's contact card: a phone is only kept when it is the member's own.
        await message.answer(_("Please share your own number with the button below."), reply_markup=phone_keyboard())
        return
    shared = await claims.share_phone(ctx, message.from_user.id, message.contact.phone_number)
    if shared is None:
        await message.answer(
            _("You are not a member yet. Send /start to join: it takes one tap."), reply_markup=ReplyKeyboardRemove()
        )
        return
    lines = [_("📱 Saved. The cashier can now find you by your phone number.")]
    if shared.claimed:
        lines.append(
            ngettext(
                "🎁 {points} from an earlier purchase waited for this number and are yours now. Your balance is {balance}.",
                "🎁 {points} from {count} earlier purchases waited for this number and are yours now. "
                "Your balance is {balance}.",
                shared.orders,
            ).format(
                points=fmt.points(shared.claimed), count=fmt.num(shared.orders), balance=fmt.points(shared.member.balance)
            )
        )
    await message.answer("\n\n".join(lines), reply_markup=ReplyKeyboardRemove())


async def skip_phone(message: Message) -> None:
    await message.answer(_("No problem. Your member code works just as well."), reply_markup=ReplyKeyboardRemove())


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, Command("start"))
    router.callback_query.register(choose_consent, Consent.filter())
    router.message.register(share_phone, F.contact)
    router.message.register(skip_phone, F.text == __("Not now"))
    return router
