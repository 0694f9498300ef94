"""Verifiable random choices (SPEC §11): prize draws and surprise rewards.

Everything random in these features is a deterministic function of a
secret seed and a list in a fixed order, so anyone holding the seed and the
list can recompute the result (README, "Prize draws: how to check one").

- The seed is 32 random bytes written as 64 lower-case hex characters.
- The commitment published when a draw opens is
  `sha256(seed.encode("ascii")).hexdigest()`.
- `select_winners(seed, owners, k)`: `owners[t]` is who holds ticket number
  `t + 1` (tickets are numbered from 1 in the fixed order). For round
  i = 0, 1, 2, …: `h = int.from_bytes(sha256(f"{seed}:{i}".encode()).digest(), "big")`;
  the winning ticket is `remaining[h % len(remaining)]`, where `remaining` is
  the ascending list of tickets whose holder has not won yet. Its holder
  wins; all their tickets leave `remaining`. Stop after `k` winners or when
  `remaining` is empty. (A 256-bit number modulo a list of at most millions
  has a bias below 2^-200: none worth removing.)
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.domain.digits import NotANumber, parse_decimal, parse_int, to_latin
from bot.domain.errors import DomainError

SEED_BYTES = 32
MAX_WINNERS = 100
MAX_PRIZES = 10
NAME_LIMIT = 80
H = TypeVar("H", bound=Hashable)


def new_seed() -> str:
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    """What is published before the draw: the SHA-256 of the seed's hex text."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def _round(seed: str, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode("ascii")).digest(), "big")


def select_winners(seed: str, owners: Sequence[H], count: int) -> list[int]:
    """Winning ticket numbers (1-based), in the order drawn; each holder wins at most once."""
    remaining = list(range(1, len(owners) + 1))
    winners: list[int] = []
    index = 0
    while len(winners) < count and remaining:
        ticket = remaining[_round(seed, index) % len(remaining)]
        holder = owners[ticket - 1]
        winners.append(ticket)
        remaining = [t for t in remaining if owners[t - 1] != holder]
        index += 1
    return winners


def pick(seed: str, candidates: Sequence[H], count: int) -> list[H]:
    """`count` distinct candidates (a surprise's members, in ascending id order)."""
    return [candidates[t - 1] for t in select_winners(seed, candidates, count)]


# -- entry rules ------------------------------------------------------------------------
PER_PURCHASE, PER_AMOUNT = "purchase", "amount"


def entries_for(rule: str, unit: Decimal | None, amount: Decimal | None) -> int:
    """Entries one purchase earns: one per purchase, or one per full `unit` spent."""
    if amount is None or amount <= 0:
        return 0
    if rule == PER_PURCHASE:
        return 1
    if unit is None or unit <= 0:
        return 0
    return int(amount // unit)


@dataclass(frozen=True)
class Ticketed:
    """One recorded entry row: its holder and how many tickets it gives."""

    holder: int
    tickets: int


def ticket_owners(rows: Sequence[Ticketed]) -> list[int]:
    """Rows in the fixed order (ascending ledger entry id) expanded to one holder per ticket."""
    owners: list[int] = []
    for row in rows:
        owners.extend([row.holder] * row.tickets)
    return owners


def window_open(opens_at: datetime, closes_at: datetime, moment: datetime) -> bool:
    return opens_at <= moment < closes_at


MAX_WINDOW_DAYS = 366
_SPAN = re.compile(r"^(\d{1,4})\s*([dh])$")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDrawWindow(text=text) from None


def parse_window(text: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The entry window as typed: `7d` or `48h` from now, `2026-03-20` (from now through
    that merchant day), or `2026-03-12 2026-03-20` (from the start of one day through the other)."""
    words = to_latin(text).strip().lower().split()
    if len(words) == 1 and (span := _SPAN.match(words[0])):
        amount, unit = int(span.group(1)), span.group(2)
        delta = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        opens_at, closes_at = now, now + delta
    elif len(words) == 1:
        opens_at = now
        closes_at = datetime.combine(_day(words[0]) + timedelta(days=1), time(0), tzinfo=zone)
    elif len(words) == 2:
        first, last = _day(words[0]), _day(words[1])
        opens_at = max(now, datetime.combine(first, time(0), tzinfo=zone))
        closes_at = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    else:
        raise InvalidDrawWindow(text=text)
    if closes_at <= opens_at or closes_at - now > timedelta(days=MAX_WINDOW_DAYS) or closes_at <= now:
        raise InvalidDrawWindow(text=text)
    return opens_at, closes_at


def parse_winners(text: str) -> int:
    try:
        count = parse_int(text)
    except NotANumber:
        raise InvalidWinners(text=text, maximum=MAX_WINNERS) from None
    if not 1 <= count <= MAX_WINNERS:
        raise InvalidWinners(text=text, maximum=MAX_WINNERS)
    return count


def parse_unit(text: str, maximum: Decimal) -> Decimal:
    try:
        unit = parse_decimal(text, max_places=2)
    except NotANumber:
        raise InvalidEntryUnit(text=text) from None
    if not Decimal(0) < unit <= maximum:
        raise InvalidEntryUnit(text=text)
    return unit


def parse_names(text: str) -> dict[str, str]:
    """The draw's name: one line for every language, or lines `en: …`, `ar: …`, `fa: …`."""
    names: dict[str, str] = {}
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        lang, sep, rest = line.partition(":")
        if sep and lang.strip().lower() in ("ar", "fa", "en") and rest.strip():
            names[lang.strip().lower()] = rest.strip()
    if not names:
        names = {"*": " ".join(lines)}
    if not any(names.values()):
        raise InvalidDrawName(limit=NAME_LIMIT)
    if any(len(name) > NAME_LIMIT for name in names.values()):
        raise NameTooLong(limit=NAME_LIMIT)
    if "*" in names:
        return {lang: names["*"] for lang in ("ar", "fa", "en")}
    return names


# -- errors -----------------------------------------------------------------------------
class DrawNotFound(DomainError):
    code = "draw_not_found"


class DrawNotOpen(DomainError):
    code = "draw_not_open"


class InvalidDrawWindow(DomainError):
    code = "invalid_draw_window"


class InvalidWinners(DomainError):
    code = "invalid_winners"


class InvalidEntryUnit(DomainError):
    code = "invalid_entry_unit"


class NameTooLong(DomainError):
    code = "draw_name_too_long"


class InvalidDrawName(DomainError):
    code = "invalid_draw_name"
