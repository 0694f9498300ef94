"""Replacing the message a button was pressed on, and double taps.

A double tap is two callback queries for one button: the second one finds the
message already edited. Telegram then answers the edit with "message is not
modified", and a query answered late with "query is too old": neither is a
failure, so the second tap is told "Already done." quietly and nothing is logged
as an error.
"""
from __future__ import annotations

from collections.abc import Awaitable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _


def not_modified(exc: TelegramBadRequest) -> bool:
    return "message is not modified" in exc.message


def query_too_old(exc: TelegramBadRequest) -> bool:
    return "query is too old" in exc.message or "query ID is invalid" in exc.message


async def answer_quietly(query: CallbackQuery, text: str | None = None) -> None:
    """Answer the button (no alert); a query Telegram no longer knows is fine."""
    try:
        await query.answer(text)
    except TelegramBadRequest as exc:
        if not query_too_old(exc):
            raise


async def already_done(query: CallbackQuery) -> None:
    await answer_quietly(query, _("Already done."))


def keyboard_gone(query: CallbackQuery) -> bool:
    """The pressed message no longer has buttons: an earlier tap already acted."""
    return isinstance(query.message, Message) and query.message.reply_markup is None


async def edit_or_done(query: CallbackQuery, edit: Awaitable[object]) -> bool:
    """Run `edit` on the pressed message; False (and "Already done.") when it
    already showed that: the second tap of a double tap."""
    try:
        await edit
    except TelegramBadRequest as exc:
        if not not_modified(exc):
            raise
        await already_done(query)
        return False
    return True


async def replace_message(query: CallbackQuery, bot: Bot, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Edit the button's message in place; a message too old to edit (or a
    photo) gets a new one instead, and an edit that changes nothing is fine."""
    if isinstance(query.message, Message) and query.message.text is not None:
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as exc:
            if not not_modified(exc):
                raise
        return
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)
