"""What the stand-in remembers about files, the bot's messages and answered button presses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
class InjectedFailure:
    """A failure armed by ``fail_next``: answers the next ``remaining`` matching calls."""

    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None
