"""Last router: anything nobody handled gets a short, friendly pointer (SPEC §3, §8).

Unknown commands, plain text, stickers, photos, voice, edits, and buttons
from menus that no longer exist. Admin commands from users without the role
land here too and get exactly the unknown-command answer.
"""
from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


async def nothing_to_cancel(message: Message, state: FSMContext) -> None:
    """/cancel that no conversation took: end a stray state, or say there is nothing."""
    if await state.get_state() is not None:
        await state.clear()
        await message.answer(_("Cancelled. Nothing was changed."))
        return
    await message.answer(_("There is nothing to cancel."))


async def unknown_command(message: Message) -> None:
    await message.answer(_("I don't know that command. Send /help to see what I can do."))


async def anything_else(message: Message) -> None:
    await message.answer(_("I didn't catch that. Send /help to see what I can do."))


async def edited(message: Message) -> None:
    # Re-running an edited command could award a purchase twice: edits never act.
    await message.answer(_("I don't act on edited messages. Please send a new message instead."))


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer valid. Nothing was changed; open the menu again."), show_alert=True)


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(nothing_to_cancel, Command("cancel"))
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(anything_else)
    router.edited_message.register(edited)
    router.callback_query.register(stale_button)
    return router
