"""An in-memory stand-in for the Telegram Bot API.

The real bot talks to this instead of ``api.telegram.org`` in three places:
``wafa demo`` (a terminal chat, no network), end-to-end tests that run the bot
process against :class:`StandInServer` on loopback, and in-process dispatcher
tests through :class:`StandInSession`.  Answers follow the Bot API closely --
real HTTP status codes, ``{"ok": false, "error_code", "description",
"parameters"}`` bodies and Telegram's own wording -- so aiogram raises exactly
the exceptions it would raise against Telegram, and the bot's error handling is
exercised rather than bypassed.

The package is deliberately self-contained (stdlib, aiohttp, aiogram only) and
imports nothing from ``bot`` (tests/test_architecture.py), so it cannot depend
on the code it is used to test.  It is not thread-safe: drive it from the event
loop it serves.

Layout: one module per Bot API area (``updates``, ``chats``, ``messages``,
``files``, ``callbacks``, ``commands``, ``webhooks``, ``faults``, the
simulated ``users``), each a link in the single inheritance line that ends in
:class:`BotAPIStandIn` (see ``state``); ``text`` is Telegram's HTML and
length rules, ``server`` the HTTP face, ``session`` the in-process aiogram
session.
"""

from standin.api import BotAPIStandIn
from standin.errors import TelegramErrorReply
from standin.files import MAX_UPLOAD_BYTES, image_dimensions, solid_png
from standin.messages import MAX_CALLBACK_DATA_BYTES, MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH
from standin.records import AnsweredCallback, BotMessage, StoredFile, UploadedFile, buttons
from standin.server import StandInServer
from standin.session import StandInSession
from standin.state import DEFAULT_BOT_FIRST_NAME, DEFAULT_BOT_ID, DEFAULT_BOT_USERNAME, MessageListener
from standin.text import EntityParseError, parse_html, utf16_length

__all__ = [
    "DEFAULT_BOT_FIRST_NAME",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_UPLOAD_BYTES",
    "AnsweredCallback",
    "BotAPIStandIn",
    "BotMessage",
    "EntityParseError",
    "MessageListener",
    "StandInServer",
    "StandInSession",
    "StoredFile",
    "TelegramErrorReply",
    "UploadedFile",
    "buttons",
    "image_dimensions",
    "parse_html",
    "solid_png",
    "utf16_length",
]
