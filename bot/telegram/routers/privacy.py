"""/mydata and /forget: a member's copy of their data, and erasure (SPEC §3)."""
from __future__ import annotations

import json
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import NotAMember
from bot.services import privacy
from bot.telegram.render import Fmt

KEEP = "keep"


class ForgetChoice(CallbackData, prefix="forget"):
    token: str  # the one-time token, or KEEP


def forget_keyboard(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("🗑 Erase my data"), callback_data=ForgetChoice(token=token).pack())],
            [InlineKeyboardButton(text=_("Keep my account"), callback_data=ForgetChoice(token=KEEP).pack())],
        ]
    )


async def send_my_data(message: Message, ctx: Any, member: Any) -> None:
    data = await privacy.export_member_data(ctx, member)  # raises NotAMember for non-members
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(body, filename=f"wafa-my-data-{member.code}.json"),
        caption=_("Here is everything we store about you."),
    )


async def ask_to_forget(message: Message, ctx: Any, member: Any, fmt: Fmt) -> None:
    if member is None:
        raise NotAMember()
    token = await privacy.offer_forget(ctx, member)
    await message.answer(
        _(
            "This erases your name, username, phone number, birthday and Telegram id from our records. "
            "Your {points} and any unused vouchers will be lost. An anonymous history of points stays for "
            "the shop's accounts. This cannot be undone."
        ).format(points=fmt.points(member.balance)),
        reply_markup=forget_keyboard(token),
    )


async def choose_forget(query: CallbackQuery, callback_data: ForgetChoice, ctx: Any, state: FSMContext) -> None:
    if callback_data.token == KEEP:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("Nothing was erased. Your account stays as it is."))
        return
    await privacy.forget_member(ctx, query.from_user.id, token=callback_data.token)
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Done: your personal data is erased. If you send /start again, you will join as a new member.")
        )


def create_router() -> Router:
    router = Router(name="privacy")
    router.message.register(send_my_data, Command("mydata"))
    router.message.register(ask_to_forget, Command("forget"))
    router.callback_query.register(choose_forget, ForgetChoice.filter())
    return router
