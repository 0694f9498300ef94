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
