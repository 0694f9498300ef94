"""Inline buttons: the user's presses (callback queries) and the bot's answerCallbackQuery."""

from __future__ import annotations

from typing import Any

from standin.errors import TelegramErrorReply
from standin.files import FileStore
from standin.params import Params
from standin.records import AnsweredCallback, buttons

_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class CallbackQueries(FileStore):
    """Button presses that wait for the bot's answerCallbackQuery."""

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
        callback_id = str(next(self._callback_ids))
        callback: dict[str, Any] = {
            "id": callback_id,
            "from": sender,
            "message": self._message_json(message),
            "chat_instance": str((abs(chat_id) * 2654435761 + self.bot_id) % 2**63),
            "data": data,
        }
        self._open_callbacks[callback_id] = callback
        self._emit("callback_query", callback)
        return callback

    async def _answer_callback_query(self, params: Params) -> bool:
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
