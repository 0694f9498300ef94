"""The stand-in for one bot: every area put together, and the entry point for Bot API calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from standin.errors import TelegramErrorReply
from standin.params import Params, decode_json_params
from standin.state import DEFAULT_BOT_FIRST_NAME, DEFAULT_BOT_ID, DEFAULT_BOT_USERNAME
from standin.webhooks import Webhooks

_Handler = Callable[[Params], Awaitable[Any]]


class BotAPIStandIn(Webhooks):
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
        super().__init__(
            bot_id=bot_id, username=username, first_name=first_name, token=token, strict_ampersand=strict_ampersand
        )
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
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getfile": self._get_file,
            "close": self._always_true,
            "logout": self._always_true,
        }

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call to ``method`` (case-insensitive), in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    async def handle(self, method: str, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call and return (HTTP status, JSON body) as Telegram would.

        ``params`` may hold form strings (nested values as JSON text),
        :class:`UploadedFile` parts, or already-decoded JSON values.
        """
        decoded = decode_json_params(params)
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
            wrapped = Params(decoded)
            self._raise_injected_failure(name, wrapped)
            result = await handler(wrapped)
        except TelegramErrorReply as error:
            return error.status, error.body()
        finally:
            if counts_as_activity:
                self._active_calls -= 1
                self._mark_activity()
        return 200, {"ok": True, "result": result}

    async def _always_true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
