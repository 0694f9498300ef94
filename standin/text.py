"""Message text as Telegram reads it: UTF-16 lengths, Bot API HTML, trimming, command entities."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


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


def normalize_url(url: str) -> str | None:
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
        url = normalize_url(tag.attributes.get("href") or inner_text)
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


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
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


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity a Telegram client attaches to a message starting with a command."""
    match = _BOT_COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]
