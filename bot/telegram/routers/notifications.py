"""/notifications: offers and news on or off (SPEC §3); and noticing when a
member blocks the bot or comes back (SPEC §5)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
)
from aiogram.utils.i18n import gettext as _

from bot.domain.digits import to_latin
from bot.domain.errors import NotAMember
from bot.services import members, reachability
from bot.telegram.edits import answer_quietly, edit_or_done
from bot.telegram.render import esc

_ON = {"on", "yes", "1", "روشن", "بله", "تشغيل", "نعم"}
_OFF = {"off", "no", "0", "خاموش", "نه", "خیر", "إيقاف", "ايقاف", "لا"}


class Offers(CallbackData, prefix="notif"):
    on: bool


def state_text(opt_in: bool) -> str:
    if opt_in:
        return _(
            "🔔 Offers and news are on: you hear about rewards, birthdays and special offers.\n"
            "Messages about your points and vouchers always arrive."
        )
    return _(
        "🔕 Offers and news are off: no promotions.\n"
        "Messages about your points, vouchers and your birthday still arrive."
    )


def toggle_keyboard(opt_in: bool) -> InlineKeyboardMarkup:
    button = (
        InlineKeyboardButton(text=_("🔕 Turn offers off"), callback_data=Offers(on=False).pack())
        if opt_in
        else InlineKeyboardButton(text=_("🔔 Turn offers on"), callback_data=Offers(on=True).pack())
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def show_notifications(message: Message, command: CommandObject, member: Any, ctx: Any) -> None:
    if member is None:
        raise NotAMember()
    arg = to_latin(command.args or "").lower()
    if arg:
        if arg not in _ON | _OFF:
            await message.answer(esc(_("Usage: /notifications, or /notifications on | off")))
            return
        member = await members.set_marketing_consent(ctx, member.telegram_id, arg in _ON)
        if member is None:
            raise NotAMember()
        await message.answer(state_text(member.marketing_opt_in))
        return
    await message.answer(state_text(member.marketing_opt_in), reply_markup=toggle_keyboard(member.marketing_opt_in))


async def toggle(query: CallbackQuery, callback_data: Offers, ctx: Any) -> None:
    # Setting the flag to the value on the button is idempotent: a double tap needs no token.
    member = await members.set_marketing_consent(ctx, query.from_user.id, callback_data.on)
    if member is None:
        raise NotAMember()
    if isinstance(query.message, Message):
        edit = query.message.edit_text(state_text(member.marketing_opt_in), reply_markup=toggle_keyboard(member.marketing_opt_in))
        if not await edit_or_done(query, edit):  # an old button pressed again: the card already says so
            return
    await answer_quietly(query)


async def membership_changed(event: ChatMemberUpdated, ctx: Any) -> None:
    """Telegram tells the bot when a user blocks it (kicked) or restarts it (member)."""
    if event.chat.type != "private":
        return
    status = event.new_chat_member.status
    if status in ("kicked", "left"):
        await reachability.set_blocked(ctx, event.chat.id, True)
    elif status == "member":
        await reachability.set_blocked(ctx, event.chat.id, False)


class ReachableAgain(BaseMiddleware):
    """A member marked as blocking the bot who writes to it (or taps a button) is reachable again.

    Runs after `UserContext`, which loads `member`. Telegram usually sends a
    `my_chat_member` update as well; this covers clients and servers that do not.
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        member = data.get("member")
        if (
            member is not None
            and member.blocked_at is not None
            and isinstance(event, Update)
            and (event.message is not None or event.callback_query is not None)
        ):
            await reachability.set_blocked(self.ctx, member.telegram_id, False)
            member.blocked_at = None
        return await handler(event, data)


def create_router() -> Router:
    router = Router(name="notifications")
    router.message.register(show_notifications, Command("notifications"))
    router.callback_query.register(toggle, Offers.filter())
    router.my_chat_member.register(membership_changed)
    return router
