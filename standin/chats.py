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
        if admin:
            self._not_admin.discard(chat_id)
        else:
            self._not_admin.add(chat_id)

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

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat_id = self._required_chat_id(params)
        user_id = params.integer("user_id")
        if user_id is None:
            raise bad_request("invalid user_id specified")
        if user_id == self.bot_id:
            user = self.bot_user
        elif user_id in self._users:
            user = {k: v for k, v in self._users[user_id].items() if k in ("id", "is_bot", "first_name", "last_name", "username")}
        else:
            raise bad_request("user not found")
        if chat_id not in self._chats:  # a private chat: its user and the bot are in it
            if user_id not in (chat_id, self.bot_id):
                raise bad_request("user not found")
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
            raise bad_request("member list is inaccessible")
        return {"status": "member" if user_id in self._chat_members[chat_id] else "left", "user": user}
