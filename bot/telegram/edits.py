"""Replacing the message a button was pressed on."""
from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def replace_message(query: CallbackQuery, bot: Bot, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Edit the button's message in place; a message too old to edit (or a
    photo) gets a new one instead, and an edit that changes nothing is fine."""
    if isinstance(query.message, Message) and query.message.text is not None:
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                raise
        return
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)
