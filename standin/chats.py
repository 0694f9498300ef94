"""Users, groups and channels: who exists, who started the bot, who blocked it."""

from __future__ import annotations

import time
from typing import Any, cast

from standin.errors import bad_request, forbidden
from standin.params import Params, to_int
from standin.updates import UpdateQueue


class ChatDirectory(UpdateQueue):
    """Who the bot can reach: registered users, groups and channels, started and blocked chats."""

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

    def channel(self, chat_id: int, title: str, *, username: str | None = None) -> dict[str, Any]:
        """Register a channel the bot administers, so it can post there and see posts."""
        if chat_id >= 0:
            raise ValueError(f"channel ids are negative, got {chat_id}")
        chat: dict[str, Any] = {"id": chat_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        return dict(chat)

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

    def _required_chat_id(self, params: Params) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            username = raw[1:].lower()
            chat_id: int | None = next(
                (known for known, chat in self._chats.items() if chat.get("username", "").lower() == username), None
            )
        else:
            chat_id = to_int(raw)
        if chat_id is None or self._chat_json(chat_id) is None:
            raise bad_request("chat not found")
        return chat_id

    def _check_can_write(self, chat_id: int) -> None:
        if chat_id in self._users:
            if chat_id not in self._started:
                raise forbidden("bot can't initiate conversation with a user")
            if chat_id in self._blocked:
                raise forbidden("bot was blocked by the user")

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = cast(dict[str, Any], self._chat_json(self._required_chat_id(params)))
        gift_types = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {name: False for name in gift_types},
        }
