"""/history: the member's ledger, newest first, a page at a time (SPEC §3)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain import errors
from bot.domain.ledger import Kind
from bot.services.ports import Context

PAGE_SIZE = 8
STAMP_LINES = 5  # the stamp ledger's newest entries, under the first page


@dataclass(frozen=True)
class HistoryPage:
    entries: list[Any]
    page: int
    has_older: bool
    has_newer: bool
    rewards: dict[str, Any]  # voucher code → reward, for redemption lines
    stamps: list[Any] = field(default_factory=list)  # the newest stamp entries, on the first page

    @property
    def first_id(self) -> int | None:
        return self.entries[0].id if self.entries else None

    @property
    def last_id(self) -> int | None:
        return self.entries[-1].id if self.entries else None


async def history_page(
    ctx: Context, member: Any, *, before: int | None = None, after: int | None = None, page: int = 1
) -> HistoryPage:
    """The page older than entry `before`, or newer than entry `after`, or the newest.

    Ids come from buttons, so they may be forged or stale: the queries only
    ever read this member's entries, and an empty page falls back to the newest.
    """
    if member is None:
        raise errors.NotAMember()
    page = max(1, min(page, 1_000_000))
    async with ctx.uow(readonly=True) as uow:
        if after is not None:
            entries = await uow.history.newer(member.id, after_id=after, limit=PAGE_SIZE)
        else:
            entries = await uow.history.older(member.id, before_id=before, limit=PAGE_SIZE)
        if not entries and (before is not None or after is not None):
            entries, page = await uow.history.older(member.id, before_id=None, limit=PAGE_SIZE), 1
        has_older = bool(entries) and bool(await uow.history.older(member.id, before_id=entries[-1].id, limit=1))
        has_newer = bool(entries) and bool(await uow.history.newer(member.id, after_id=entries[0].id, limit=1))
        codes = [e.note for e in entries if e.kind in (Kind.REDEEM, Kind.REFUND) and e.note]
        rewards = {v.code: await uow.rewards.get(v.reward_id) for v in await uow.vouchers.by_codes(codes)}
        stamps = []
        if ctx.program.stamps is not None and not has_newer:
            stamps = await uow.stamps.recent(member.id, limit=STAMP_LINES)
    return HistoryPage(entries, page if has_newer else 1, has_older, has_newer, rewards, stamps)
