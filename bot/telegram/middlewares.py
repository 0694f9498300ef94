"""Per-update context: who is writing (role, member, language), in private chats only."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
    User,
)
from aiogram.utils.i18n import gettext as _

from bot.i18n import telegram_language
from bot.services import program as program_store
from bot.telegram.render import Fmt

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserContext(BaseMiddleware):
    """Loads the member and role for the sender, once per update.

    Puts into handler data: `member` (or None), `role` (owner | staff |
    customer), `lang` and `fmt`. Owners come from ADMIN_IDS, staff from the
    database.
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        member = None
        role = "customer"
        if user is not None and not user.is_bot:
            async with self.ctx.uow(readonly=True) as uow:
                await program_store.refresh(self.ctx, uow)  # a version saved on another replica
                member, is_staff = await uow.members.with_staff_flag(user.id)  # one query for both
                if user.id in self.ctx.owners:
                    role = "owner"
                elif is_staff or (is_staff is None and await uow.staff.is_staff(user.id)):
                    role = "staff"
        default = self.ctx.settings.default_language
        lang = member.language if member is not None else telegram_language(user.language_code if user else None, default)
        data.update(member=member, role=role, lang=lang, fmt=Fmt(lang, self.ctx.program.display, self.ctx.zone))
        return await handler(event, data)


class PrivateChatsOnly(BaseMiddleware):
    """Wafa is a one-to-one assistant (SPEC §8: groups and channels are bad input).

    A command typed in a group gets one pointer to the private chat; other
    group chatter and channel posts are ignored, silently and safely.
    """

    def __init__(self, i18n: Any) -> None:
        self.i18n = i18n

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        message = event.message or event.edited_message or event.channel_post or event.edited_channel_post
        if message is not None and message.chat.type != "private":
            if event.message is not None and (message.text or "").startswith("/") and message.from_user:
                await _point_to_private_chat(message, data["bot"], self.i18n)
            return None
        query = event.callback_query
        if query is not None and query.message is not None and query.message.chat.type != "private":
            return None
        return await handler(event, data)


async def _point_to_private_chat(message: Message, bot: Bot, i18n: Any) -> None:
    me = await bot.me()
    lang = telegram_language(message.from_user.language_code if message.from_user else None, i18n.default_locale)
    with i18n.context(), i18n.use_locale(lang):
        text = _("I work in a private chat, so your points stay private. Tap below to talk to me.")
        button = _("Open a private chat")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=button, url=f"https://t.me/{me.username}?start=group")]]
    )
    await message.reply(text, reply_markup=markup)

