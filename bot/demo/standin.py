"""An in-memory stand-in for the Telegram Bot API.

The real bot talks to this instead of ``api.telegram.org`` in three places:
``wafa demo`` (a terminal chat, no network), end-to-end tests that run the bot
process against :class:`StandInServer` on loopback, and in-process dispatcher
tests through :class:`StandInSession`.  Answers follow the Bot API closely --
real HTTP status codes, ``{"ok": false, "error_code", "description",
"parameters"}`` bodies and Telegram's own wording -- so aiogram raises exactly
the exceptions it would raise against Telegram, and the bot's error handling is
exercised rather than bypassed.

The module is deliberately self-contained (stdlib, aiohttp, aiogram only) so it
cannot accidentally depend on the code it is used to test.  It is not
thread-safe: drive it from the event loop it serves.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import json
import math
import mimetypes
import re
import struct
import time
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from aiohttp import ClientResponseError, RequestInfo, web
from aiohttp.web_request import FileField
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aiogram.client.session.base import BaseSession
from aiogram.methods.base import TelegramMethod, TelegramType
from aiogram.types import InputFile

if TYPE_CHECKING:
    from aiogram import Bot

DEFAULT_BOT_ID = 7000000001
DEFAULT_BOT_USERNAME = "wafa_demo_bot"
DEFAULT_BOT_FIRST_NAME = "Wafa"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_COMMANDS = 100

# Without an explicit allowed_updates Telegram sends every kind except chat_member and
# reactions; of the kinds the stand-in produces, that is all of them.
DEFAULT_ALLOWED_UPDATES = frozenset({"message", "edited_message", "channel_post", "callback_query", "my_chat_member"})

# Form posts carry nested values as JSON text; these are the ones the stand-in reads.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "entities",
        "caption_entities",
    }
)

_SEND_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


# --------------------------------------------------------------------------- errors


class TelegramErrorReply(Exception):
    """A refusal the stand-in answers with, carried up to :meth:`BotAPIStandIn.handle`."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(reason: str) -> TelegramErrorReply:
    return TelegramErrorReply(400, f"Bad Request: {reason}")


def _forbidden(reason: str) -> TelegramErrorReply:
    return TelegramErrorReply(403, f"Forbidden: {reason}")


_UNAUTHORIZED = TelegramErrorReply(401, "Unauthorized")


# --------------------------------------------------------------------------- text


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji may count twice."""
    return len(text.encode("utf-16-le")) // 2


class EntityParseError(ValueError):
    """Markup Telegram would refuse with ``can't parse entities: <message>``."""


_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji", "code", "pre"}
    | {"blockquote"}
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
# TDLib's order for entities covering the same text.
_ENTITY_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPACE = " \t\r\n\v"


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    utf16_start: int
    text_start: int


def _decode_html_entity(markup: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``markup[pos] == "&"`` the way TDLib does.

    Returns the character and the position after the reference (its ``;`` is
    optional, as in TDLib), or None when it is not one Telegram understands.
    """
    end = pos + 1
    if markup.startswith("#", end):
        end += 1
        base, digits = 10, "0123456789"
        if markup[end : end + 1] in ("x", "X"):
            base, digits = 16, "0123456789abcdefABCDEF"
            end += 1
        start = end
        while end < len(markup) and markup[end] in digits:
            end += 1
        if end == start:
            return None
        code = int(markup[start:end], base)
        if code == 0 or code > 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = end
        while end < len(markup) and markup[end].isascii() and markup[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(markup[start:end])
        if named is None:
            return None
        char = named
    if markup.startswith(";", end):
        end += 1
    return char, end


def _normalize_url(url: str) -> str | None:
    """Telegram's reading of a link target, or None when it would drop the link."""
    if not url or any(char.isspace() for char in url):
        return None
    if "://" not in url and not url.startswith(("tg:", "mailto:")):
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ftp"):
        if not parts.hostname:
            return None
        if not parts.path:
            url = parts._replace(path="/").geturl()
    return url


def parse_html(markup: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Turn Bot API HTML into plain text and entities, with TDLib's error messages.

    Offsets and lengths are in UTF-16 code units.  Telegram itself keeps a bare
    ``&`` that starts no character reference as a literal; with
    ``strict_ampersand`` (the default) the stand-in refuses it instead, so a
    missing ``html.escape`` shows up in tests before user input triggers it.
    """
    text: list[str] = []  # one character per item, so len(text) is a position in the plain text
    utf16 = 0
    entities: list[dict[str, Any]] = []
    open_tags: list[_OpenTag] = []
    size = len(markup)

    def byte_offset(pos: int) -> int:
        return len(markup[:pos].encode())

    def emit(char: str) -> None:
        nonlocal utf16
        text.append(char)
        utf16 += utf16_length(char)

    def at_end(pos: int) -> bool:
        return pos >= size

    i = 0
    while i < size:
        char = markup[i]
        if char == "&":
            decoded = _decode_html_entity(markup, i)
            if decoded is None:
                if strict_ampersand:
                    raise EntityParseError(
                        f'Character "&" at byte offset {byte_offset(i)} starts no HTML entity; escape it as &amp;'
                    )
                emit("&")
                i += 1
            else:
                emit(decoded[0])
                i = decoded[1]
            continue
        if char != "<":
            emit(char)
            i += 1
            continue

        begin = i
        if markup.startswith("/", i + 1):
            if not open_tags:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            i += 2
            while not at_end(i) and markup[i] not in _HTML_SPACE and markup[i] != ">":
                i += 1
            end_name = markup[begin + 2 : i].lower()
            while not at_end(i) and markup[i] in _HTML_SPACE:
                i += 1
            if at_end(i) or markup[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            tag = open_tags.pop()
            if end_name and end_name != tag.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{tag.name}>", found "</{end_name}>"'
                )
            entity = _entity_for(tag, utf16 - tag.utf16_start, "".join(text[tag.text_start :]))
            if entity is not None:
                entities.append(entity)
            continue

        i += 1
        while not at_end(i) and markup[i] not in _HTML_SPACE and markup[i] != ">":
            i += 1
        if at_end(i):
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = markup[begin + 1 : i].lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attributes, i = _parse_attributes(markup, i, name, byte_offset(begin), byte_offset)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        open_tags.append(_OpenTag(name, attributes, utf16, len(text)))

    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1].name}"')
    return "".join(text), _merge_pre_code(entities)


def _parse_attributes(
    markup: str, i: int, tag: str, tag_offset: int, byte_offset: Callable[[int], int]
) -> tuple[dict[str, str], int]:
    """Read a start tag's attributes from ``i`` up to and past its ``>``."""
    attributes: dict[str, str] = {}
    size = len(markup)
    while True:
        while i < size and markup[i] in _HTML_SPACE:
            i += 1
        if i >= size:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {tag_offset}')
        if markup[i] == ">":
            return attributes, i + 1
        name_start = i
        while i < size and markup[i] not in _HTML_SPACE and markup[i] not in "=>":
            i += 1
        name = markup[name_start:i].lower()
        if not name:
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {tag_offset}')
        while i < size and markup[i] in _HTML_SPACE:
            i += 1
        if i >= size:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {tag_offset}')
        if markup[i] != "=":
            attributes[name] = ""
            continue
        i += 1
        while i < size and markup[i] in _HTML_SPACE:
            i += 1
        if i >= size:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {tag_offset}')
        if markup[i] in "'\"":
            quote = markup[i]
            i += 1
            value: list[str] = []
            while i < size and markup[i] != quote:
                decoded = _decode_html_entity(markup, i) if markup[i] == "&" else None
                if decoded is None:
                    value.append(markup[i])
                    i += 1
                else:
                    value.append(decoded[0])
                    i = decoded[1]
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {tag_offset}")
            i += 1
            attributes[name] = "".join(value)
        else:
            token_start = i
            while i < size and markup[i].isascii() and (markup[i].isalnum() or markup[i] in ".-"):
                i += 1
            if i < size and markup[i] not in _HTML_SPACE and markup[i] != ">":
                raise EntityParseError(f"Unexpected end of name token at byte offset {byte_offset(token_start)}")
            attributes[name] = markup[token_start:i].lower()


def _entity_for(tag: _OpenTag, length: int, inner_text: str) -> dict[str, Any] | None:
    """The entity a closed tag produces; empty ranges and unusable links produce none."""
    if length <= 0:
        return None
    entity: dict[str, Any] = {"type": "", "offset": tag.utf16_start, "length": length}
    if tag.name == "a":
        url = _normalize_url(tag.attributes.get("href") or inner_text)
        if url is None:
            return None
        entity.update(type="text_link", url=url)
    elif tag.name == "tg-emoji":
        emoji_id = tag.attributes.get("emoji-id")
        if not emoji_id:
            return None
        entity.update(type="custom_emoji", custom_emoji_id=emoji_id)
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attributes else "blockquote"
    else:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
        language = tag.attributes.get("class", "")
        if tag.name == "code" and language.startswith("language-") and len(language) > len("language-"):
            entity["language"] = language.removeprefix("language-")
    return entity


def _merge_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold ``<pre><code class="language-x">`` spanning the same text into one ``pre`` with a language, like TDLib."""
    pre_spans = {(e["offset"], e["length"]) for e in entities if e["type"] == "pre"}
    languages = {
        (e["offset"], e["length"]): e["language"]
        for e in entities
        if e["type"] == "code" and "language" in e and (e["offset"], e["length"]) in pre_spans
    }
    result = []
    for entity in entities:
        span = (entity["offset"], entity["length"])
        if entity["type"] == "code" and span in languages:
            continue
        entity = {key: value for key, value in entity.items() if key != "language"}
        if entity["type"] == "pre" and span in languages:
            entity["language"] = languages[span]
        result.append(entity)
    return sorted(result, key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY[e["type"]]))


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Drop leading and trailing whitespace as Telegram does, clipping entities to what is left."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_length(text[: len(text) - len(text.lstrip())])
    end = lead + utf16_length(stripped)
    clipped = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            clipped.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, clipped


_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def _command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity a Telegram client attaches to a message starting with a command."""
    match = _BOT_COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]


# --------------------------------------------------------------------------- files


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image; None when it is none of those.

    Telegram answers ``IMAGE_PROCESS_FAILED`` to a "photo" it cannot decode,
    so the stand-in needs to know real images from arbitrary bytes.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_dimensions(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """Walk JPEG segments to the first start-of-frame marker."""
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def solid_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG, used as the picture a simulated user sends."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request (or read from an aiogram ``InputFile``)."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class StoredFile:
    """A file Telegram would keep: what the bot uploaded or a simulated user sent."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "document" or "sticker"
    file_path: str
    filename: str
    data: bytes
    mime_type: str | None
    url: str | None = None  # set when the bot passed an HTTP URL; the stand-in never fetches it
    width: int = 0
    height: int = 0

    def photo_size_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": len(self.data),
        }

    def document_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "file_size": len(self.data),
        }
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document


# --------------------------------------------------------------------------- records


@dataclass
class BotMessage:
    """A message the bot sent, as the user's client currently shows it.

    ``text`` is what the user reads (HTML processed, or the caption of a photo
    or document); ``raw_text`` is what the bot passed.  Deleted messages stay in
    the history with ``deleted`` set, so indices into it never shift.
    """

    chat_id: int
    message_id: int
    kind: str  # "text", "photo" or "document"
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False

    @property
    def photo(self) -> bytes | None:
        return self.file.data if self.file is not None and self.kind == "photo" else None

    @property
    def document(self) -> bytes | None:
        return self.file.data if self.file is not None and self.kind == "document" else None

    @property
    def filename(self) -> str | None:
        return self.file.filename if self.file is not None else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly summary for the control API (file bytes left out)."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "kind": self.kind,
            "text": self.text,
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "buttons": [list(button) for button in buttons(self)],
            "reply_markup": self.reply_markup,
            "file": None
            if self.file is None
            else {"file_id": self.file.file_id, "filename": self.file.filename, "size": len(self.file.data)},
            "date": self.date,
            "edited": self.edited,
            "deleted": self.deleted,
        }


def buttons(message: BotMessage) -> list[tuple[str, str | None]]:
    """Every button under a message as (label, callback_data or url); reply-keyboard buttons carry None."""
    markup = message.reply_markup or {}
    if "inline_keyboard" in markup:
        return [
            (button["text"], button.get("callback_data", button.get("url")))
            for row in markup["inline_keyboard"]
            for button in row
        ]
    return [
        (button if isinstance(button, str) else button["text"], None)
        for row in markup.get("keyboard", [])
        for button in row
    ]


@dataclass(frozen=True)
class AnsweredCallback:
    """The bot's answerCallbackQuery for one button press."""

    callback_query_id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class _InjectedFailure:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


# --------------------------------------------------------------------------- params


def _to_int(value: Any) -> int:
    """Telegram reads a malformed number as 0 rather than refusing it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else 0


class _Params:
    """Typed reads of one call's parameters, which arrive as form strings or JSON values."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        return None if value is None or value == "" else _to_int(value)

    def flag(self, name: str) -> bool:
        return str(self.values.get(name, "")).lower() in ("true", "1")

    def structured(self, name: str, what: str) -> Any:
        """A JSON parameter, already decoded; leftover text means it was not valid JSON."""
        value = self.values.get(name)
        if isinstance(value, str):
            raise _bad_request(f"can't parse {what} JSON object")
        return value


def _decode_json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    decoded = dict(params)
    for name in _JSON_PARAMS & decoded.keys():
        value = decoded[name]
        if isinstance(value, str):
            try:
                decoded[name] = json.loads(value)
            except ValueError:
                pass  # left as text; the method refuses it with Telegram's wording
    return decoded


# --------------------------------------------------------------------------- core

_Handler = Callable[[_Params], Awaitable[Any]]
MessageListener = Callable[[BotMessage], None]


class BotAPIStandIn:
    """In-memory Bot API for one bot, plus the user side that produces its updates.

    Bot-side calls go through :meth:`handle`; the simulated users act through
    :meth:`send_text`, :meth:`press` and friends; tests inspect :attr:`sent`,
    :attr:`calls`, :attr:`commands` and wait with :meth:`wait_for_messages` or
    :meth:`wait_until_idle`.
    """

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        username: str = DEFAULT_BOT_USERNAME,
        first_name: str = DEFAULT_BOT_FIRST_NAME,
        token: str | None = None,
        strict_ampersand: bool = True,
    ) -> None:
        """``token=None`` accepts any token shaped ``<digits>:<secret>``; a string accepts only itself."""
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.token = token
        self.strict_ampersand = strict_ampersand

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[BotMessage] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.sends_per_chat: Counter[int] = Counter()
        self.webhook_url = ""

        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}  # groups, supergroups and channels
        self._chat_members: defaultdict[int, set[int]] = defaultdict(set)  # users in each group or channel
        self._not_admin: set[int] = set()  # channels the bot is in without admin rights
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._next_message_id: Counter[int] = Counter()
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: dict[tuple[int, int], BotMessage] = {}
        self._history: defaultdict[int, list[BotMessage]] = defaultdict(list)
        self._files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._open_callbacks: dict[str, dict[str, Any]] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._listeners: list[MessageListener] = []

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._poll_release = 0

        self._failures: list[_InjectedFailure] = []
        self._global_limit: int | None = None
        self._chat_limit: int | None = None
        self._global_window: deque[float] = deque()
        self._chat_windows: defaultdict[int, deque[float]] = defaultdict(deque)

        self._changed = asyncio.Event()
        self._active_calls = 0
        self._last_activity = time.monotonic()

        self._methods: dict[str, _Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getfile": self._get_file,
            "close": self._always_true,
            "logout": self._always_true,
        }

    # ----------------------------------------------------------------- identity

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def accepts_token(self, token: str) -> bool:
        if self.token is not None:
            return token == self.token
        bot_id, colon, secret = token.partition(":")
        return bot_id.isdigit() and bool(colon) and bool(secret)

    # ----------------------------------------------------------------- people and chats

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """Register (or re-describe) a Telegram user.  The bot cannot message them until they write."""
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({key: value for key, value in optional.items() if value is not None})
        self._users[user_id] = user
        return dict(user)

    def group(self, chat_id: int, title: str, *, supergroup: bool = False) -> dict[str, Any]:
        """Register a group the bot is a member of (group ids are negative)."""
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        chat = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        self._chats[chat_id] = chat
        return dict(chat)

    def channel(
        self, chat_id: int, title: str, *, username: str | None = None, bot_is_admin: bool = True
    ) -> dict[str, Any]:
        """Register a channel the bot administers (or, with ``bot_is_admin=False``, one
        whose members it cannot see: getChatMember then fails as Telegram's does)."""
        if chat_id >= 0:
            raise ValueError(f"channel ids are negative, got {chat_id}")
        chat: dict[str, Any] = {"id": chat_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        self.set_bot_admin(chat_id, bot_is_admin)
        return dict(chat)

    def set_bot_admin(self, chat_id: int, admin: bool) -> None:
        (self._not_admin.discard if admin else self._not_admin.add)(chat_id)

    def join_chat(self, chat_id: int, user_id: int) -> None:
        """The user joins a group or channel (what getChatMember reports)."""
        self._chat_members[chat_id].add(user_id)

    def leave_chat(self, chat_id: int, user_id: int) -> None:
        self._chat_members[chat_id].discard(user_id)

    def _chat_json(self, chat_id: int) -> dict[str, Any] | None:
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        user = self._users.get(chat_id)
        if user is None:
            return None
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        chat.update({key: user[key] for key in ("last_name", "username") if key in user})
        return chat

    def _require_user(self, user_id: int) -> dict[str, Any]:
        if user_id not in self._users:
            raise ValueError(f"unknown user {user_id}; register them with user() first")
        return dict(self._users[user_id])

    # ----------------------------------------------------------------- user side

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        """The user sends ``text``; a leading command gets its ``bot_command`` entity as in Telegram."""
        content: dict[str, Any] = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_message(user_id, chat_id, content, reply_to)

    def send_sticker(self, user_id: int, emoji: str = "👍", *, chat_id: int | None = None) -> dict[str, Any]:
        stored = self._store_file("sticker", "sticker.webp", b"", "image/webp", width=512, height=512)
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._user_message(user_id, chat_id, {"sticker": sticker})

    def send_photo(
        self, user_id: int, caption: str | None = None, *, data: bytes | None = None, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user sends a picture (a small grey PNG unless ``data`` is given); the bot can download it."""
        data = solid_png(64, 48) if data is None else data
        width, height = image_dimensions(data) or (0, 0)
        stored = self._store_file("photo", "photo.png", data, "image/png", width=width, height=height)
        content: dict[str, Any] = {"photo": [stored.photo_size_json()]}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content)

    def send_contact(
        self, user_id: int, phone_number: str, *, own: bool = True, first_name: str | None = None
    ) -> dict[str, Any]:
        """Share a contact; ``own=True`` is the "share my phone number" button, which carries the sender's id.

        Pass the number exactly as the client would: Telegram often delivers a
        user's own number without the leading ``+``.
        """
        sender = self._require_user(user_id)
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact["first_name"] = first_name or sender["first_name"]
            if "last_name" in sender:
                contact["last_name"] = sender["last_name"]
            contact["user_id"] = user_id
        else:
            contact["first_name"] = first_name or "Contact"
        return self._user_message(user_id, None, {"contact": contact})

    def edit_text(self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """The user edits one of their own text messages, producing an ``edited_message`` update."""
        chat_id = user_id if chat_id is None else chat_id
        original = self._user_messages.get((chat_id, message_id))
        if original is None or original["from"]["id"] != user_id or "text" not in original:
            raise ValueError(f"user {user_id} has no text message {message_id} in chat {chat_id}")
        edited = {key: value for key, value in original.items() if key != "entities"}
        edited.update(text=new_text, edit_date=int(time.time()))
        entities = _command_entities(new_text)
        if entities:
            edited["entities"] = entities
        self._user_messages[(chat_id, message_id)] = edited
        self._emit("edited_message", edited)
        return edited

    def post_in_channel(self, chat_id: int, text: str) -> dict[str, Any]:
        """Someone posts in a channel the bot administers, producing a ``channel_post`` update."""
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] != "channel":
            raise ValueError(f"{chat_id} is not a registered channel")
        post = {
            "message_id": self._allocate_message_id(chat_id),
            "sender_chat": dict(chat),
            "chat": dict(chat),
            "date": int(time.time()),
            "text": text,
        }
        self._user_messages[(chat_id, post["message_id"])] = post
        self._emit("channel_post", post)
        return post

    def press(self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """The user taps an inline button; refuses data that no button on that message carries."""
        chat_id = user_id if chat_id is None else chat_id
        message = self._live_bot_message(chat_id, message_id)
        inline = (message.reply_markup or {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == callback_data for row in inline for button in row):
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button with callback_data {callback_data!r}; "
                f"its buttons are {buttons(message)}"
            )
        return self.press_raw(user_id, message_id, callback_data, chat_id=chat_id)

    def press_raw(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """A callback query with arbitrary data, as a modified or stale client could send."""
        sender = self._require_user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        message = self._live_bot_message(chat_id, message_id)
        callback = {
            "id": str(next(self._callback_ids)),
            "from": sender,
            "message": self._message_json(message),
            "chat_instance": str((abs(chat_id) * 2654435761 + self.bot_id) % 2**63),
            "data": data,
        }
        self._open_callbacks[callback["id"]] = callback
        self._emit("callback_query", callback)
        return callback

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them now fail with 403 and the bot gets ``my_chat_member``."""
        if user_id not in self._blocked:
            self._blocked.add(user_id)
            self._emit_membership(user_id, old="member", new="kicked")

    def unblock(self, user_id: int) -> None:
        if user_id in self._blocked:
            self._blocked.discard(user_id)
            self._emit_membership(user_id, old="kicked", new="member")

    def _emit_membership(self, user_id: int, *, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            state: dict[str, Any] = {"status": status, "user": self.bot_user}
            if status == "kicked":
                state["until_date"] = 0
            return state

        self._emit(
            "my_chat_member",
            {
                "chat": self._chat_json(user_id),
                "from": self._require_user(user_id),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _user_message(
        self, user_id: int, chat_id: int | None, content: dict[str, Any], reply_to: int | None = None
    ) -> dict[str, Any]:
        sender = self._require_user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chat_json(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        if chat["type"] == "private":
            if chat_id != user_id:
                raise ValueError(f"user {user_id} cannot write in the private chat of {chat_id}")
            self.unblock(user_id)  # writing to a blocked bot restarts it, as the client does
            self._started.add(user_id)
        message: dict[str, Any] = {
            "message_id": self._allocate_message_id(chat_id),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            replied = self._any_message_json(chat_id, reply_to)
            if replied is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            message["reply_to_message"] = replied
        self._user_messages[(chat_id, message["message_id"])] = message
        self._emit("message", message)
        return message

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update, unless the bot's allowed_updates excludes it (Telegram drops those)."""
        if kind not in self._allowed_updates:
            return
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._mark_activity()

    # ----------------------------------------------------------------- inspection

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, deleted ones included (flagged)."""
        return list(self._history[chat_id])

    def buttons(self, message: BotMessage) -> list[tuple[str, str | None]]:
        return buttons(message)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (delivered or not)."""
        return copy.deepcopy(self._updates)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call to ``method`` (case-insensitive), in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((stored for stored in self._files.values() if stored.file_path == file_path), None)

    def add_listener(self, listener: MessageListener) -> None:
        """Call ``listener`` whenever a bot message is sent, edited or deleted (e.g. to print it)."""
        self._listeners.append(listener)

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0, *, after: int | None = None
    ) -> list[BotMessage]:
        """Wait until ``count`` new bot messages arrive in a chat and return all new ones.

        "New" means after the call started, or after index ``after`` of
        :meth:`messages` when the triggering action happened earlier.
        """
        start = len(self._history[chat_id]) if after is None else after
        deadline = time.monotonic() + timeout
        while True:
            new = self._history[chat_id][start:]
            if len(new) >= count:
                return list(new)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"waited {timeout}s for {count} bot message(s) in chat {chat_id}, "
                    f"got {len(new)}: {[message.text for message in new]}"
                )
            await self._wait_for_change(remaining)

    async def wait_until_idle(self, *, quiet: float = 0.2, timeout: float = 5.0) -> None:
        """Wait until every update is confirmed and the bot has made no call for ``quiet`` seconds.

        Use it when the expected effect is not a new message (an edit, an
        answered callback, silence); long-polling getUpdates does not count as
        activity.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = bool(self._updates) or self._active_calls > 0
            quiet_for = now - self._last_activity
            if not busy and quiet_for >= quiet:
                return
            remaining = deadline - now
            if remaining <= 0:
                raise TimeoutError(
                    f"not idle after {timeout}s: {len(self._updates)} unconfirmed update(s), "
                    f"{self._active_calls} bot call(s) in flight"
                )
            await self._wait_for_change(min(remaining, quiet if busy else quiet - quiet_for))

    def _wake(self) -> None:
        """Let every waiter re-check its condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _mark_activity(self) -> None:
        """Something happened that an idle bot would not do; restarts wait_until_idle's quiet period."""
        self._last_activity = time.monotonic()
        self._wake()

    async def _wait_for_change(self, timeout: float) -> None:
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass

    # ----------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` (optionally only for ``chat_id``) fail as given.

        ``description`` is sent verbatim, e.g. ``"Too Many Requests: retry after 5"``.
        """
        self._failures.append(_InjectedFailure(method.lower(), status, description, retry_after, times, chat_id))

    def rate_limit(self, global_per_second: int | None = None, per_chat_per_second: int | None = None) -> None:
        """Answer 429 to sends beyond these rates over a sliding one-second window (None lifts a limit).

        Counts sendMessage, sendPhoto and sendDocument that were accepted.
        """
        self._global_limit = global_per_second
        self._chat_limit = per_chat_per_second

    def _raise_injected_failure(self, method: str, params: _Params) -> None:
        chat_id = params.integer("chat_id")
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                raise TelegramErrorReply(failure.status, failure.description, retry_after=failure.retry_after)

    def _take_send_slot(self, chat_id: int) -> None:
        now = time.monotonic()
        windows = ((self._global_window, self._global_limit), (self._chat_windows[chat_id], self._chat_limit))
        for window, limit in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + 1.0 - now))
                raise TelegramErrorReply(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
        for window, _ in windows:
            window.append(now)
        self.sends_per_chat[chat_id] += 1

    # ----------------------------------------------------------------- bot side

    async def handle(self, method: str, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call and return (HTTP status, JSON body) as Telegram would.

        ``params`` may hold form strings (nested values as JSON text),
        :class:`UploadedFile` parts, or already-decoded JSON values.
        """
        decoded = _decode_json_params(params)
        self.calls.append((method, decoded))
        name = method.lower()
        counts_as_activity = name != "getupdates"
        if counts_as_activity:
            self._active_calls += 1
            self._mark_activity()
        try:
            handler = self._methods.get(name)
            if handler is None:
                raise TelegramErrorReply(404, "Not Found: method not found")
            wrapped = _Params(decoded)
            self._raise_injected_failure(name, wrapped)
            result = await handler(wrapped)
        except TelegramErrorReply as error:
            return error.status, error.body()
        finally:
            if counts_as_activity:
                self._active_calls -= 1
                self._mark_activity()
        return 200, {"ok": True, "result": result}

    def release_long_polls(self) -> None:
        """Answer pending getUpdates now (with what is queued), e.g. before the server shuts down."""
        self._poll_release += 1
        self._wake()

    async def _always_true(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise TelegramErrorReply(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        allowed = params.structured("allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        self._confirm(offset)

        # A newer getUpdates ends an older one with 409, as Telegram does.
        self._poll_generation += 1
        generation, release = self._poll_generation, self._poll_release
        self._wake()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise TelegramErrorReply(
                    409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0 or release != self._poll_release:
                return copy.deepcopy(self._updates[:limit])
            await self._wait_for_change(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates below a positive offset; a negative one keeps only the last -offset."""
        before = len(self._updates)
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if len(self._updates) != before:
            self._mark_activity()

    async def _set_webhook(self, params: _Params) -> bool:
        """Records the URL only: the stand-in never pushes updates, it serves getUpdates."""
        url = params.text("url") or ""
        if url and not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = url
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        return True

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    # sending

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        chat_id = self._required_chat_id(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH, "message is too long")
        if not text:
            raise _bad_request("message text is empty")
        markup = self._reply_markup(params)
        self._check_can_write(chat_id)
        reply_to = self._reply_to(params, chat_id)
        self._take_send_slot(chat_id)
        message = self._record_bot_message(
            chat_id, "text", text, params.text("text") or "", params, entities, markup, reply_to
        )
        return self._message_json(message)

    async def _send_photo(self, params: _Params) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: _Params) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def _send_file(self, params: _Params, kind: str) -> dict[str, Any]:
        chat_id = self._required_chat_id(params)
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        markup = self._reply_markup(params)
        stored = self._input_file(params, kind)
        self._check_can_write(chat_id)
        reply_to = self._reply_to(params, chat_id)
        self._take_send_slot(chat_id)
        message = self._record_bot_message(
            chat_id, kind, caption, params.text("caption") or "", params, entities, markup, reply_to, stored
        )
        return self._message_json(message)

    async def _send_chat_action(self, params: _Params) -> bool:
        chat_id = self._required_chat_id(params)
        if params.text("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_can_write(chat_id)
        return True

    def _required_chat_id(self, params: _Params) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            username = raw[1:].lower()
            chat_id = next(
                (chat["id"] for chat in self._chats.values() if chat.get("username", "").lower() == username), None
            )
        else:
            chat_id = _to_int(raw)
        if chat_id is None or self._chat_json(chat_id) is None:
            raise _bad_request("chat not found")
        return chat_id

    def _check_can_write(self, chat_id: int) -> None:
        if chat_id in self._users:
            if chat_id not in self._started:
                raise _forbidden("bot can't initiate conversation with a user")
            if chat_id in self._blocked:
                raise _forbidden("bot was blocked by the user")

    def _formatted(
        self, params: _Params, name: str, entities_name: str, limit: int, too_long: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Plain text and entities of a text or caption after parse_mode, trimmed and length-checked."""
        raw = params.text(name) or ""
        parse_mode = params.text("parse_mode")
        if parse_mode:
            mode = parse_mode.lower()
            if mode in ("markdown", "markdownv2"):
                raise _bad_request("the stand-in understands parse_mode HTML only")
            if mode != "html":
                raise _bad_request("unsupported parse_mode")
            try:
                text, entities = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except EntityParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
        else:
            text = raw
            given = params.structured(entities_name, "entities")
            entities = given if isinstance(given, list) else []
        text, entities = _trim(text, entities)
        if utf16_length(text) > limit:
            raise _bad_request(too_long)
        return text, entities

    def _reply_markup(self, params: _Params) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        elif not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
        if "callback_data" in button:
            size = len(str(button["callback_data"]).encode())
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            if _normalize_url(str(button["url"])) is None:
                raise _bad_request("BUTTON_URL_INVALID")
        elif not {
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        } & button.keys():
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")

    def _reply_to(self, params: _Params, chat_id: int) -> int | None:
        reply = params.structured("reply_parameters", "reply parameters")
        if isinstance(reply, dict):
            message_id = _to_int(reply.get("message_id", 0))
            tolerant = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.integer("reply_to_message_id") or 0
            tolerant = params.flag("allow_sending_without_reply")
        if not message_id:
            return None
        if self._any_message_json(chat_id, message_id) is not None:
            return message_id
        if tolerant:
            return None
        raise _bad_request("message to be replied not found")

    def _input_file(self, params: _Params, kind: str) -> StoredFile:
        """Resolve a photo/document parameter: an upload, an ``attach://`` part, a file_id or a URL."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
            if not isinstance(value, UploadedFile):
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if value is None or value == "":
            raise _bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            return self._store_upload(value, kind)
        reference = str(value)
        if reference.startswith(("http://", "https://")):
            name = reference.rstrip("/").rsplit("/", 1)[-1] or kind
            stored = self._store_file(kind, name, b"", mimetypes.guess_type(name)[0])
            stored.url = reference
            return stored
        known = self._files.get(reference)
        if known is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if known.kind != kind:
            raise _bad_request("type of file mismatch")
        return known

    def _store_upload(self, upload: UploadedFile, kind: str) -> StoredFile:
        if not upload.data:
            raise _bad_request("file must be non-empty")
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise TelegramErrorReply(413, "Request Entity Too Large")
        # Like Telegram, trust the file name over the part's (usually generic) content type.
        mime_type = mimetypes.guess_type(upload.filename)[0] or upload.content_type
        if kind != "photo":
            return self._store_file(kind, upload.filename, upload.data, mime_type)
        dimensions = image_dimensions(upload.data)
        if dimensions is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        width, height = dimensions
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise _bad_request("PHOTO_INVALID_DIMENSIONS")
        return self._store_file(kind, upload.filename, upload.data, mime_type, width=width, height=height)

    def _store_file(
        self, kind: str, filename: str, data: bytes, mime_type: str | None, *, width: int = 0, height: int = 0
    ) -> StoredFile:
        number = next(self._file_numbers)
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}[kind]
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = StoredFile(
            file_id=f"{prefix}{number:012d}standin",
            file_unique_id=f"AQAD{number:08d}",
            kind=kind,
            file_path=f"{kind}s/file_{number}.{extension}",
            filename=filename,
            data=data,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[stored.file_id] = stored
        return stored

    def _allocate_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] += 1
        return self._next_message_id[chat_id]

    def _record_bot_message(
        self,
        chat_id: int,
        kind: str,
        text: str,
        raw_text: str,
        params: _Params,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
        reply_to: int | None,
        stored: StoredFile | None = None,
    ) -> BotMessage:
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._allocate_message_id(chat_id),
            kind=kind,
            text=text,
            raw_text=raw_text,
            parse_mode=params.text("parse_mode"),
            entities=entities,
            reply_markup=markup,
            date=int(time.time()),
            file=stored,
            reply_to_message_id=reply_to,
        )
        self._bot_messages[(chat_id, message.message_id)] = message
        self._history[chat_id].append(message)
        self.sent.append(message)
        self._notify_listeners(message)
        return message

    def _notify_listeners(self, message: BotMessage) -> None:
        for listener in self._listeners:
            listener(message)
        self._mark_activity()

    # editing and deleting

    def _message_to_edit(self, params: _Params) -> BotMessage:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = self._required_chat_id(params)
        message_id = params.integer("message_id") or 0
        self._check_can_write(chat_id)
        if (chat_id, message_id) in self._user_messages:
            raise _bad_request("message can't be edited")
        message = self._bot_messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise _bad_request("message to edit not found")
        return message

    def _apply_edit(
        self, message: BotMessage, text: str, raw_text: str, params: _Params, entities: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Telegram replaces the keyboard on every edit: no reply_markup removes it."""
        markup = self._reply_markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise TelegramErrorReply(400, _NOT_MODIFIED)
        message.text, message.raw_text, message.entities, message.reply_markup = text, raw_text, entities, markup
        message.parse_mode = params.text("parse_mode")
        message.edited, message.edit_date = True, int(time.time())
        self._notify_listeners(message)
        return self._message_json(message)

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH, "message is too long")
        if not text:
            raise _bad_request("message text is empty")
        return self._apply_edit(message, text, params.text("text") or "", params, entities)

    async def _edit_message_caption(self, params: _Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        if message.kind == "text":
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        return self._apply_edit(message, caption, params.text("caption") or "", params, entities)

    async def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        markup = self._reply_markup(params)
        if markup == message.reply_markup:
            raise TelegramErrorReply(400, _NOT_MODIFIED)
        message.reply_markup, message.edited, message.edit_date = markup, True, int(time.time())
        self._notify_listeners(message)
        return self._message_json(message)

    async def _delete_message(self, params: _Params) -> bool:
        chat_id = self._required_chat_id(params)
        key = (chat_id, params.integer("message_id") or 0)
        if self._user_messages.pop(key, None) is not None:
            return True
        message = self._bot_messages.get(key)
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        message.deleted = True
        self._notify_listeners(message)
        return True

    # callbacks, commands, chats, files

    async def _answer_callback_query(self, params: _Params) -> bool:
        callback = self._open_callbacks.pop(params.text("callback_query_id") or "", None)
        if callback is None:
            raise TelegramErrorReply(400, _QUERY_INVALID)
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=callback["id"],
                user_id=callback["from"]["id"],
                data=callback.get("data"),
                text=params.text("text"),
                show_alert=params.flag("show_alert"),
                url=params.text("url"),
            )
        )
        return True

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        """(scope key, language code): the scope key is its type, plus ``:chat_id[:user_id]`` for chat scopes."""
        scope = params.structured("scope", "BotCommandScope")
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        scope_type = scope.get("type")
        if scope_type not in _COMMAND_SCOPES:
            raise _bad_request("can't parse BotCommandScope JSON object")
        scope_key = str(scope_type)
        if scope_type in ("chat", "chat_administrators", "chat_member"):
            scope_key += f":{self._required_chat_id(_Params({'chat_id': scope.get('chat_id')}))}"
        if scope_type == "chat_member":
            scope_key += f":{_to_int(scope.get('user_id', 0))}"
        language_code = params.text("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise _bad_request("invalid language code specified")
        return scope_key, language_code

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.structured("commands", "commands") or []
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        checked = [self._checked_command(command) for command in commands]
        key = self._commands_key(params)
        if checked:
            self.commands[key] = checked
        else:
            self.commands.pop(key, None)
        return True

    @staticmethod
    def _checked_command(command: Any) -> dict[str, str]:
        if not isinstance(command, dict) or not {"command", "description"} <= command.keys():
            raise _bad_request("can't parse BotCommand JSON object")
        name, description = str(command["command"]), str(command["description"]).strip()
        if not name:
            raise _bad_request("command must be non-empty")
        if len(name) > 32:
            raise _bad_request("command length must not exceed 32")
        if not description:
            raise _bad_request("command description must be non-empty")
        if len(description) > 256:
            raise _bad_request("command description length must not exceed 256")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise _bad_request("BOT_COMMAND_INVALID")
        return {"command": name, "description": description}

    async def _get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        return list(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_chat(self, params: _Params) -> dict[str, Any]:
        chat = cast(dict[str, Any], self._chat_json(self._required_chat_id(params)))
        gift_types = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {name: False for name in gift_types},
        }

    async def _get_chat_member(self, params: _Params) -> dict[str, Any]:
        chat_id = self._required_chat_id(params)
        user_id = params.integer("user_id")
        if user_id is None:
            raise _bad_request("invalid user_id specified")
        if user_id == self.bot_id:
            user = self.bot_user
        elif user_id in self._users:
            user = {k: v for k, v in self._users[user_id].items() if k in ("id", "is_bot", "first_name", "last_name", "username")}
        else:
            raise _bad_request("user not found")
        if chat_id not in self._chats:  # a private chat: its user and the bot are in it
            if user_id not in (chat_id, self.bot_id):
                raise _bad_request("user not found")
            return {"status": "member", "user": user}
        is_channel = self._chats[chat_id]["type"] == "channel"
        if user_id == self.bot_id:
            if chat_id in self._not_admin:
                return {"status": "left" if is_channel else "member", "user": user}
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                      "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                      "can_edit_stories", "can_delete_stories", "can_send_welcome_messages", "can_post_messages",
                      "can_edit_messages")
            return {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False,
                    **{right: right != "can_promote_members" for right in rights}}
        if is_channel and chat_id in self._not_admin:
            # Only administrators may list a channel's members.
            raise _bad_request("member list is inaccessible")
        return {"status": "member" if user_id in self._chat_members[chat_id] else "left", "user": user}

    async def _get_file(self, params: _Params) -> dict[str, Any]:
        stored = self._files.get(params.text("file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # JSON views

    def _live_bot_message(self, chat_id: int, message_id: int) -> BotMessage:
        message = self._bot_messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise ValueError(f"the bot has no message {message_id} in chat {chat_id}")
        return message

    def _any_message_json(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        if (chat_id, message_id) in self._user_messages:
            return dict(self._user_messages[(chat_id, message_id)])
        message = self._bot_messages.get((chat_id, message_id))
        return None if message is None or message.deleted else self._message_json(message)

    def _message_json(self, message: BotMessage) -> dict[str, Any]:
        """The Bot API Message object for a bot message in its current state."""
        chat = cast(dict[str, Any], self._chat_json(message.chat_id))
        result: dict[str, Any] = {"message_id": message.message_id, "date": message.date, "chat": chat}
        if chat["type"] == "channel":
            result["sender_chat"] = chat
        else:
            result["from"] = self.bot_user
        text_key, entities_key = ("text", "entities") if message.kind == "text" else ("caption", "caption_entities")
        if message.text:
            result[text_key] = message.text
        if message.entities:
            result[entities_key] = message.entities
        if message.file is not None:
            result[message.kind] = (
                [message.file.photo_size_json()] if message.kind == "photo" else message.file.document_json()
            )
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.reply_to_message_id is not None:
            replied = self._any_message_json(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                replied.pop("reply_to_message", None)
                result["reply_to_message"] = replied
        return result


# --------------------------------------------------------------------------- HTTP


class StandInServer:
    """Serves a :class:`BotAPIStandIn` over HTTP the way api.telegram.org is laid out.

    ``/bot<token>/<method>`` for calls, ``/file/bot<token>/<path>`` for
    downloads, and a small JSON control API under ``/_standin/`` so another
    process can play the user.  Point the bot at it with
    ``TelegramAPIServer.from_base(url)``.
    """

    def __init__(self, core: BotAPIStandIn) -> None:
        self.core = core
        self.url: str | None = None
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        self.app.add_routes(
            [
                web.get("/bot{token}/{method}", self._api_call, allow_head=False),
                web.post("/bot{token}/{method}", self._api_call),
                web.get("/file/bot{token}/{path:.+}", self._download),
                web.post("/_standin/user", self._control_user),
                web.post("/_standin/send_text", self._control_send_text),
                web.post("/_standin/press", self._control_press),
                web.get("/_standin/messages", self._control_messages),
            ]
        )
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 picks a free one) and return the base URL, e.g. ``http://127.0.0.1:45123``."""
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            self.core.release_long_polls()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _api_call(self, request: web.Request) -> web.Response:
        if not self.core.accepts_token(request.match_info["token"]):
            return web.json_response(_UNAUTHORIZED.body(), status=401)
        status, body = await self.core.handle(request.match_info["method"], await self._read_params(request))
        return web.json_response(body, status=status)

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None  # Telegram ignores a body it cannot read; the method then reports what is missing
            if isinstance(body, dict):
                params.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, FileField):
                    params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                else:
                    params[key] = value
        return params

    async def _download(self, request: web.Request) -> web.Response:
        if not self.core.accepts_token(request.match_info["token"]):
            return web.json_response(_UNAUTHORIZED.body(), status=401)
        stored = self.core.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    @staticmethod
    async def _control(action: Callable[[], Any]) -> web.Response:
        """Run a control action; bad input answers 400 with the reason."""
        try:
            result = action()
            if inspect.isawaitable(result):
                result = await result
        except (KeyError, ValueError, TypeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(result)

    async def _control_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self._control(
            lambda: self.core.user(
                body["id"],
                body["first_name"],
                last_name=body.get("last_name"),
                username=body.get("username"),
                language_code=body.get("language_code"),
            )
        )

    async def _control_send_text(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self._control(
            lambda: self.core.send_text(body["user_id"], body["text"], chat_id=body.get("chat_id"))
        )

    async def _control_press(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self._control(
            lambda: self.core.press(body["user_id"], body["message_id"], body["data"], chat_id=body.get("chat_id"))
        )

    async def _control_messages(self, request: web.Request) -> web.Response:
        """``?chat_id=&after=N&timeout=S``: bot messages from index N, waiting up to S seconds for one."""
        query = request.query

        async def listing() -> list[dict[str, Any]]:
            chat_id, after = int(query["chat_id"]), int(query.get("after", 0))
            if "timeout" in query:
                try:
                    await self.core.wait_for_messages(chat_id, 1, float(query["timeout"]), after=after)
                except TimeoutError:
                    pass
            return [message.to_json() for message in self.core.messages(chat_id)[after:]]

        return await self._control(listing)


# --------------------------------------------------------------------------- aiogram session


class StandInSession(BaseSession):
    """An aiogram session that calls a :class:`BotAPIStandIn` directly: no sockets at all.

    Parameters are prepared exactly as aiogram's ``AiohttpSession`` prepares
    its form data, and the answer goes through ``check_response``, so the bot
    sees the same objects and exceptions as over HTTP.
    """

    def __init__(self, core: BotAPIStandIn, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.core = core

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        # A real request always suspends; without this a polling loop that gets an
        # immediate answer every time would never let other tasks run.
        await asyncio.sleep(0)
        if self.core.accepts_token(bot.token):
            status, body = await self.core.handle(method.__api_method__, await self._form(bot, method))
        else:
            status, body = 401, _UNAUTHORIZED.body()
        response = self.check_response(bot=bot, method=method, status_code=status, content=self.json_dumps(body))
        return cast(TelegramType, response.result)

    async def _form(self, bot: Bot, method: TelegramMethod[TelegramType]) -> dict[str, Any]:
        """What ``AiohttpSession.build_form_data`` would post, with file parts read into memory."""
        files: dict[str, InputFile] = {}
        form: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                form[key] = prepared
        for key, input_file in files.items():
            data = b"".join([chunk async for chunk in input_file.read(bot)])
            form[key] = UploadedFile(input_file.filename or key, data)
        return form

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Serve ``bot.download(...)`` from the stand-in's stored files."""
        match = re.search(r"/file/bot([^/]+)/(.+)$", url)
        stored = None
        if match is not None and self.core.accepts_token(match.group(1)):
            stored = self.core.file_by_path(match.group(2))
        if stored is None:
            if raise_for_status:
                request_info = RequestInfo(URL(url), "GET", CIMultiDictProxy(CIMultiDict()), URL(url))
                raise ClientResponseError(request_info, (), status=404, message="Not Found")
            yield json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
            return
        for start in range(0, len(stored.data), chunk_size):
            yield stored.data[start : start + chunk_size]

    async def close(self) -> None:
        """Nothing to release: there is no connection."""
