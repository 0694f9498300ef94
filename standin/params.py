"""One call's parameters, which arrive as form strings, uploaded parts or JSON values."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any

from standin.errors import bad_request

# Form posts carry nested values as JSON text; these are the ones the stand-in reads.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "entities",
        "caption_entities",
    }
)


def to_int(value: Any) -> int:
    """Telegram reads a malformed number as 0 rather than refusing it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else 0


class Params:
    """Typed reads of one call's parameters, which arrive as form strings or JSON values."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        return None if value is None or value == "" else to_int(value)

    def flag(self, name: str) -> bool:
        return str(self.values.get(name, "")).lower() in ("true", "1")

    def structured(self, name: str, what: str) -> Any:
        """A JSON parameter, already decoded; leftover text means it was not valid JSON."""
        value = self.values.get(name)
        if isinstance(value, str):
            raise bad_request(f"can't parse {what} JSON object")
        return value


def decode_json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    decoded = dict(params)
    for name in _JSON_PARAMS & decoded.keys():
        value = decoded[name]
        if isinstance(value, str):
            # left as text when it is not JSON; the method refuses it with Telegram's wording
            with contextlib.suppress(ValueError):
                decoded[name] = json.loads(value)
    return decoded
