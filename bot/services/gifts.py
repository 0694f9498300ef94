"""A message the bot sends on its own with an optional bonus (birthday, win-back):
the bonus and the message share one idempotency key, so a job run twice pays and
speaks once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork


@dataclass
class GiftTally:
    queued: int = 0  # messages queued by this run
    credited: int = 0  # bonuses paid by this run
    already: int = 0  # handled by an earlier run


async def send_gift(
    ctx: Context, uow: UnitOfWork, row: Any, tally: GiftTally, *, key: str, kind: str, ledger_kind: str,
    category: str, bonus: int, now: datetime, extra: dict[str, Any] | None = None,
) -> None:
    """Credit `bonus` (if any) and queue the `kind` message to the member of `row`
    (id, telegram_id, first_name), both under `key`, in the caller's transaction."""
    if await uow.outbox.by_key(key) is not None:
        tally.already += 1
        return
    member = await uow.members.by_id(row.id)
    points = 0
    if bonus and await credit(ctx, uow, member, bonus, ledger_kind, key=key, now=now):
        points = bonus
        tally.credited += 1
    await uow.members.refresh(member)
    payload = {"first_name": row.first_name, "bonus": points, "balance": member.balance, **(extra or {})}
    if await uow.outbox.enqueue(
        key=key, chat_id=row.telegram_id, member_id=row.id, kind=kind, category=category, payload=payload, now=now
    ):
        tally.queued += 1
