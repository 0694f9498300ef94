"""Stamp cards (SPEC §11 `[stamps]`): stamps in, full cards out.

Stamps have their own append-only ledger (`stamp_entries`), apart from
points: a stamp is not money, and a card's reward is a voucher, not a debit.
A card holds `every` stamps; the stamp that fills it turns the card into a
voucher and the rest start the next card. Stamps leave the card first in,
first out (a full card takes the oldest, expiry takes the oldest), so the
stamps on the current card are always the newest ones given.
"""
from __future__ import annotations

import enum

from bot.domain.digits import NotANumber, parse_int
from bot.domain.errors import DomainError

FILLED, EMPTY = "●", "○"


class StampKind(enum.StrEnum):
    STAMP = "stamp"  # stamps given (positive)
    CARD = "card"  # a full card turned into a voucher (minus `every`)
    EXPIRE = "expire"  # stamps older than `expiry_days` (negative)


class NoStampCard(DomainError):
    """The program has no [stamps] section."""

    code = "no_stamp_card"


class InvalidStampCount(DomainError):
    """details: text, maximum (what one member may get in a day)."""

    code = "invalid_stamp_count"


class StampCapReached(DomainError):
    """details: cap, given (stamps already given today), left (what may still be given today)."""

    code = "stamp_cap_reached"


def parse_stamp_count(text: str | None, maximum: int) -> int:
    """`/stamp <member> [n]`: n in any digits, 1 by default, at most `maximum` (the daily cap)."""
    if text is None or not text.strip():
        return 1
    try:
        count = parse_int(text)
    except NotANumber:
        raise InvalidStampCount(text=text, maximum=maximum) from None
    if not 1 <= count <= maximum:
        raise InvalidStampCount(text=text, maximum=maximum)
    return count


def fill(on_card: int, added: int, every: int) -> tuple[int, int]:
    """(cards completed, stamps on the card after) when `added` stamps join `on_card`."""
    total = on_card + added
    return total // every, total % every


def dots(on_card: int, every: int) -> str:
    """The card as the member sees it: ●●●○○○○○."""
    filled = max(0, min(on_card, every))
    return FILLED * filled + EMPTY * (every - filled)


def lapsed(on_card: int, given_within_expiry: int) -> int:
    """Stamps on the card older than the expiry period.

    The card holds the newest stamps (first in, first out), so all but the
    ones given within the period are older than it.
    """
    return max(0, on_card - max(0, given_within_expiry))
