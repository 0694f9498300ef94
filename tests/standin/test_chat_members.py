"""The stand-in's getChatMember (SPEC §11 channel actions): member, left, and the bot
without admin rights, as Telegram answers them, through aiogram's own HTTP session and
in-process."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ChatMemberAdministrator, ChatMemberLeft, ChatMemberMember

from standin import DEFAULT_BOT_ID, BotAPIStandIn, StandInServer, StandInSession

TOKEN = f"{DEFAULT_BOT_ID}:stand-in-secret"
CHANNEL = -100777
USER, OTHER = 42, 43


@pytest.fixture
def core() -> BotAPIStandIn:
    core = BotAPIStandIn()
    core.user(USER, "Layla", language_code="ar")
    core.user(OTHER, "Omid", language_code="fa")
    core.channel(CHANNEL, "Shop news", username="shop_news")
    return core


@pytest.fixture(params=["http", "in-process"])
async def bot(request: pytest.FixtureRequest, core: BotAPIStandIn) -> AsyncIterator[Bot]:
    if request.param == "in-process":
        yield Bot(TOKEN, session=StandInSession(core))
        return
    async with StandInServer(core) as url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        yield Bot(TOKEN, session=session)
        await (await session.create_session()).close()


async def test_members_and_people_who_left(bot: Bot, core: BotAPIStandIn) -> None:
    core.join_chat(CHANNEL, USER)
    member = await bot.get_chat_member("@shop_news", USER)
    assert isinstance(member, ChatMemberMember) and member.user.id == USER
    assert isinstance(await bot.get_chat_member(CHANNEL, OTHER), ChatMemberLeft)  # never joined
    core.leave_chat(CHANNEL, USER)
    assert isinstance(await bot.get_chat_member("@SHOP_NEWS", USER), ChatMemberLeft)
    me = await bot.get_chat_member(CHANNEL, DEFAULT_BOT_ID)
    assert isinstance(me, ChatMemberAdministrator) and me.can_post_messages


async def test_without_admin_rights_the_member_list_is_inaccessible(bot: Bot, core: BotAPIStandIn) -> None:
    core.join_chat(CHANNEL, USER)
    core.set_bot_admin(CHANNEL, False)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_member(CHANNEL, USER)
    assert isinstance(await bot.get_chat_member(CHANNEL, DEFAULT_BOT_ID), ChatMemberLeft)
    core.set_bot_admin(CHANNEL, True)
    assert isinstance(await bot.get_chat_member(CHANNEL, USER), ChatMemberMember)


async def test_unknown_chats_and_users_are_bad_requests(bot: Bot, core: BotAPIStandIn) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member("@nowhere", USER)
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(CHANNEL, 999)
    assert isinstance(await bot.get_chat_member(USER, USER), ChatMemberMember)  # a private chat
