"""/language: switch between العربية, فارسی and English (SPEC §3)."""
from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import NotAMember
from bot.i18n import LANGUAGE_NAMES, LANGUAGES
from bot.services import members
from bot.telegram.commands import ChatMenu, publish_chat_menu
from bot.telegram.edits import already_done, answer_quietly, edit_or_done, keyboard_gone


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(
            text=("✓ " if code == current else "") + LANGUAGE_NAMES[code],
            callback_data=LanguageChoice(code=code).pack(),
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])


async def show_languages(message: Message, member: Any, lang: str) -> None:
    if member is None:
        raise NotAMember()
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard(lang))


async def choose_language(
    query: CallbackQuery, callback_data: LanguageChoice, ctx: Any, role: str, bot: Bot, i18n: I18n
) -> None:
    if callback_data.code not in LANGUAGES:
        await query.answer(_("This button is no longer valid. Nothing was changed; open the menu again."), show_alert=True)
        return
    if not await members.set_language(ctx, query.from_user.id, callback_data.code):
        raise NotAMember()
    # Answer in the language just chosen, not the one this update started in.
    with i18n.use_locale(callback_data.code):
        if keyboard_gone(query):
            await already_done(query)  # a double tap
            return
        if isinstance(query.message, Message):
            done = _("Done: I will speak {language} with you.").format(language=LANGUAGE_NAMES[callback_data.code])
            if not await edit_or_done(query, query.message.edit_text(done, reply_markup=None)):
                return
        await answer_quietly(query)
    await publish_chat_menu(bot, i18n, ChatMenu(query.from_user.id, role, callback_data.code))


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(show_languages, Command("language"))
    router.callback_query.register(choose_language, LanguageChoice.filter())
    return router
