"""What services need from the outside world, as protocols.

Services depend on these shapes, not on `storage` or `aiogram`: the
composition root (`bot.app`) plugs the real database in, tests may plug in
anything with the same shape.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.program import Program


class UnitOfWork(Protocol):
    members: Any
    ledger: Any
    staff: Any
    settings: Any
    outbox: Any
    tokens: Any
    audit: Any
    rewards: Any
    vouchers: Any
    lots: Any
    tier_events: Any
    campaigns: Any
    history: Any
    privacy: Any
    broadcasts: Any
    audiences: Any
    referrals: Any
    surveys: Any
    reports: Any
    api_keys: Any
    orders: Any
    claims: Any
    operations: Any
    stamps: Any
    actions: Any
    grants: Any
    budgets: Any
    recovery: Any
    surprises: Any
    draws: Any
    programs: Any

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class Context(Protocol):
    """Everything a use case needs: a unit-of-work factory, the program, time."""

    program: Program

    @property
    def owners(self) -> frozenset[int]:
        """ADMIN_IDS: the Telegram ids of the owners."""
        ...

    @property
    def zone(self) -> ZoneInfo:
        """TIMEZONE: the merchant's time zone."""
        ...

    @property
    def region(self) -> str | None:
        """DEFAULT_REGION: where phone numbers written without a country code are read."""
        ...

    @property
    def paid_broadcast(self) -> bool:
        """PAID_BROADCAST: the outbox sends with `allow_paid_broadcast` (Stars), up to 1000/s."""
        ...

    @property
    def erasure_key(self) -> bytes | None:
        """The key of the hash that recognises a former member (SPEC §7); None if unconfigured."""
        ...

    def uow(self, *, readonly: bool = False) -> UnitOfWork: ...

    async def after_erasure(self) -> None:
        """Called after /forget committed: make the database drop the erased bytes."""
        ...

    def now(self) -> datetime: ...


Clock = Callable[[], datetime]
