"""The command menu: setMyCommands, getMyCommands and deleteMyCommands per scope and language."""

from __future__ import annotations

import re
from typing import Any

from standin.errors import bad_request
from standin.params import Params, to_int
from standin.users import UserSide

MAX_COMMANDS = 100

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


class CommandMenu(UserSide):
    """The command lists the bot set, keyed by (scope, language code)."""

    def _commands_key(self, params: Params) -> tuple[str, str]:
        """(scope key, language code): the scope key is its type, plus ``:chat_id[:user_id]`` for chat scopes."""
        scope = params.structured("scope", "BotCommandScope")
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        scope_type = scope.get("type")
        if scope_type not in _COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        scope_key = str(scope_type)
        if scope_type in ("chat", "chat_administrators", "chat_member"):
            scope_key += f":{self._required_chat_id(Params({'chat_id': scope.get('chat_id')}))}"
        if scope_type == "chat_member":
            scope_key += f":{to_int(scope.get('user_id', 0))}"
        language_code = params.text("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise bad_request("invalid language code specified")
        return scope_key, language_code

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.structured("commands", "commands") or []
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
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
            raise bad_request("can't parse BotCommand JSON object")
        name, description = str(command["command"]), str(command["description"]).strip()
        if not name:
            raise bad_request("command must be non-empty")
        if len(name) > 32:
            raise bad_request("command length must not exceed 32")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("command description length must not exceed 256")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise bad_request("BOT_COMMAND_INVALID")
        return {"command": name, "description": description}

    async def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return list(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    # -- the chat's menu button (setChatMenuButton / getChatMenuButton) -----------------
    async def _set_chat_menu_button(self, params: Params) -> bool:
        button = params.structured("menu_button", "MenuButton")
        button = button if isinstance(button, dict) else {"type": "default"}
        kind = button.get("type")
        if kind not in ("default", "commands", "web_app"):
            raise bad_request("can't parse menu button JSON object")
        if kind == "web_app":
            text = str(button.get("text") or "").strip()
            url = str((button.get("web_app") or {}).get("url") or "")
            if not text:
                raise bad_request("menu button text must be non-empty")
            if not url.startswith("https://"):
                raise bad_request("BUTTON_URL_INVALID")  # Telegram opens Mini Apps over HTTPS only
        key = str(to_int(params.get("chat_id"))) if params.get("chat_id") is not None else ""
        self.menu_buttons[key] = button
        return True

    async def _get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        key = str(to_int(params.get("chat_id"))) if params.get("chat_id") is not None else ""
        return self.menu_buttons.get(key) or self.menu_buttons.get("") or {"type": "commands"}
