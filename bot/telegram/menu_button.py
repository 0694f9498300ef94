"""The chat's side of the Mini App (SPEC §10): with PUBLIC_URL set, the menu
button and /balance's "open card" button open it; without it nothing changes."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import gettext as _

from bot.telegram.i18n import CatalogI18n

log = logging.getLogger(__name__)


def app_url(public_url: str) -> str:
    return public_url.rstrip("/") + "/app/"


def open_card_button(public_url: str | None) -> InlineKeyboardMarkup | None:
    """/balance's "open card" button, with PUBLIC_URL set; else None (nothing changes)."""
    if not public_url:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("📱 Open my card"), web_app=WebAppInfo(url=app_url(public_url)))]]
    )


async def set_menu_button(bot: Bot, i18n: CatalogI18n, public_url: str | None, default_language: str) -> bool:
    """The chat's menu button opens the Mini App (setChatMenuButton with a web_app)."""
    if not public_url:
        return False
    with i18n.context(), i18n.use_locale(default_language):
        text = _("My card")
    try:
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text=text, web_app=WebAppInfo(url=app_url(public_url))))
    except Exception as exc:  # a convenience: the chat keeps working without it
        log.warning("setChatMenuButton failed: %s", exc)
        return False
    return True

