"""Rewards and vouchers (SPEC §3 `/rewards`, §4 `/redeem`, `/rewards_admin`).

Pure rules: whether a member may redeem a reward and why not, voucher codes
(with a shop tag and a check character), and the owner's input when adding
or editing a reward. Errors carry codes; the Telegram layer words them.
"""
from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.digits import NotANumber, parse_decimal, parse_int, to_latin
from bot.domain.errors import DomainError, InsufficientPoints
from bot.domain.members import CODE_ALPHABET
from bot.domain.program import LANGS, Program

# -- errors -------------------------------------------------------------------


class RewardUnavailable(DomainError):
    """Unknown, paused, not yet or no longer offered."""

    code = "reward_unavailable"


class RewardLocked(DomainError):
    """Offered from a higher tier (details: tier index)."""

    code = "reward_locked"


class RewardSoldOut(DomainError):
    code = "reward_sold_out"


class RewardLimitReached(DomainError):
    code = "reward_limit_reached"


class RewardChanged(DomainError):
    """The reward's cost changed between the menu and the confirmation."""

    code = "reward_changed"


class OfferExpired(DomainError):
    """A confirmation button older than OFFER_TTL."""

    code = "offer_expired"


class AlreadyRedeemed(DomainError):
    """The confirmation button was used already: the voucher exists."""

    code = "already_redeemed"


class VoucherMistyped(DomainError):
    code = "voucher_mistyped"


class VoucherUnknown(DomainError):
    code = "voucher_unknown"


class VoucherForeign(DomainError):
    """A well-formed code with another shop's tag."""

    code = "voucher_foreign"


class VoucherUsed(DomainError):
    code = "voucher_used"


class VoucherExpired(DomainError):
    code = "voucher_expired"


class VoucherNotYours(DomainError):
    code = "voucher_not_yours"


class InvalidRewardInput(DomainError):
    """The owner typed something a reward field cannot take (details: field, text, low, high)."""

    code = "invalid_reward_input"


# -- eligibility ----------------------------------------------------------------

OFFER_TTL = timedelta(minutes=15)  # a confirmation button older than this is stale


class RewardLike(Protocol):
    cost: int
    active: bool
    stock: int | None
    per_member_limit: int | None
    min_tier: int
    starts_at: datetime | None
    ends_at: datetime | None


class Availability(enum.StrEnum):
    AVAILABLE = "available"
    UNAFFORDABLE = "unaffordable"
    LIMIT_REACHED = "limit_reached"
    SOLD_OUT = "sold_out"
    LOCKED = "locked"  # needs a higher tier
    HIDDEN = "hidden"  # paused or outside its window: members do not see it


def offered(reward: RewardLike, now: datetime) -> bool:
    """Active and inside its availability window."""
    if not reward.active:
        return False
    if reward.starts_at is not None and now < reward.starts_at:
        return False
    return not (reward.ends_at is not None and now >= reward.ends_at)


def early_access_ends(reward: Any) -> datetime | None:
    """When a reward with early access opens to every tier (None: no early access).

    Members of its minimum tier see it from when it is offered (its start, or
    when it was added); everyone else `early_access_hours` later.
    """
    hours = getattr(reward, "early_access_hours", None)
    opened: datetime | None = getattr(reward, "starts_at", None) or getattr(reward, "created_at", None)
    if not hours or opened is None:
        return None
    return opened + timedelta(hours=int(hours))


def tier_locked(reward: RewardLike, *, now: datetime, tier: int) -> bool:
    """Whether the member's tier keeps them from the reward now: below its
    minimum tier, unless its early access has ended."""
    if tier >= reward.min_tier:
        return False
    opens = early_access_ends(reward)
    return opens is None or now < opens


def availability(reward: RewardLike, *, now: datetime, tier: int, balance: int, taken: int) -> Availability:
    """What a member can do with `reward`; `taken` = their vouchers of it that count toward the limit."""
    if not offered(reward, now):
        return Availability.HIDDEN
    if tier_locked(reward, now=now, tier=tier):
        return Availability.LOCKED
    if reward.stock is not None and reward.stock <= 0:
        return Availability.SOLD_OUT
    if reward.per_member_limit is not None and taken >= reward.per_member_limit:
        return Availability.LIMIT_REACHED
    if balance < reward.cost:
        return Availability.UNAFFORDABLE
    return Availability.AVAILABLE


def check_redeemable(
    reward: RewardLike | None, *, now: datetime, tier: int, balance: int, taken: int, program: Program | None = None
) -> None:
    """Raise the error that explains why the member cannot redeem `reward` now."""
    if reward is None:
        raise RewardUnavailable()
    state = availability(reward, now=now, tier=tier, balance=balance, taken=taken)
    if state is Availability.HIDDEN:
        raise RewardUnavailable()
    if state is Availability.LOCKED:
        names = program.tiers[min(reward.min_tier, len(program.tiers) - 1)].name if program else None
        raise RewardLocked(tier=reward.min_tier, name=names, opens=early_access_ends(reward))
    if state is Availability.SOLD_OUT:
        raise RewardSoldOut()
    if state is Availability.LIMIT_REACHED:
        raise RewardLimitReached(limit=reward.per_member_limit)
    if state is Availability.UNAFFORDABLE:
        raise InsufficientPoints(needed=reward.cost, balance=balance)


def voucher_expiry(issued_at: datetime, valid_days: int, zone: ZoneInfo) -> datetime:
    """A voucher is valid through the whole last day (merchant time): the
    instant returned is the midnight that ends day `issued + valid_days`."""
    last_day = issued_at.astimezone(zone).date() + timedelta(days=valid_days)
    return day_start(last_day + timedelta(days=1), zone)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Merchant midnight that starts `day`, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=zone)


# -- voucher codes ----------------------------------------------------------------

VOUCHER_RANDOM = 6  # random characters after the shop tag, then one check character
_N = len(CODE_ALPHABET)


def _check_char(payload: str) -> str:
    """A position-weighted sum modulo 29 (the alphabet's size, a prime): with
    distinct weights below 29 it catches any single mistyped character and any
    swap of two neighbours, the check character included."""
    total = sum((position + 1) * CODE_ALPHABET.index(char) for position, char in enumerate(payload))
    return CODE_ALPHABET[total % _N]


def new_voucher_prefix() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(3))


def new_voucher_code(prefix: str) -> str:
    """`KQ7-2F9XAMB`: the shop tag, a dash, six random characters and a check character."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(VOUCHER_RANDOM))
    return f"{prefix}-{body}{_check_char(prefix + body)}"


@dataclass(frozen=True)
class VoucherCode:
    prefix: str
    code: str  # canonical form, as stored: PREFIX-BODY


def parse_voucher_code(text: str) -> VoucherCode:
    """A voucher code as typed or scanned: any case, any digits, with or
    without the dash or spaces. Raises VoucherMistyped when the check
    character does not match (a typo) or the shape is wrong."""
    raw = "".join(ch for ch in to_latin(text).upper() if ch not in " -_.")
    prefix_length = len(raw) - VOUCHER_RANDOM - 1
    if not 2 <= prefix_length <= 4 or any(ch not in CODE_ALPHABET for ch in raw):
        raise VoucherMistyped(text=text)
    prefix, body = raw[:prefix_length], raw[prefix_length:]
    if _check_char(raw[:-1]) != raw[-1]:
        raise VoucherMistyped(text=text)
    return VoucherCode(prefix, f"{prefix}-{body}")


# -- the owner's input ---------------------------------------------------------------

NAME_LIMIT = 64
DESCRIPTION_LIMIT = 300
COST_MAX = 10_000_000
STOCK_MAX = 1_000_000
LIMIT_MAX = 1000
DAYS_MAX = 3650
AMOUNT_MAX = Decimal(100_000_000)


def _bad(field: str, text: str, low: Any = None, high: Any = None) -> InvalidRewardInput:
    return InvalidRewardInput(field=field, text=text, low=low, high=high)


def parse_text(field: str, text: str, limit: int) -> str:
    cleaned = (text or "").strip()
    if not cleaned or len(cleaned) > limit:
        raise _bad(field, text, 1, limit)
    return cleaned


def parse_whole(field: str, text: str, low: int, high: int) -> int:
    try:
        value = parse_int(text)
    except NotANumber:
        raise _bad(field, text, low, high) from None
    if not low <= value <= high:
        raise _bad(field, text, low, high)
    return value


def parse_value(text: str, value_type: str) -> Decimal:
    """A discount: a percentage (1-100) or an amount of money (two decimals at most)."""
    high = Decimal(100) if value_type == "percent" else AMOUNT_MAX
    try:
        value = parse_decimal(text)
    except NotANumber:
        raise _bad("value", text, 1, high) from None
    if not Decimal(0) < value <= high:
        raise _bad("value", text, 1, high)
    return value


FIELDS = ("name", "description", "cost", "kind", "value", "stock", "limit", "min_tier", "valid_days", "available_days")


def parse_field(field: str, text: str) -> int | str:
    """The typed value of a numeric or text field of a reward."""
    if field == "name":
        return parse_text(field, text, NAME_LIMIT)
    if field == "description":
        return parse_text(field, text, DESCRIPTION_LIMIT)
    if field == "cost":
        return parse_whole(field, text, 1, COST_MAX)
    if field == "stock":
        return parse_whole(field, text, 0, STOCK_MAX)
    if field == "limit":
        return parse_whole(field, text, 1, LIMIT_MAX)
    if field in ("valid_days", "available_days"):
        return parse_whole(field, text, 1, DAYS_MAX)
    raise ValueError(f"not a typed field: {field}")


@dataclass(frozen=True)
class RewardDraft:
    """A reward as the owner described it, validated; what the catalog stores."""

    name: dict[str, str]
    description: dict[str, str]
    cost: int
    kind: str
    value: Decimal | None
    stock: int | None
    per_member_limit: int | None
    min_tier: int
    valid_days: int
    available_days: int | None  # offered for this many days from saving; None = no end

    @classmethod
    def from_data(cls, data: dict[str, Any], program: Program) -> RewardDraft:
        """Validate a draft collected by the conversation (JSON-friendly values)."""
        name = {lang: str(text) for lang, text in (data.get("name") or {}).items() if lang in LANGS and text}
        if not name:
            raise _bad("name", "", 1, NAME_LIMIT)
        description = {
            lang: str(text) for lang, text in (data.get("description") or {}).items() if lang in LANGS and text
        }
        kind = str(data.get("kind") or "")
        value_type = program.kind_value(kind)
        if value_type is None:
            raise _bad("kind", kind)
        raw_value = data.get("value")
        value = Decimal(str(raw_value)) if raw_value not in (None, "") else None
        if value_type == "none":
            value = None
        elif value is None:
            raise _bad("value", "", 1, 100 if value_type == "percent" else AMOUNT_MAX)
        min_tier = int(data.get("min_tier") or 0)
        if not 0 <= min_tier < len(program.tiers):
            raise _bad("min_tier", str(min_tier))
        return cls(
            name=name,
            description=description,
            cost=int(data["cost"]),
            kind=kind,
            value=value,
            stock=_optional_int(data.get("stock")),
            per_member_limit=_optional_int(data.get("limit")),
            min_tier=min_tier,
            valid_days=int(data.get("valid_days") or 30),
            available_days=_optional_int(data.get("available_days")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
