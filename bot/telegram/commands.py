"""The command menu: one list, used for `setMyCommands` in every language and for /help.

Only commands that exist are listed; a feature adds its line here when it
lands. Descriptions are functions so they translate at call time.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import LANGUAGES

log = logging.getLogger(__name__)
Audience = Literal["customer", "staff", "owner"]
_RANK = {"customer": 0, "staff": 1, "owner": 2}


@dataclass(frozen=True)
class MenuCommand:
    name: str
    describe: Callable[[], str]
    audience: Audience = "customer"
    usage: Callable[[], str] | None = None  # arguments, translated, shown in /help for admin commands


MENU: tuple[MenuCommand, ...] = (
    MenuCommand("balance", lambda: _("Your points, tier and member card")),
    MenuCommand("rewards", lambda: _("Rewards you can get with your points")),
    MenuCommand("history", lambda: _("Your points history")),
    MenuCommand("birthday", lambda: _("Tell us your birthday for a gift on the day")),
    MenuCommand("notifications", lambda: _("Offers and news: on or off")),
    MenuCommand("invite", lambda: _("Invite friends and earn points")),
    MenuCommand("earn", lambda: _("Every way to earn points")),
    MenuCommand("checkin", lambda: _("Check in with an event code")),
    MenuCommand("draws", lambda: _("Your entries in prize draws")),
    MenuCommand("feedback", lambda: _("Tell us how we are doing")),
    MenuCommand("language", lambda: _("Change the language")),
    MenuCommand("help", lambda: _("What I can do")),
    MenuCommand("start", lambda: _("Join or show the welcome again")),
    MenuCommand("mydata", lambda: _("Get a copy of your data")),
    MenuCommand("forget", lambda: _("Erase your data")),
    MenuCommand("award", lambda: _("Record a purchase and give points"), "staff", lambda: _("<member> <amount> [note]")),
    MenuCommand("member", lambda: _("Look up a member"), "staff", lambda: _("<member>")),
    MenuCommand("redeem", lambda: _("Check a voucher and mark it used"), "staff", lambda: _("<voucher>")),
    MenuCommand("stamp", lambda: _("Add stamps to a member's card"), "staff", lambda: _("<member> [n]")),
    MenuCommand("adjust", lambda: _("Correct a member's points"), "owner", lambda: _("<member> <±points> <reason>")),
    MenuCommand("campaign", lambda: _("Start or end a points multiplier"), "owner", lambda: _("<multiplier> <duration> | off")),
    MenuCommand("setup", lambda: _("Set up the program: name, currency, points, tiers"), "owner"),
    MenuCommand("program", lambda: _("The program in force"), "owner"),
    MenuCommand("rewards_admin", lambda: _("Add, edit or pause rewards"), "owner"),
    MenuCommand("setbirthday", lambda: _("Correct a member's birthday"), "staff", lambda: _("<member> <date> [calendar]")),
    MenuCommand("broadcast", lambda: _("Send a message to a group of members"), "owner"),
    MenuCommand("stats", lambda: _("Program KPIs with a chart"), "owner", lambda: _("[days]")),
    MenuCommand("export", lambda: _("Members, ledger and surveys as CSV files"), "owner"),
    MenuCommand("staff", lambda: _("List, add or remove staff"), "owner", lambda: _("[add|remove <user id>]")),
    MenuCommand("actions", lambda: _("Earning actions and check-in codes"), "owner"),
    MenuCommand("surprise", lambda: _("Surprise random members with a gift"), "owner",
                lambda: _("<segment> <count> <points|reward id>")),
    MenuCommand("draw", lambda: _("Set up a prize draw"), "owner"),
)


def menu_for(role: str) -> list[MenuCommand]:
    rank = _RANK.get(role, 0)
    return [c for c in MENU if _RANK[c.audience] <= rank]


def bot_commands(role: str) -> list[BotCommand]:
    return [BotCommand(command=c.name, description=c.describe()[:256]) for c in menu_for(role)]


async def publish_menus(bot: Bot, i18n: I18n, default_language: str, chats: Iterable[ChatMenu]) -> None:
    """Translated default menus, plus per-chat menus for admins and for members
    who chose a language other than their Telegram app's.

    Failures are logged, not raised: a menu is a convenience, and a chat that
    has never talked to the bot rejects chat-scoped commands.
    """
    calls: list[tuple[BotCommandScopeDefault | BotCommandScopeChat, str | None, list[BotCommand]]] = []
    with i18n.context():
        for lang in LANGUAGES:
            with i18n.use_locale(lang):
                calls.append((BotCommandScopeDefault(), lang, bot_commands("customer")))
        with i18n.use_locale(default_language):
            calls.append((BotCommandScopeDefault(), None, bot_commands("customer")))
        for chat in chats:
            calls.extend(_chat_calls(i18n, chat))
    await _send(bot, calls)


@dataclass(frozen=True)
class ChatMenu:
    chat_id: int
    role: str
    language: str | None  # None: follow the Telegram app's language


def _chat_calls(i18n: I18n, chat: ChatMenu) -> list[tuple[BotCommandScopeChat, str | None, list[BotCommand]]]:
    # Telegram prefers chat+language over chat over default+language, so a
    # chosen language is written into every chat slot to win everywhere.
    scope = BotCommandScopeChat(chat_id=chat.chat_id)
    calls = []
    for slot in (None, *LANGUAGES):
        lang = chat.language or slot or i18n.default_locale
        with i18n.use_locale(lang):
            calls.append((scope, slot, bot_commands(chat.role)))
    return calls


async def publish_chat_menu(bot: Bot, i18n: I18n, chat: ChatMenu) -> None:
    with i18n.context():
        calls = _chat_calls(i18n, chat)
    await _send(bot, calls)


async def _send(bot: Bot, calls: list) -> None:  # type: ignore[type-arg]
    for scope, lang, commands in calls:
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=lang)
        except TelegramAPIError as exc:
            log.warning("setMyCommands(%s, %s) failed: %s", scope.type, lang, exc)
