"""Staff management rules (SPEC §4 `/staff add|remove <user id>`)."""
from __future__ import annotations

import re

from bot.domain.digits import to_latin
from bot.domain.errors import DomainError

# Telegram user ids are positive and fit in 52 bits today; allow some headroom.
_USER_ID = re.compile(r"^[1-9]\d{0,15}$")


class InvalidUserId(DomainError):
    code = "invalid_user_id"


class NeverOpenedBot(DomainError):
    """/staff add for someone who never sent /start: the bot cannot message them
    (Telegram forbids it) and does not know their language. details: telegram_id."""

    code = "never_opened_bot"


class StaffIsOwner(DomainError):
    """Owners come from ADMIN_IDS: they are not added to or removed from the staff list."""

    code = "staff_is_owner"


def parse_user_id(text: str) -> int | None:
    """A Telegram user id typed in any digit set, or None when `text` is not one."""
    cleaned = to_latin(text).strip()
    return int(cleaned) if _USER_ID.match(cleaned) else None
