"""Referrals (SPEC §3 `/start ref-<code>`, `/invite`): links, attribution and payout rules.

A friend is attributed to the member whose link they started with, once,
at enrolment. Both sides are rewarded only after the friend's first
qualifying purchase (one that earns points), and only one level up: the
direct referrer, never the referrer's referrer. Guard rails:

- nobody refers themselves, and an existing member is never re-attributed;
- a referrer is rewarded for at most `referrals.monthly_cap` friends per
  calendar month (merchant time; 0 means no cap); the friend still gets
  their bonus, because they did nothing wrong;
- a circular chain (the friend is among the referrer's own referrers,
  which only edited or imported data can produce) pays nobody.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from bot.domain.members import looks_like_code

# Telegram's rule for /start payloads: A-Z a-z 0-9 _ - and at most 64 characters.
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REFERRAL_PREFIX = "ref-"
MAX_CHAIN = 64  # how far up the referrer chain a circularity check walks


def referral_code_from_payload(payload: str | None) -> str | None:
    """The member code in a `/start ref-<code>` payload, or None for anything else.

    Malformed payloads, other deep links and codes that cannot exist are
    None: the caller enrols normally and says nothing about them.
    """
    if not payload or not START_PAYLOAD.match(payload):
        return None
    if not payload.lower().startswith(REFERRAL_PREFIX):
        return None
    code = payload[len(REFERRAL_PREFIX):].upper()
    return code if looks_like_code(code) else None


def invite_link(bot_username: str, code: str) -> str:
    """`https://t.me/<bot>?start=ref-<code>`: opening it sends `/start ref-<code>`."""
    return f"https://t.me/{bot_username}?start={REFERRAL_PREFIX}{code}"


def share_link(link: str, text: str) -> str:
    """Telegram's share dialog pre-filled with the invite link and a message."""
    return "https://t.me/share/url?" + urlencode({"url": link, "text": text}, quote_via=quote)


class Attribution(enum.StrEnum):
    """What a `/start ref-<code>` did."""

    ATTRIBUTED = "attributed"  # a new member, credited to the referrer
    SELF = "self"  # the member's own link
    ALREADY_MEMBER = "already_member"  # an existing member cannot be re-attributed
    IGNORED = "ignored"  # unknown or erased referrer: enrol normally, say nothing


def attribution_for(
    *,
    user_telegram_id: int,
    is_new_member: bool,
    referrer_telegram_id: int | None,
    referrer_erased: bool,
    current_referrer_id: int | None = None,
    referrer_id: int | None = None,
) -> Attribution:
    """Decide whether a start with someone's link attributes the user to them."""
    if referrer_id is None or referrer_erased or referrer_telegram_id is None:
        return Attribution.IGNORED
    if referrer_telegram_id == user_telegram_id:
        return Attribution.SELF
    if not is_new_member:
        # Tapping the link of the friend who already referred you changes nothing and needs no remark.
        return Attribution.IGNORED if current_referrer_id == referrer_id else Attribution.ALREADY_MEMBER
    return Attribution.ATTRIBUTED


class Payout(enum.StrEnum):
    REWARDED = "rewarded"  # both sides paid
    CAPPED = "capped"  # the referrer reached the monthly cap: only the friend is paid
    CIRCULAR = "circular"  # the friend is among the referrer's referrers: nobody is paid
    REFERRER_GONE = "referrer_gone"  # the referrer erased their data: only the friend is paid


@dataclass(frozen=True)
class PayoutDecision:
    outcome: Payout
    referrer_points: int
    referee_points: int


def decide_payout(
    *,
    referee_id: int,
    referrer_chain: list[int],
    referrer_active: bool,
    rewarded_this_month: int,
    monthly_cap: int,
    referrer_bonus: int,
    referee_bonus: int,
) -> PayoutDecision:
    """Who gets what when a referred friend makes their first qualifying purchase.

    `referrer_chain` is the referrer's id followed by their referrer, and so on.
    """
    if referee_id in referrer_chain:
        return PayoutDecision(Payout.CIRCULAR, 0, 0)
    if not referrer_active:
        return PayoutDecision(Payout.REFERRER_GONE, 0, referee_bonus)
    if monthly_cap and rewarded_this_month >= monthly_cap:
        return PayoutDecision(Payout.CAPPED, 0, referee_bonus)
    return PayoutDecision(Payout.REWARDED, referrer_bonus, referee_bonus)


def month_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Start of the calendar month containing `now` in the merchant's zone, as UTC."""
    local = now.astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Re-attach the zone so a DST change within the month gives the right offset.
    return first.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC)
