"""Rules for messages the bot sends on its own (SPEC §5): categories, quiet
hours, and safe personalisation of texts the owner writes.

Categories decide who gets a message and when:

| category  | examples                                   | needs consent | waits out quiet hours |
|-----------|--------------------------------------------|---------------|-----------------------|
| service   | points receipt, voucher, owner's reports   | no            | no                    |
| reminder  | birthday greeting, expiry reminder, survey | no            | yes                   |
| marketing | broadcasts, win-back offers                | yes           | yes                   |

A receipt for a purchase at 22:30 arrives at 22:30: the member is at the
counter. Anything the bot decides to say on its own waits for the morning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

SERVICE, REMINDER, MARKETING = "service", "reminder", "marketing"
CATEGORIES = (SERVICE, REMINDER, MARKETING)
QUIET_CATEGORIES = frozenset({REMINDER, MARKETING})
CONSENT_CATEGORIES = frozenset({MARKETING})


class DeliveryStatus(StrEnum):
    """Where an outbox row stands. The values are what the `outbox.status` column holds.

    pending → sending (claimed by one sender, committed before the call) →
    sent | failed | blocked | opted_out | unknown; a member's pending rows
    become cancelled when they erase their data. `unknown` means the call may
    have reached Telegram: such a row is never sent again.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the member blocked the bot (or was erased): no call is made
    OPTED_OUT = "opted_out"  # marketing to a member who did not agree to offers
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


# Rows a sender may still act on; a batch (a broadcast) is finished when none is left.
OPEN_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.SENDING})


class SendOutcome(StrEnum):
    """What one call to Telegram came to, as far as the outbox is concerned."""

    SENT = "sent"  # Telegram accepted the message
    RATE_LIMITED = "rate_limited"  # 429: every send waits `retry_after`
    BLOCKED = "blocked"  # 403: the member blocked the bot
    REJECTED = "rejected"  # another 4xx: this message can never be sent
    UNAUTHORIZED = "unauthorized"  # 401: nothing can be sent until the token is fixed
    NOT_TAKEN = "not_taken"  # 5xx, another refusal, or a connection that never opened
    IN_DOUBT = "in_doubt"  # the request left but no answer came: it may have arrived


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    error: str | None = None  # Telegram's words (or the transport's), kept on the row
    retry_after: float = 0.0  # seconds, for RATE_LIMITED
    message_id: int | None = None  # SENT: Telegram's id of the message

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in merchant time, e.g. 22:00–09:00 (it may cross midnight)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def end_after(self, local: datetime) -> datetime:
        """The first moment at or after `local` (an aware merchant-time datetime) outside the window."""
        if not self.contains(local.timetz().replace(tzinfo=None)):
            return local
        end = datetime.combine(local.date(), self.end, tzinfo=local.tzinfo)
        if end <= local:
            end += timedelta(days=1)
        return end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_quiet_hours(text: str) -> QuietHours | None:
    """`"22:00-09:00"` → QuietHours; `""` or `"off"` → None; ValueError otherwise."""
    if not text.strip() or text.strip().lower() == "off":
        return None
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window like 22:00-09:00 (or \"off\")")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r} has a time that does not exist")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"{text!r} starts and ends at the same time")
    return QuietHours(time(h1, m1), time(h2, m2))


def release_time(category: str, now: datetime, quiet: QuietHours | None, zone: object) -> datetime | None:
    """When a message of `category` may go if it is due at `now` (UTC): None = now."""
    if quiet is None or category not in QUIET_CATEGORIES:
        return None
    local = now.astimezone(zone)  # type: ignore[arg-type]
    end = quiet.end_after(local)
    return None if end == local else end


# -- personalisation --------------------------------------------------------------
PLACEHOLDERS = ("first_name", "points")
_PLACEHOLDER = re.compile(r"\{(first_name|points)\}")
# What a placeholder can grow to: Telegram first names have at most 64
# characters (we keep 128); a points figure with its word stays under 40.
PLACEHOLDER_ROOM = {"first_name": 128, "points": 40}
TEXT_LIMIT = 4096
# Marketing messages end with a line on how to stop them; the owner's text leaves room for it.
FOOTER_ROOM = 120
OWNER_TEXT_LIMIT = TEXT_LIMIT - FOOTER_ROOM


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace exactly `{first_name}` and `{points}`; every other brace stays as typed.

    `str.format` would raise on `{price}` or a lone `{` an owner typed, and
    would let `{0.__class__}` reach into objects: this never does either.
    """
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def longest_personalised(plain_length: int, text: str) -> int:
    """The longest a text of `plain_length` characters can get once personalised."""
    growth = 0
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        growth += PLACEHOLDER_ROOM[name] - len(match.group(0))
    return plain_length + max(0, growth)
