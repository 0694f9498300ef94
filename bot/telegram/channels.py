"""Asking Telegram whether someone is in the merchant's channel (getChatMember),
turned into the fact the services work with (`ChannelMembership`).

Telegram lets a bot see a channel's members only when it is an
administrator there; otherwise getChatMember fails ("member list is
inaccessible", "chat not found", 403): that is UNAVAILABLE, and the owners
are told, at start-up and when a member's check runs into it.
"""
from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from bot.domain.actions import ChannelMembership, membership_from_status
from bot.services import actions
from bot.services.actions import MembershipCheck

log = logging.getLogger(__name__)


def membership_checker(bot: Bot) -> MembershipCheck:
    async def check(channel: str, user_id: int) -> ChannelMembership:
        try:
            member = await bot.get_chat_member(channel, user_id)
        except (TelegramAPIError, TelegramNetworkError) as exc:
            log.warning("getChatMember(%s, %s) failed: %s", channel, user_id, exc)
            return ChannelMembership.UNAVAILABLE
        return membership_from_status(str(member.status), is_member=getattr(member, "is_member", None))

    return check


async def bot_is_admin(bot: Bot, channel: str) -> bool:
    """Whether the bot can see the channel's members (it is an administrator there)."""
    try:
        me = await bot.me()
        member = await bot.get_chat_member(channel, me.id)
    except (TelegramAPIError, TelegramNetworkError) as exc:
        log.warning("getChatMember(%s, bot) failed: %s", channel, exc)
        return False
    return str(member.status) in ("administrator", "creator")


async def check_channels(ctx: Any, bot: Bot) -> list[str]:
    """At start-up: tell the owners about every channel action whose check cannot work.
    Returns the channels the bot cannot see into."""
    broken = []
    for action in ctx.program.actions:
        if action.verify == "channel" and action.channel and not await bot_is_admin(bot, action.channel):
            broken.append(action.channel)
            await actions.report_channel_unavailable(ctx, action.id)
    return broken
