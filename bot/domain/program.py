"""The loyalty program: earning, bonuses, tiers, expiry, rewards seed (SPEC §2).

Loaded from `PROGRAM_FILE` (TOML) or the built-in café default, validated
once at start. Everything here is data the merchant changes without code.
"""
from __future__ import annotations

import re
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain.delivery import QuietHours, parse_quiet_hours
from bot.domain.members import CODE_ALPHABET

LANGS = ("ar", "fa", "en")
# Reward kinds the code knows (labels are translated in the Telegram layer) and
# what their value means: a percentage, an amount of money, or nothing. A
# program adds its own kinds under [reward_kinds.<slug>] with names per language.
BUILTIN_REWARD_KINDS: dict[str, str] = {
    "discount_percent": "percent",
    "discount_amount": "amount",
    "free_product": "none",
    "free_shipping": "none",
    "gift": "none",
}


class ProgramError(ValueError):
    """The program file is invalid; the message names the key."""


_SLUG = re.compile(r"^[a-z0-9_]{1,32}$")


def _check_localized(value: dict[str, str]) -> dict[str, str]:
    unknown = set(value) - set(LANGS)
    if unknown:
        raise ValueError(f"unknown language {sorted(unknown)[0]!r}; use ar, fa or en")
    cleaned = {lang: text.strip() for lang, text in value.items() if text and text.strip()}
    if not cleaned:
        raise ValueError("needs a text in at least one of ar, fa, en")
    return cleaned


def _check_optional_localized(value: dict[str, str]) -> dict[str, str]:
    return _check_localized(value) if value else {}


LocalizedText = Annotated[dict[str, str], AfterValidator(_check_localized)]
OptionalLocalizedText = Annotated[dict[str, str], AfterValidator(_check_optional_localized)]


def pick_text(texts: dict[str, str], lang: str) -> str:
    """The text in `lang`, else English, else any: a name is never blank."""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Display(_Strict):
    arabic_digits: Literal["arabic", "latin"] = "arabic"
    arabic_calendar: Literal["gregorian", "hijri"] = "gregorian"
    # The first day of a week for weekly limits (earning actions), in merchant time.
    week_starts: Literal["saturday", "sunday", "monday"] = "monday"


class Earning(_Strict):
    points_per_unit: Decimal = Field(default=Decimal(1), gt=0, le=10000)
    rounding: Literal["down", "nearest", "up"] = "down"
    min_purchase: Decimal = Field(default=Decimal(0), ge=0)
    max_purchase: Decimal = Field(default=Decimal(100_000_000), gt=0)
    max_points_per_purchase: int | None = Field(default=None, gt=0)


class Bonuses(_Strict):
    signup: int = Field(default=20, ge=0)
    profile: int = Field(default=0, ge=0)
    birthday: int = Field(default=100, ge=0)
    referrer: int = Field(default=100, ge=0)
    referee: int = Field(default=50, ge=0)
    survey: int = Field(default=10, ge=0)
    winback: int = Field(default=0, ge=0)


_SEED_ID = r"^[a-z0-9_-]{1,32}$"


class Tier(_Strict):
    name: LocalizedText
    threshold: int = Field(ge=0)
    multiplier: Decimal = Field(default=Decimal(1), ge=1, le=20)
    perks: OptionalLocalizedText = Field(default_factory=dict)
    # Given on promotion into this tier (also when it is jumped over), once per tier window.
    entry_points: int = Field(default=0, ge=0, le=1_000_000)
    entry_reward: str | None = Field(default=None, pattern=_SEED_ID)  # a [[rewards]] id


class Tiering(_Strict):
    # Points earned (not spent) within this many months decide the tier;
    # 0 means lifetime earnings.
    window_months: int = Field(default=12, ge=0, le=120)
    # A tier, once reached, is kept for at least this many months (the tier
    # period); at the period's end it is renewed if the window's earnings
    # still reach it, or lowered to the tier they reach. Promotion is immediate.
    hold_months: int = Field(default=12, ge=1, le=120)


class Expiry(_Strict):
    # Earned points expire this many months after they were earned; 0 = never.
    months: int = Field(default=12, ge=0, le=120)
    # Whether points spent on a voucher come back when the voucher expires unused.
    refund_unused_vouchers: bool = True
    # Members are reminded of points expiring within this many days (0 = never).
    reminder_days: int = Field(default=14, ge=0, le=90)
    # /balance shows the points expiring within this many days.
    soon_days: int = Field(default=30, ge=1, le=365)


class RewardKindSpec(_Strict):
    """A reward kind the merchant adds without code: its name, and what its value means."""

    name: LocalizedText
    value: Literal["none", "percent", "amount"] = "none"


class Vouchers(_Strict):
    # Every voucher code starts with this tag, e.g. "KQ7-…"; it tells this
    # shop's vouchers from another shop's. Unset: a random tag is chosen on
    # first start and kept in the database.
    prefix: str | None = Field(default=None, min_length=2, max_length=4)

    @field_validator("prefix")
    @classmethod
    def _prefix_alphabet(cls, value: str | None) -> str | None:
        if value is not None and any(ch not in CODE_ALPHABET for ch in value):
            raise ValueError(f"use only the characters {CODE_ALPHABET}")
        return value


class Campaigns(_Strict):
    # /campaign refuses multipliers above this and durations beyond max_days.
    max_multiplier: Decimal = Field(default=Decimal(5), gt=1, le=100)
    max_days: int = Field(default=90, ge=1, le=366)


class Winback(_Strict):
    inactive_days: int = Field(default=60, ge=7, le=3650)


class Surveys(_Strict):
    followup_hours: int = Field(default=3, ge=0, le=168)
    min_days_between: int = Field(default=7, ge=0, le=365)


def _check_quiet_hours(value: str) -> str:
    parse_quiet_hours(value)  # raises ValueError naming the problem
    return value.strip()


class Messaging(_Strict):
    # Merchant-time window in which reminders and marketing wait (receipts and
    # vouchers never wait); "" or "off" for none.
    quiet_hours: Annotated[str, AfterValidator(_check_quiet_hours)] = "22:00-09:00"

    @property
    def quiet(self) -> QuietHours | None:
        return parse_quiet_hours(self.quiet_hours)


class Referrals(_Strict):
    monthly_cap: int = Field(default=10, ge=0)


class RewardSeed(_Strict):
    id: str = Field(pattern=_SEED_ID)
    name: LocalizedText
    description: OptionalLocalizedText = Field(default_factory=dict)
    cost: int = Field(gt=0, le=10_000_000)
    # One of BUILTIN_REWARD_KINDS or a slug declared under [reward_kinds].
    kind: str = Field(default="gift", pattern=r"^[a-z0-9_]{1,32}$")
    value: Decimal | None = Field(default=None, gt=0, le=100_000_000)
    stock: int | None = Field(default=None, ge=0, le=1_000_000)
    per_member_limit: int | None = Field(default=None, gt=0, le=1000)
    min_tier: int = Field(default=0, ge=0)
    valid_days: int = Field(default=30, gt=0, le=3650)
    # Optional window in which the reward is offered (merchant dates, inclusive).
    available_from: date | None = None
    available_until: date | None = None
    # Members of `min_tier` and above see it this many hours before everyone else
    # (counted from available_from, or from when it was added); then it is open to all.
    early_access_hours: int | None = Field(default=None, ge=1, le=720)


class Stamps(_Strict):
    """A stamp card: every `every`-th stamp gives a voucher for `reward` (no points spent)."""

    every: int = Field(ge=2, le=30)
    reward: str = Field(pattern=_SEED_ID)  # a [[rewards]] id
    max_per_day: int = Field(default=1, ge=1, le=100)  # per member and merchant day
    expiry_days: int = Field(default=0, ge=0, le=3650)  # a stamp lapses this long after it was given; 0 = never
    name: OptionalLocalizedText = Field(default_factory=dict)  # e.g. "Coffee card"


_CHANNEL = r"^@[A-Za-z][A-Za-z0-9_]{3,31}$"
_ACTION_CODE = r"^[A-Za-z0-9_-]{3,32}$"  # fits a /start payload after "act-"


class EarningAction(_Strict):
    """A way to earn points besides buying, and how the bot knows it happened."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,24}$")
    name: LocalizedText
    description: OptionalLocalizedText = Field(default_factory=dict)
    points: int = Field(gt=0, le=1_000_000)
    limit: Literal["once", "daily", "weekly", "monthly"] = "once"
    verify: Literal["channel", "code", "staff", "api"]
    channel: str | None = Field(default=None, pattern=_CHANNEL)  # verify = "channel": the channel's @username
    code: str | None = Field(default=None, pattern=_ACTION_CODE)  # verify = "code": a fixed check-in code


class Milestone(_Strict):
    """Given once per member: at the N-th purchase, or on the N-th anniversary of joining."""

    purchases: int | None = Field(default=None, ge=1, le=100_000)
    anniversary_years: int | None = Field(default=None, ge=1, le=100)
    points: int = Field(default=0, ge=0, le=1_000_000)
    reward: str | None = Field(default=None, pattern=_SEED_ID)  # a [[rewards]] id
    name: OptionalLocalizedText = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable name of the milestone (what grants and ledger keys refer to)."""
        if self.purchases is not None:
            return f"purchases-{self.purchases}"
        return f"anniversary-{self.anniversary_years}"


def _default_tiers() -> tuple[Tier, ...]:
    return (
        Tier(name={"en": "Silver", "ar": "فضي", "fa": "نقره‌ای"}, threshold=0, multiplier=Decimal(1)),
        Tier(name={"en": "Gold", "ar": "ذهبي", "fa": "طلایی"}, threshold=500, multiplier=Decimal("1.25")),
        Tier(name={"en": "Platinum", "ar": "بلاتيني", "fa": "پلاتینی"}, threshold=1500, multiplier=Decimal("1.5")),
    )


def _default_rewards() -> tuple[RewardSeed, ...]:
    return (
        RewardSeed(
            id="coffee",
            name={"en": "Free coffee", "ar": "قهوة مجانية", "fa": "قهوه رایگان"},
            cost=150,
            kind="free_product",
        ),
        RewardSeed(
            id="pastry",
            name={"en": "Free pastry", "ar": "معجنات مجانية", "fa": "شیرینی رایگان"},
            cost=100,
            kind="free_product",
        ),
        RewardSeed(
            id="ten-off",
            name={"en": "10% off your order", "ar": "خصم ١٠٪ على طلبك", "fa": "۱۰٪ تخفیف سفارش"},
            cost=300,
            kind="discount_percent",
            value=Decimal(10),
        ),
    )


class Program(_Strict):
    # The merchant's name as customers see it.
    name: LocalizedText = Field(default_factory=lambda: {"en": "Wafa Café", "ar": "مقهى وفا", "fa": "کافه وفا"})
    currency: str = Field(default="SAR", pattern=r"^[A-Z]{3}$")
    display: Display = Display()
    earning: Earning = Earning()
    bonuses: Bonuses = Bonuses()
    tiering: Tiering = Tiering()
    tiers: tuple[Tier, ...] = Field(default_factory=_default_tiers, min_length=1)
    expiry: Expiry = Expiry()
    winback: Winback = Winback()
    surveys: Surveys = Surveys()
    referrals: Referrals = Referrals()
    messaging: Messaging = Messaging()
    rewards: tuple[RewardSeed, ...] = Field(default_factory=_default_rewards)
    reward_kinds: dict[str, RewardKindSpec] = Field(default_factory=dict)
    vouchers: Vouchers = Vouchers()
    campaigns: Campaigns = Campaigns()
    stamps: Stamps | None = None
    actions: tuple[EarningAction, ...] = ()
    milestones: tuple[Milestone, ...] = ()

    def action(self, action_id: str) -> EarningAction | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def kind_value(self, kind: str) -> str | None:
        """What a reward kind's value means ("percent", "amount", "none"); None for an unknown kind."""
        if kind in BUILTIN_REWARD_KINDS:
            return BUILTIN_REWARD_KINDS[kind]
        spec = self.reward_kinds.get(kind)
        return spec.value if spec is not None else None

    @property
    def kinds(self) -> tuple[str, ...]:
        return (*BUILTIN_REWARD_KINDS, *self.reward_kinds)

    @model_validator(mode="after")
    def _tiers_ascend(self) -> Program:
        if self.tiers[0].threshold != 0:
            raise ValueError("tiers[0].threshold must be 0: every member starts in the first tier")
        for i in range(1, len(self.tiers)):
            if self.tiers[i].threshold <= self.tiers[i - 1].threshold:
                raise ValueError(f"tiers[{i}].threshold must be greater than tiers[{i - 1}].threshold")
        ids = [r.id for r in self.rewards]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"rewards: id {sorted(duplicates)[0]!r} is used twice")
        for slug in self.reward_kinds:
            if slug in BUILTIN_REWARD_KINDS or not _SLUG.match(slug):
                raise ValueError(
                    f"reward_kinds.{slug}: use a new lowercase name (a-z, 0-9, _), not one of "
                    + ", ".join(BUILTIN_REWARD_KINDS)
                )
        for index, reward in enumerate(self.rewards):
            value_type = self.kind_value(reward.kind)
            if value_type is None:
                raise ValueError(
                    f"rewards[{index}].kind: unknown kind {reward.kind!r}; use one of {', '.join(self.kinds)} "
                    "or declare it under [reward_kinds]"
                )
            if reward.min_tier >= len(self.tiers):
                raise ValueError(f"rewards[{index}].min_tier: there are only {len(self.tiers)} tiers (0-based)")
            if value_type == "percent" and (reward.value is None or reward.value > 100):
                raise ValueError(f"rewards[{index}].value: a {reward.kind} reward needs a value of 1-100 (percent)")
            if value_type == "amount" and reward.value is None:
                raise ValueError(f"rewards[{index}].value: a {reward.kind} reward needs an amount")
            if value_type == "none" and reward.value is not None:
                raise ValueError(f"rewards[{index}].value: a {reward.kind} reward takes no value")
            if reward.available_from and reward.available_until and reward.available_until < reward.available_from:
                raise ValueError(f"rewards[{index}].available_until must not be before available_from")
            if reward.early_access_hours is not None and reward.min_tier == 0:
                raise ValueError(
                    f"rewards[{index}].early_access_hours: early access is for a higher tier; set min_tier too"
                )
        self._check_earning(set(ids))
        return self

    def _check_earning(self, reward_ids: set[str]) -> None:
        def known(where: str, reward: str | None) -> None:
            if reward is not None and reward not in reward_ids:
                raise ValueError(f"{where}: no [[rewards]] has id {reward!r}")

        if self.stamps is not None:
            known("stamps.reward", self.stamps.reward)
        if self.tiers[0].entry_points or self.tiers[0].entry_reward:
            raise ValueError("tiers[0].entry_points: every member starts in the first tier; use bonuses.signup")
        for index, tier in enumerate(self.tiers):
            known(f"tiers[{index}].entry_reward", tier.entry_reward)
        seen_ids: set[str] = set()
        seen_codes: set[str] = set()
        for index, action in enumerate(self.actions):
            where = f"actions[{index}]"
            if action.verify == "channel" and action.channel is None:
                raise ValueError(f'{where}.channel: a verify = "channel" action needs channel = "@yourchannel"')
            if action.verify != "channel" and action.channel is not None:
                raise ValueError(f'{where}.channel: only a verify = "channel" action takes a channel')
            if action.verify != "code" and action.code is not None:
                raise ValueError(f'{where}.code: only a verify = "code" action takes a code')
            if action.id in seen_ids:
                raise ValueError(f"actions[{index}].id: {action.id!r} is used twice")
            seen_ids.add(action.id)
            if action.code is not None:
                if action.code.upper() in seen_codes:
                    raise ValueError(f"actions[{index}].code: {action.code!r} is used twice")
                seen_codes.add(action.code.upper())
        keys: set[str] = set()
        for index, milestone in enumerate(self.milestones):
            where = f"milestones[{index}]"
            if (milestone.purchases is None) == (milestone.anniversary_years is None):
                raise ValueError(f"{where}: give exactly one of purchases = N or anniversary_years = N")
            if not milestone.points and milestone.reward is None:
                raise ValueError(f'{where}.points: give points = N, reward = "<reward id>", or both')
            known(f"{where}.reward", milestone.reward)
            if milestone.key in keys:
                raise ValueError(f"milestones[{index}]: the same milestone is given twice")
            keys.add(milestone.key)


def load_program(path: Path | None) -> Program:
    """The program from a TOML file, or the built-in default when `path` is None."""
    if path is None:
        return Program()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgramError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(f"{path} is not valid TOML: {exc}") from None
    try:
        return Program.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first.get("loc", ()))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ProgramError(f"{where}: {message}" if where else message) from None


def _location(loc: tuple[object, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts)
