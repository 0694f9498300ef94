"""Broadcasts (SPEC §4 `/broadcast`): who gets them, what may be sent, when.

A segment is evaluated when the broadcast goes out, not when it is written,
so a scheduled message reaches the members who fit at that moment.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.calendars import CALENDARS, DateTooFar, parse_day_ahead
from bot.domain.delivery import FOOTER_ROOM, OWNER_TEXT_LIMIT, longest_personalised
from bot.domain.digits import NotANumber, parse_int, to_latin
from bot.domain.errors import DomainError

SEGMENT_KINDS = ("all", "language", "tier", "inactive", "birthdays", "never")
LANGUAGES = ("ar", "fa", "en")
MAX_INACTIVE_DAYS = 3650
SCHEDULE_HORIZON_DAYS = 60


class InvalidDays(DomainError):
    code = "invalid_days"


class MessageTooLong(DomainError):
    code = "message_too_long"


class EmptyMessage(DomainError):
    code = "empty_message"


class UnreadableTime(DomainError):
    code = "unreadable_time"


class TimeInPast(DomainError):
    code = "time_in_past"


@dataclass(frozen=True)
class Segment:
    kind: str
    language: str | None = None
    tier: int | None = None
    days: int | None = None  # inactive for at least this many days
    calendar: str | None = None  # birthdays: the calendar whose "this month" is meant

    def __post_init__(self) -> None:
        valid = self.kind in SEGMENT_KINDS and (
            (self.kind != "language" or self.language in LANGUAGES)
            and (self.kind != "tier" or (self.tier is not None and self.tier >= 0))
            and (self.kind != "inactive" or (self.days is not None and 1 <= self.days <= MAX_INACTIVE_DAYS))
            and (self.kind != "birthdays" or self.calendar in CALENDARS)
        )
        if not valid:
            raise ValueError(f"not a segment: {self!r}")

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(
            kind=data.get("kind"),  # type: ignore[arg-type]  # a missing kind fails __post_init__, as before
            language=data.get("language"),
            tier=data.get("tier"),
            days=data.get("days"),
            calendar=data.get("calendar"),
        )


def parse_days(text: str) -> int:
    """Days of inactivity typed in any digits: 1 to 3650."""
    try:
        days = parse_int(text)
    except NotANumber:
        raise InvalidDays(text=text, maximum=MAX_INACTIVE_DAYS) from None
    if not 1 <= days <= MAX_INACTIVE_DAYS:
        raise InvalidDays(text=text, maximum=MAX_INACTIVE_DAYS)
    return days


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


CAPTION_LIMIT = 1024  # a photo's caption (Bot API sendPhoto)
OWNER_CAPTION_LIMIT = CAPTION_LIMIT - FOOTER_ROOM


def check_text(plain: str, markup: str, *, photo: bool = False) -> None:
    """The owner's text must fit a Telegram message (a photo's caption, with a photo)
    once names and points are filled in."""
    if not plain.strip():
        raise EmptyMessage()
    limit = OWNER_CAPTION_LIMIT if photo else OWNER_TEXT_LIMIT
    longest = longest_personalised(utf16_length(plain), markup)
    if longest > limit:
        raise MessageTooLong(length=longest, limit=limit)


_TIME = re.compile(r"(?<!\d)(\d{1,2})[:٫.](\d{2})(?!\d)")
_TOMORROW = {"tomorrow", "فردا", "غدا", "بكرة"}
_TODAY = {"today", "امروز", "اليوم"}
# Arabic short vowels and tanwin (غدًا, غداً, غدٍ) are optional in writing: compared without them.
_HARAKAT = re.compile("[\u064b-\u0652]")


def parse_send_time(text: str, now_local: datetime, *, horizon_days: int = SCHEDULE_HORIZON_DAYS) -> datetime:
    """When to send, in merchant time: `18:30` (today, or tomorrow once passed),
    `tomorrow 09:15`, `2026-03-12 18:30`, `۱۴۰۴/۱۲/۲۲ ۱۸:۳۰`. Returns an aware datetime
    in `now_local`'s zone, after now and at most `horizon_days` ahead."""
    raw = to_latin(text).lower()
    match = _TIME.search(raw)
    if match is None:
        raise UnreadableTime(text=text)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise UnreadableTime(text=text)
    rest = _HARAKAT.sub("", raw[: match.start()] + " " + raw[match.end() :]).strip()
    today = now_local.date()
    if not rest or rest in _TODAY:
        day = today
        roll = True
    elif rest in _TOMORROW:
        day, roll = today + timedelta(days=1), False
    else:
        day, roll = parse_day_ahead(rest, today, horizon_days=horizon_days), False
    zone = now_local.tzinfo
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    if moment <= now_local:
        if not roll:
            raise TimeInPast(text=text)
        moment += timedelta(days=1)
    if moment - now_local > timedelta(days=horizon_days):
        raise DateTooFar(text=text, days=horizon_days)
    return moment


# -- paid broadcasts (PAID_BROADCAST=1) ----------------------------------------------
FREE_PER_SECOND = 30  # Telegram's free bulk rate
STAR_TENTHS_PER_PAID_MESSAGE = 1  # 0.1 Star for each message beyond the free rate


def paid_broadcast_star_tenths(sent: int, seconds: float) -> int:
    """Tenths of a Telegram Star a paid broadcast of `sent` messages over `seconds`
    (first to last delivery) may cost: every message beyond the free 30 a second
    costs 0.1 Star (Bot API `allow_paid_broadcast`). An estimate from the average
    rate: a burst above it inside one second costs a little more."""
    if sent <= 0:
        return 0
    free = FREE_PER_SECOND * (int(max(0.0, seconds)) + 1)
    return max(0, sent - free) * STAR_TENTHS_PER_PAID_MESSAGE
