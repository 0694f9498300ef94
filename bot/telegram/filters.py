"""Role filters. A user without the role simply does not match, so their
message falls through to the fallback router and gets the same answer as any
unknown command (SPEC §4)."""
from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject


class HasRole(Filter):
    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, role: str = "customer", **_: Any) -> bool:
        return role in self.roles


IsStaff = HasRole("staff", "owner")
IsOwner = HasRole("owner")
