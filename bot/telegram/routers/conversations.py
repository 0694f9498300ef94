"""Leaving a conversation: any command ends the birthday or broadcast
conversation (or the prize-draw set-up) in progress, then does what it says; /cancel just ends it.

First in the router list, so `/start` typed halfway through a broadcast is
not read as the broadcast's text. Conversations of other features are left
to their own rules.
"""
from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.telegram.routers.birthday import BirthdayForm
from bot.telegram.routers.broadcast import BroadcastForm
from bot.telegram.routers.draws import DrawForm
from bot.telegram.routers.setup import SetupForm

OURS = StateFilter(BirthdayForm, BroadcastForm, DrawForm, SetupForm)


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled. Nothing was changed."))


async def leave_on_command(message: Message, state: FSMContext) -> bool:
    """A filter that ends our conversation and never matches, so the command
    then runs as usual in its own router (a handler raising SkipHandler would
    be caught by the error middleware as a failure)."""
    await state.clear()
    return False


def create_router() -> Router:
    router = Router(name="conversations")
    router.message.register(cancel, OURS, Command("cancel"))
    router.message.register(cancel, OURS, F.text.startswith("/"), leave_on_command)
    return router
