"""The bot's messages: sending text, formatting, keyboards, replies, editing and deleting."""

from __future__ import annotations

import time
from typing import Any, cast

from standin.chats import ChatDirectory
from standin.errors import TelegramErrorReply, bad_request
from standin.params import Params, to_int
from standin.records import BotMessage, StoredFile, buttons
from standin.state import MessageListener
from standin.text import EntityParseError, normalize_url, parse_html, trim, utf16_length

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

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


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class MessageStore(ChatDirectory):
    """The bot's messages per chat as users see them, and the calls that send, edit and delete them."""

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, deleted ones included (flagged)."""
        return list(self._history[chat_id])

    def buttons(self, message: BotMessage) -> list[tuple[str, str | None]]:
        return buttons(message)

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

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._required_chat_id(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH, "message is too long")
        if not text:
            raise bad_request("message text is empty")
        markup = self._reply_markup(params)
        self._check_can_write(chat_id)
        reply_to = self._reply_to(params, chat_id)
        self._take_send_slot(chat_id, paid=params.flag("allow_paid_broadcast"))
        message = self._record_bot_message(
            chat_id, "text", text, params.text("text") or "", params, entities, markup, reply_to
        )
        return self._message_json(message)

    async def _send_chat_action(self, params: Params) -> bool:
        chat_id = self._required_chat_id(params)
        if params.text("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_can_write(chat_id)
        return True

    def _formatted(
        self, params: Params, name: str, entities_name: str, limit: int, too_long: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Plain text and entities of a text or caption after parse_mode, trimmed and length-checked."""
        raw = params.text(name) or ""
        parse_mode = params.text("parse_mode")
        if parse_mode:
            mode = parse_mode.lower()
            if mode in ("markdown", "markdownv2"):
                raise bad_request("the stand-in understands parse_mode HTML only")
            if mode != "html":
                raise bad_request("unsupported parse_mode")
            try:
                text, entities = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        else:
            text = raw
            given = params.structured(entities_name, "entities")
            entities = given if isinstance(given, list) else []
        text, entities = trim(text, entities)
        if utf16_length(text) > limit:
            raise bad_request(too_long)
        return text, entities

    def _reply_markup(self, params: Params) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        elif not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
        if "callback_data" in button:
            size = len(str(button["callback_data"]).encode())
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            if normalize_url(str(button["url"])) is None:
                raise bad_request("BUTTON_URL_INVALID")
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
            raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")

    def _reply_to(self, params: Params, chat_id: int) -> int | None:
        reply = params.structured("reply_parameters", "reply parameters")
        if isinstance(reply, dict):
            message_id = to_int(reply.get("message_id", 0))
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
        raise bad_request("message to be replied not found")

    def _record_bot_message(
        self,
        chat_id: int,
        kind: str,
        text: str,
        raw_text: str,
        params: Params,
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

    def _message_to_edit(self, params: Params) -> BotMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._required_chat_id(params)
        message_id = params.integer("message_id") or 0
        self._check_can_write(chat_id)
        if (chat_id, message_id) in self._user_messages:
            raise bad_request("message can't be edited")
        message = self._bot_messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        return message

    def _apply_edit(
        self, message: BotMessage, text: str, raw_text: str, params: Params, entities: list[dict[str, Any]]
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

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH, "message is too long")
        if not text:
            raise bad_request("message text is empty")
        return self._apply_edit(message, text, params.text("text") or "", params, entities)

    async def _edit_message_caption(self, params: Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        return self._apply_edit(message, caption, params.text("caption") or "", params, entities)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        markup = self._reply_markup(params)
        if markup == message.reply_markup:
            raise TelegramErrorReply(400, _NOT_MODIFIED)
        message.reply_markup, message.edited, message.edit_date = markup, True, int(time.time())
        self._notify_listeners(message)
        return self._message_json(message)

    async def _delete_message(self, params: Params) -> bool:
        chat_id = self._required_chat_id(params)
        key = (chat_id, params.integer("message_id") or 0)
        if self._user_messages.pop(key, None) is not None:
            return True
        message = self._bot_messages.get(key)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        self._notify_listeners(message)
        return True

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
