"""The Bot API stand-in, driven by a real aiogram Bot over HTTP and in-process.

Most tests run twice (``bot`` fixture): once through aiogram's own
AiohttpSession against StandInServer on loopback, once through StandInSession,
so both transports are held to the same Telegram behaviour.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import ClientSession
from PIL import Image

from standin import (
    DEFAULT_BOT_ID,
    BotAPIStandIn,
    BotMessage,
    EntityParseError,
    StandInServer,
    StandInSession,
    image_dimensions,
    parse_html,
    solid_png,
)
from standin.text import trim

TOKEN = f"{DEFAULT_BOT_ID}:stand-in-secret"
USER = 42


def plain(value: Any) -> Any:
    """A received aiogram object as data (received objects carry their Bot, so == would differ)."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value.model_dump(exclude_none=True) if value is not None else None


def keyboard(*callback_data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=data.title(), callback_data=data) for data in callback_data]]
    )


@pytest.fixture
def core() -> BotAPIStandIn:
    core = BotAPIStandIn()
    core.user(USER, "Layla", language_code="ar")
    return core


@pytest.fixture
def session_bot(core: BotAPIStandIn) -> Bot:
    return Bot(TOKEN, session=StandInSession(core))


@pytest.fixture(params=["http", "in-process"])
async def bot(request: pytest.FixtureRequest, core: BotAPIStandIn) -> AsyncIterator[Bot]:
    if request.param == "in-process":
        yield Bot(TOKEN, session=StandInSession(core))
        return
    async with StandInServer(core) as url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        yield Bot(TOKEN, session=session)
        # Closing the client directly skips AiohttpSession.close()'s 250 ms TLS grace sleep.
        await (await session.create_session()).close()


# --------------------------------------------------------------------------- both transports


async def test_get_me_describes_the_configured_bot(bot: Bot, core: BotAPIStandIn) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.first_name, me.is_bot) == (core.bot_id, "wafa_demo_bot", "Wafa", True)


async def test_html_message_with_inline_keyboard_round_trips(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "/start")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Points", callback_data="points"),
                InlineKeyboardButton(text="Site", url="https://example.com/"),
            ]
        ]
    )

    sent = await bot.send_message(USER, "<b>Hi</b> Layla &amp; co 😀", parse_mode="HTML", reply_markup=markup)

    assert sent.text == "Hi Layla & co 😀"
    assert plain(sent.entities) == [{"type": "bold", "offset": 0, "length": 2}]
    assert plain(sent.reply_markup) == plain(markup)
    assert sent.from_user is not None and sent.from_user.id == core.bot_id
    assert sent.message_id == 2  # the user's /start was message 1 of this chat
    [stored] = core.messages(USER)
    assert (stored.text, stored.raw_text, stored.parse_mode) == (sent.text, "<b>Hi</b> Layla &amp; co 😀", "HTML")
    assert core.buttons(stored) == [("Points", "points"), ("Site", "https://example.com/")]


async def test_text_over_4096_utf16_units_is_refused(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")

    await bot.send_message(USER, "😀" * 2048)  # exactly 4096 UTF-16 units
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # tags do not count
    for too_long in ("a" * 4097, "😀" * 2049):
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(USER, too_long)
    assert len(core.messages(USER)) == 2


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")

    await bot.send_message(USER, "fits", reply_markup=keyboard("ب" * 32))  # 64 bytes of UTF-8
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "too long", reply_markup=keyboard("ب" * 32 + "x"))
    assert [message.text for message in core.messages(USER)] == ["fits"]


async def test_malformed_html_is_refused(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")

    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag \"br\""):
        await bot.send_message(USER, "line<br>line", parse_mode="HTML")
    assert core.messages(USER) == []


async def test_injected_flood_error_raises_retry_after_once(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")
    core.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "first")
    await bot.send_message(USER, "second")

    assert caught.value.retry_after == 7
    assert [message.text for message in core.messages(USER)] == ["second"]


async def test_blocked_user_is_forbidden_until_they_write_again(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "/start")
    core.block(USER)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "promo")
    core.send_text(USER, "hello again")
    await bot.send_message(USER, "welcome back")

    kinds = [next(key for key in update if key != "update_id") for update in core.pending_updates()]
    assert kinds == ["message", "my_chat_member", "my_chat_member", "message"]
    assert [message.text for message in core.messages(USER)] == ["welcome back"]


async def test_get_updates_confirms_by_offset_and_long_polls(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "/start@wafa_demo_bot ref42")

    [first] = await bot.get_updates()
    assert first.message is not None and first.message.text == "/start@wafa_demo_bot ref42"
    assert plain(first.message.entities) == [{"type": "bot_command", "offset": 0, "length": 20}]
    assert len(await bot.get_updates()) == 1  # unconfirmed, so delivered again

    poll = asyncio.create_task(bot.get_updates(offset=first.update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    assert core.pending_updates() == []  # the offset confirmed it
    assert not poll.done()
    started = time.monotonic()
    core.send_text(USER, "hello")
    [second] = await asyncio.wait_for(poll, 2)

    assert time.monotonic() - started < 1
    assert second.update_id == first.update_id + 1
    assert second.message is not None and second.message.text == "hello"


async def test_pressing_a_button_delivers_a_callback_query(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "/start")
    [start] = await bot.get_updates()
    sent = await bot.send_message(USER, "Pick one", reply_markup=keyboard("points", "help"))

    core.press(USER, sent.message_id, "points")
    [update] = await bot.get_updates(offset=start.update_id + 1)

    query = update.callback_query
    assert query is not None and query.data == "points" and query.from_user.id == USER
    assert isinstance(query.message, Message) and query.message.text == "Pick one"
    assert plain(query.message.reply_markup) == plain(keyboard("points", "help"))
    await bot.answer_callback_query(query.id, text="Done", show_alert=True)
    assert [(a.data, a.text, a.show_alert) for a in core.answered_callbacks] == [("points", "Done", True)]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_send_photo_stores_the_uploaded_bytes_and_serves_them(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")
    png = solid_png(30, 20)

    sent = await bot.send_photo(
        USER, BufferedInputFile(png, "card.png"), caption="<i>Your card</i>", parse_mode="HTML"
    )

    assert sent.photo is not None and (sent.photo[-1].width, sent.photo[-1].height) == (30, 20)
    assert sent.caption == "Your card"
    assert plain(sent.caption_entities) == [{"type": "italic", "offset": 0, "length": 9}]
    [stored] = core.messages(USER)
    assert (stored.kind, stored.filename, stored.photo) == ("photo", "card.png", png)
    downloaded = await bot.download(sent.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == png


async def test_commands_are_recorded_per_scope_and_language(bot: Bot, core: BotAPIStandIn) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands([BotCommand(command="start", description="شروع")], language_code="fa")
    await bot.set_my_commands(
        [BotCommand(command="points", description="نقاطي")], scope=BotCommandScopeAllPrivateChats(), language_code="ar"
    )

    assert core.commands == {
        ("default", ""): [{"command": "start", "description": "Start"}],
        ("default", "fa"): [{"command": "start", "description": "شروع"}],
        ("all_private_chats", "ar"): [{"command": "points", "description": "نقاطي"}],
    }
    assert [command.description for command in await bot.get_my_commands(language_code="fa")] == ["شروع"]
    assert await bot.get_my_commands(language_code="en") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Points", description="Upper case")])
    with pytest.raises(TelegramBadRequest, match="invalid language code specified"):
        await bot.set_my_commands([BotCommand(command="start", description="Start")], language_code="fas")


async def test_rate_limit_answers_429_beyond_the_per_chat_cap(bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")
    core.rate_limit(per_chat_per_second=2)

    await bot.send_message(USER, "one")
    await bot.send_message(USER, "two")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "three")

    assert caught.value.retry_after >= 1
    assert core.sends_per_chat[USER] == 2


# --------------------------------------------------------------------------- in-process details


async def test_global_rate_limit_spans_chats(session_bot: Bot, core: BotAPIStandIn) -> None:
    core.user(7, "Omid")
    core.send_text(USER, "hi")
    core.send_text(7, "salam")
    core.rate_limit(global_per_second=3)

    for chat_id in (USER, USER, 7):
        await session_bot.send_message(chat_id, "news")
    with pytest.raises(TelegramRetryAfter):
        await session_bot.send_message(7, "news")

    assert core.sends_per_chat == {USER: 2, 7: 1}


async def test_injected_failure_can_target_one_chat(session_bot: Bot, core: BotAPIStandIn) -> None:
    core.user(7, "Omid")
    core.send_text(USER, "hi")
    core.send_text(7, "salam")
    core.fail_next("sendmessage", 403, "Forbidden: user is deactivated", chat_id=7)

    await session_bot.send_message(USER, "delivered")
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await session_bot.send_message(7, "lost")

    assert [message.text for message in core.sent] == ["delivered"]


async def test_bot_cannot_start_a_conversation(session_bot: Bot) -> None:
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await session_bot.send_message(USER, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await session_bot.send_message(999, "hi")


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Terms & conditions", 'Character "&" at byte offset 6 starts no HTML entity'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_html_errors_use_telegrams_reasons(
    session_bot: Bot, core: BotAPIStandIn, markup: str, reason: str
) -> None:
    core.send_text(USER, "hi")

    with pytest.raises(TelegramBadRequest) as caught:
        await session_bot.send_message(USER, markup, parse_mode="HTML")

    assert caught.value.message.startswith("Bad Request: can't parse entities: " + reason)


async def test_lenient_ampersand_matches_telegram(session_bot: Bot, core: BotAPIStandIn) -> None:
    core.strict_ampersand = False
    core.send_text(USER, "hi")

    sent = await session_bot.send_message(USER, "Terms & conditions &ge; 1", parse_mode="HTML")

    assert sent.text == "Terms & conditions &ge; 1"


async def test_edits_deletes_and_listeners(session_bot: Bot, core: BotAPIStandIn) -> None:
    seen: list[tuple[str, bool, bool]] = []
    core.add_listener(lambda message: seen.append((message.text, message.edited, message.deleted)))
    core.send_text(USER, "hi")
    sent = await session_bot.send_message(USER, "Balance: 10", reply_markup=keyboard("refresh"))

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await session_bot.edit_message_text(
            "Balance: 10", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("refresh")
        )
    edited = await session_bot.edit_message_text("Balance: 20", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await session_bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await session_bot.edit_message_text("x", chat_id=USER, message_id=1)  # the user's own message
    await session_bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await session_bot.delete_message(USER, sent.message_id)

    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert edited.edit_date is not None
    assert seen == [("Balance: 10", False, False), ("Balance: 20", True, False), ("Balance: 20", True, True)]


async def test_press_only_accepts_existing_buttons_but_press_raw_forges(core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")
    _, body = await core.handle(
        "sendMessage", {"chat_id": str(USER), "text": "Pick", "reply_markup": keyboard("a").model_dump_json()}
    )
    message_id = body["result"]["message_id"]

    with pytest.raises(ValueError, match="no button with callback_data 'admin:grant'"):
        core.press(USER, message_id, "admin:grant")
    forged = core.press_raw(USER, message_id, "admin:grant")

    assert core.pending_updates()[-1]["callback_query"]["data"] == forged["data"] == "admin:grant"


async def test_user_side_updates_parse_in_aiogram(session_bot: Bot, core: BotAPIStandIn) -> None:
    said = core.send_text(USER, "typo")
    core.edit_text(USER, said["message_id"], "/points")
    core.send_contact(USER, "989121234567")
    core.send_sticker(USER)
    core.send_photo(USER, caption="receipt")
    core.channel(-1001234567890, "Wafa news")
    core.post_in_channel(-1001234567890, "Sale!")

    updates = await session_bot.get_updates()

    edited = updates[1].edited_message
    assert edited is not None and edited.text == "/points" and edited.entities is not None
    contact = updates[2].message.contact if updates[2].message else None
    assert contact is not None and (contact.user_id, contact.phone_number) == (USER, "989121234567")
    assert updates[3].message is not None and updates[3].message.sticker is not None
    photo = updates[4].message.photo if updates[4].message else None
    assert photo is not None and (photo[-1].width, photo[-1].height) == (64, 48)
    downloaded = await session_bot.download(photo[-1].file_id)
    assert downloaded is not None and image_dimensions(downloaded.read()) == (64, 48)
    post = updates[5].channel_post
    assert post is not None and post.text == "Sale!" and post.sender_chat is not None


async def test_groups_channels_and_chat_scoped_commands(session_bot: Bot, core: BotAPIStandIn) -> None:
    core.group(-100, "Staff")
    core.channel(-1009, "News", username="wafa_news")

    in_group = await session_bot.send_message(-100, "hello staff")
    in_channel = await session_bot.send_message("@wafa_news", "post")
    await session_bot.set_my_commands(
        [BotCommand(command="report", description="Report")], scope=BotCommandScopeChat(chat_id=-100)
    )

    assert in_group.chat.type == "group" and in_group.from_user is not None
    assert in_channel.chat.id == -1009 and in_channel.sender_chat is not None
    assert ("chat:-100", "") in core.commands
    assert (await session_bot.get_chat(-100)).title == "Staff"


async def test_documents_and_photo_validation(session_bot: Bot, core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")

    sent = await session_bot.send_document(USER, BufferedInputFile(b"%PDF-1.4 report", "report.pdf"))
    again = await session_bot.send_document(USER, sent.document.file_id if sent.document else "")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await session_bot.send_photo(USER, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await session_bot.send_photo(USER, again.document.file_id if again.document else "")
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await session_bot.send_photo(USER, "no-such-file-id")

    assert sent.document is not None and (sent.document.file_name, sent.document.mime_type) == (
        "report.pdf",
        "application/pdf",
    )
    assert [message.document for message in core.messages(USER)] == [b"%PDF-1.4 report"] * 2


async def test_allowed_updates_and_competing_polls(session_bot: Bot, core: BotAPIStandIn) -> None:
    await session_bot.get_updates(allowed_updates=["callback_query"])
    core.send_text(USER, "not wanted")  # Telegram never queues update kinds the bot excluded

    older = asyncio.create_task(session_bot.get_updates(timeout=5))
    await asyncio.sleep(0.01)
    newer = await session_bot.get_updates(timeout=0)

    assert newer == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older


async def test_wrong_token_is_unauthorized(core: BotAPIStandIn) -> None:
    core.token = "1:right"

    with pytest.raises(TelegramUnauthorizedError):
        await Bot("1:wrong", session=StandInSession(core)).get_me()
    assert (await Bot("1:right", session=StandInSession(core)).get_me()).id == core.bot_id


async def test_wait_for_messages_times_out_with_what_arrived(core: BotAPIStandIn) -> None:
    with pytest.raises(TimeoutError, match=f"1 bot message\\(s\\) in chat {USER}, got 0"):
        await core.wait_for_messages(USER, timeout=0.05)


async def test_dispatcher_runs_against_the_stand_in_without_network(core: BotAPIStandIn) -> None:
    router = Router()

    @router.message(CommandStart())
    async def greet(message: Message) -> None:
        await message.answer("<b>Welcome</b>, Layla", reply_markup=keyboard("points"))

    @router.callback_query(F.data == "points")
    async def show_points(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("You have <b>10</b> points")
        await query.answer("Updated")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(TOKEN, session=StandInSession(core), default=DefaultBotProperties(parse_mode="HTML"))
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        core.send_text(USER, "/start")
        [welcome] = await core.wait_for_messages(USER)
        assert (welcome.text, core.buttons(welcome)) == ("Welcome, Layla", [("Points", "points")])

        core.press(USER, welcome.message_id, "points")
        await core.wait_until_idle()
    finally:
        await dispatcher.stop_polling()
        await polling

    assert (welcome.text, welcome.edited, welcome.reply_markup) == ("You have 10 points", True, None)
    assert [answer.text for answer in core.answered_callbacks] == ["Updated"]


# --------------------------------------------------------------------------- raw HTTP


async def test_raw_http_requests_get_telegram_shaped_answers(core: BotAPIStandIn) -> None:
    core.send_text(USER, "hi")
    async with StandInServer(core) as url, ClientSession() as http:
        async with http.get(f"{url}/bot{TOKEN}/getMe") as response:
            assert response.status == 200 and (await response.json())["result"]["id"] == core.bot_id
        async with http.post(f"{url}/bot{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        async with http.post(f"{url}/botnot-a-token/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{url}/bot{TOKEN}/SENDMESSAGE", json={"chat_id": USER, "text": "json"}) as response:
            assert response.status == 200
        async with http.get(f"{url}/bot{TOKEN}/sendMessage", params={"chat_id": USER, "text": "query"}) as response:
            assert response.status == 200
        async with http.post(f"{url}/bot{TOKEN}/sendMessage", data={"chat_id": USER, "text": ""}) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: message text is empty"

    assert [message.text for message in core.messages(USER)] == ["json", "query"]


async def test_control_api_lets_another_process_play_the_user(core: BotAPIStandIn) -> None:
    async with StandInServer(core) as url, ClientSession() as http:
        async with http.post(f"{url}/_standin/user", json={"id": 7, "first_name": "Omid"}) as response:
            assert response.status == 200
        async with http.post(f"{url}/_standin/send_text", json={"user_id": 7, "text": "/start"}) as response:
            assert (await response.json())["entities"][0]["type"] == "bot_command"
        await core.handle("sendMessage", {"chat_id": "7", "text": "Hi", "reply_markup": keyboard("go").model_dump_json()})
        async with http.get(f"{url}/_standin/messages", params={"chat_id": 7, "after": 0, "timeout": 1}) as response:
            [listed] = await response.json()
        async with http.post(f"{url}/_standin/press", json={"user_id": 7, "message_id": 2, "data": "nope"}) as response:
            assert response.status == 400 and "no button" in (await response.json())["error"]
        async with http.post(f"{url}/_standin/press", json={"user_id": 7, "message_id": 2, "data": "go"}) as response:
            assert response.status == 200

    assert (listed["text"], listed["buttons"]) == ("Hi", [["Go", "go"]])
    assert "callback_query" in core.pending_updates()[-1]


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("markup", "text", "entities"),
    [
        ("&ge;&lt;&gt;&amp;&quot;&#1575;", '&ge;<>&"ا', []),
        ("🏟 🏟<i>🏟 &gt;<b aba = caba>&lt🏟</b></i>", "🏟 🏟🏟 ><🏟", [("italic", 5, 7), ("bold", 9, 3)]),
        ('<a href=telegram.org>go</a> <a href="tg://user?id=1">me</a>', "go me", [("text_link", 0, 2), ("text_link", 3, 2)]),
        ("<a>telegram.org </a>", "telegram.org", []),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ("<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>", "qs", [("expandable_blockquote", 0, 1), ("spoiler", 1, 1)]),
        ("  <b> padded </b>\n", "padded", [("bold", 0, 6)]),
        ("<b></b>x", "x", []),
    ],
)
def test_parse_html_matches_tdlib(markup: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    """Cases adapted from TDLib's check_parse_html; trimming is included because it is what a user sees."""
    plain, parsed = trim(*parse_html(markup, strict_ampersand=False))

    assert plain == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


def test_parse_html_reports_byte_offsets_like_tdlib() -> None:
    with pytest.raises(EntityParseError, match='Unsupported start tag "abac" at byte offset 13'):
        parse_html("🏟 🏟&lt;<abac>")


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_image_dimensions_reads_common_formats(image_format: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (37, 21), "white").save(buffer, image_format)

    assert image_dimensions(buffer.getvalue()) == (37, 21)


def test_bot_message_json_summary_leaves_bytes_out() -> None:
    message = BotMessage(
        chat_id=1, message_id=2, kind="text", text="hi", raw_text="hi", parse_mode=None,
        entities=[], reply_markup=keyboard("a").model_dump(exclude_none=True), date=0,
    )

    summary = message.to_json()

    assert summary["buttons"] == [["A", "a"]] and summary["file"] is None
    assert json.loads(json.dumps(summary)) == summary
