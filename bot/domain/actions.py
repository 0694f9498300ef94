"""Earning actions (SPEC §11): limits per period in merchant time, check-in codes.

An action is done at most once per *period* of its limit: `once` (ever),
`daily`, `weekly` or `monthly`, all counted in the merchant's zone, so a
member in Tehran who checks in at 23:59 and again at 00:01 did it on two
days, whatever the UTC date says. The period's key is part of the
idempotency key of the points, which is what makes the limit hold under
retries and concurrency.
"""
from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.digits import to_latin
from bot.domain.errors import DomainError
from bot.domain.members import CODE_ALPHABET

LIMITS = ("once", "daily", "weekly", "monthly")
WEEKDAYS = {"monday": 0, "saturday": 5, "sunday": 6}
CODE_LENGTH = 6
PAYLOAD_PREFIX = "act-"
_CODE = re.compile(r"^[A-Z0-9_-]{3,32}$")


# -- errors -------------------------------------------------------------------


class ActionUnknown(DomainError):
    """No action of the program has this id (details: action)."""

    code = "action_unknown"


class ActionDone(DomainError):
    """Already done this period (details: limit, again = when it can be done again, or None)."""

    code = "action_done"


class WrongVerification(DomainError):
    """The action is verified another way (details: verify)."""

    code = "action_wrong_verification"


class CheckinCodeUnknown(DomainError):
    code = "checkin_code_unknown"


class CheckinCodeExpired(DomainError):
    """details: expired_at (the instant it stopped working)."""

    code = "checkin_code_expired"


class CheckinCodeMissing(DomainError):
    code = "checkin_code_missing"


class NotInChannel(DomainError):
    """getChatMember says the user is not (or no longer) in the channel (details: channel)."""

    code = "not_in_channel"


class ChannelCheckUnavailable(DomainError):
    """The bot cannot see the channel's members (not an admin there); the owner is told."""

    code = "channel_check_unavailable"


class RequestPending(DomainError):
    """The member already asked staff for this action this period; it waits for them."""

    code = "action_request_pending"


class RequestDecided(DomainError):
    """Staff pressed a button of a request someone already approved or declined (details: status)."""

    code = "action_request_decided"


class EventConflict(DomainError):
    """The same event id came before for another member or action."""

    code = "event_conflict"


# -- periods --------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str  # goes into the idempotency key: one per member, action and period
    ends: datetime | None  # when the next period starts (None: `once`, never again)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def period_of(limit: str, moment: datetime, zone: ZoneInfo, *, week_starts: str = "monday") -> Period:
    """The period of `limit` that contains `moment`, in the merchant's zone.

    Days start at merchant midnight (on a day when the clocks change the day
    is 23 or 25 hours long; the local date decides, never a fixed 24 hours);
    weeks start on `week_starts`; months are calendar months.
    """
    if limit == "once":
        return Period("once", None)
    day = moment.astimezone(zone).date()
    if limit == "daily":
        return Period(day.isoformat(), _midnight(day + timedelta(days=1), zone))
    if limit == "weekly":
        first = day - timedelta(days=(day.weekday() - WEEKDAYS[week_starts]) % 7)
        return Period(f"w{first.isoformat()}", _midnight(first + timedelta(days=7), zone))
    if limit == "monthly":
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return Period(f"m{day.year:04d}-{day.month:02d}", _midnight(following, zone))
    raise ValueError(f"unknown limit {limit!r}")


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the merchant day that contains `moment`."""
    day = moment.astimezone(zone).date()
    return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)


def points_key(action_id: str, period: Period, member_id: int) -> str:
    """The ledger key of an action's points: unique per member, action and period,
    so the limit holds however many requests, taps or events arrive."""
    return f"action:{action_id}:{period.key}:{member_id}"


# -- check-in codes --------------------------------------------------------------


def normalize_code(text: str) -> str:
    """A check-in code as typed: any case, any digits, spaces dropped. Raises
    CheckinCodeUnknown for something that cannot be a code."""
    cleaned = to_latin(text).replace(" ", "").upper()
    if not _CODE.match(cleaned):
        raise CheckinCodeUnknown(text=text)
    return cleaned


def new_action_code() -> str:
    """A code an owner prints for an event: six characters nobody misreads."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_from_payload(payload: str | None) -> str | None:
    """`/start act-<code>` (the deep link of a printed QR): the code, else None."""
    if not payload or not payload.startswith(PAYLOAD_PREFIX):
        return None
    rest = payload[len(PAYLOAD_PREFIX):]
    return rest.upper() if _CODE.match(rest.upper()) else None


CODE_VALIDITY_DAYS = (1, 7, 30)  # what /actions offers for a new code


def code_expiry(issued_at: datetime, days: int, zone: ZoneInfo) -> datetime:
    """A code made today and valid for `days` works through the end of day `days` (merchant time)."""
    last_day = issued_at.astimezone(zone).date() + timedelta(days=days - 1)
    return _midnight(last_day + timedelta(days=1), zone)


# -- channel membership ------------------------------------------------------------


class ChannelMembership(enum.Enum):
    MEMBER = "member"
    LEFT = "left"  # not in the channel (never joined, left, or removed)
    UNAVAILABLE = "unavailable"  # the bot cannot see the channel's members


JOINED_STATUSES = frozenset({"creator", "administrator", "member"})


def membership_from_status(status: str, *, is_member: bool | None = None) -> ChannelMembership:
    """Telegram's ChatMember status as a fact: restricted users count while they are in."""
    if status in JOINED_STATUSES or (status == "restricted" and is_member):
        return ChannelMembership.MEMBER
    return ChannelMembership.LEFT
