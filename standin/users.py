"""The user side: simulated people writing, sending pictures and contacts, editing, posting."""

from __future__ import annotations

import time
from typing import Any

from standin.callbacks import CallbackQueries
from standin.files import image_dimensions, solid_png
from standin.text import command_entities


class UserSide(CallbackQueries):
    """What simulated users do; each action becomes an update for the bot."""

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        """The user sends ``text``; a leading command gets its ``bot_command`` entity as in Telegram."""
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
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
        entities = command_entities(new_text)
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
        message_id = self._allocate_message_id(chat_id)
        post: dict[str, Any] = {
            "message_id": message_id,
            "sender_chat": dict(chat),
            "chat": dict(chat),
            "date": int(time.time()),
            "text": text,
        }
        self._user_messages[(chat_id, message_id)] = post
        self._emit("channel_post", post)
        return post

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
