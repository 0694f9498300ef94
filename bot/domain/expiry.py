"""Points expiry: oldest first, exact to the point.

Every credit the program lets expire (earnings, see `ledger.EARNING_KINDS`)
opens a *lot* that remembers how much of it is left. Spending takes from the
lots that expire soonest, and only then from points that never expire
(manual adjustments, voucher refunds), so a member loses as little as
possible. Whatever is left of a lot when its date passes expires, written to
the ledger as one entry per member and day. The lots are a cache of the
ledger: `replay` rebuilds them from the entries alone.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass
class Lot:
    entry_id: int
    expires_at: datetime
    remaining: int


def consume(lots: list[Lot], amount: int) -> list[tuple[int, int]]:
    """Take `amount` from `lots` soonest-expiring first; returns (entry_id, taken).

    `lots` is changed in place (emptied lots removed). What the lots cannot
    cover comes from non-expiring points, which the caller's balance check
    has already guaranteed.
    """
    taken: list[tuple[int, int]] = []
    lots.sort(key=lambda lot: (lot.expires_at, lot.entry_id))
    while amount > 0 and lots:
        lot = lots[0]
        bite = min(lot.remaining, amount)
        lot.remaining -= bite
        amount -= bite
        taken.append((lot.entry_id, bite))
        if lot.remaining == 0:
            lots.pop(0)
    return taken


def replay(entries: Iterable[tuple[int, int, datetime | None]]) -> list[Lot]:
    """The open lots after `entries` = (entry_id, delta, expires_at), in ledger order."""
    lots: list[Lot] = []
    for entry_id, delta, expires_at in entries:
        if delta > 0 and expires_at is not None:
            lots.append(Lot(entry_id, expires_at, delta))
        elif delta < 0:
            consume(lots, -delta)
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.entry_id))


def due(lots: Iterable[Lot], cutoff: datetime) -> int:
    """Points of `lots` whose expiry is at or before `cutoff`."""
    return sum(lot.remaining for lot in lots if lot.expires_at <= cutoff)


def reminder_batch(first_expiry: date, days: int) -> int:
    """Which reminder a member's soonest expiring points belong to.

    Expiry dates are grouped into fixed blocks of `days` days; a member is
    reminded once per block (of all the points expiring inside it, as soon as
    the first of them is `days` away), however many purchases that covers.
    """
    return first_expiry.toordinal() // max(days, 1)


def batch_end(batch: int, days: int) -> date:
    """The first date after the block of expiry dates `batch` covers."""
    return date.fromordinal((batch + 1) * max(days, 1))
