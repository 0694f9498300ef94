"""SQLAlchemy models. The same models and migrations serve SQLite and PostgreSQL.

Times are stored as naive UTC and read back as aware UTC (`UTCDateTime`),
because SQLite keeps no zone and mixing naive and aware datetimes is the
classic source of off-by-hours bugs in scheduled messages.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Integer primary keys: BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("stamps >= 0", name="stamps_not_negative"),
        Index("ix_members_birthday", "birth_calendar", "birth_month", "birth_day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # NULL once the member asked to be forgotten: the row stays for ledger totals.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)  # lower case, no @
    phone: Mapped[str | None] = mapped_column(String(20))  # digits, international
    phone_suffix: Mapped[str | None] = mapped_column(String(9), index=True)
    language: Mapped[str] = mapped_column(String(2))
    balance: Mapped[int] = mapped_column(Integer, default=0)
    stamps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # on the current card
    tier: Mapped[int] = mapped_column(SmallInteger, default=0)
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Birthday in the member's own calendar: g(regorian), j(alali) or h(ijri).
    birth_calendar: Mapped[str | None] = mapped_column(String(1))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    birth_day: Mapped[int | None] = mapped_column(SmallInteger)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the member blocked the bot
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_ledger_entries_member_id_id", "member_id", "id"),
        Index("ix_ledger_entries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    delta: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # purchase amount, currency units
    note: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # Telegram id of staff/owner, None = the bot
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # for credits under an expiry policy
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    added_by: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Setting(Base):
    """Small runtime settings the owner changes in chat (e.g. an active campaign)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """Every message the bot sends on its own, written before it is sent (SPEC §5).

    status: pending → sending (claimed by one sender) → sent | failed |
    blocked | opted_out | unknown (claimed, but the process died before
    the outcome was recorded; never resent).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_batch", "batch"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # The member a message to someone else is about (a friend who joined, a survey's
    # author): /forget finds and anonymises those rows by it.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(12))  # service | marketing
    batch: Mapped[str | None] = mapped_column(String(64))  # e.g. a broadcast id, for its report
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Telegram's id of the message once sent: what an alert's later edit changes.
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)


class FormerMember(Base):
    """Someone who erased their data (/forget), known only by a keyed hash of their
    Telegram id (HMAC-SHA256, `bot.domain.privacy.former_key`), and which one-time
    bonuses that membership already earned: a rejoin earns none of them again (SPEC §7)."""

    __tablename__ = "former_members"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    signup_bonus: Mapped[bool] = mapped_column(Boolean, default=False)
    referred: Mapped[bool] = mapped_column(Boolean, default=False)
    birthday_bonus_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last one paid
    forgotten_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionToken(Base):
    """A one-time token behind an inline button (SPEC §7: a double tap changes nothing)."""

    __tablename__ = "action_tokens"

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did which admin action, to whom, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- rewards, vouchers, expiry lots, tier events, campaigns (issue 3) -----------------


class Reward(Base):
    """The catalog the owner edits with /rewards_admin; seeded from the program's [[rewards]]."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seed_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # the program's [[rewards]].id
    name: Mapped[dict[str, str]] = mapped_column(JSON)  # per language
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    cost: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # percent or amount, per kind
    stock: Mapped[int | None] = mapped_column(Integer)  # units left; None = unlimited
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    min_tier: Mapped[int] = mapped_column(SmallInteger, default=0)
    valid_days: Mapped[int] = mapped_column(Integer)  # a voucher's validity
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # offered from …
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # … until (exclusive)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False = paused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Members of min_tier see it this long before the others (then it is open to all).
    early_access_hours: Mapped[int | None] = mapped_column(Integer)
    photo: Mapped[str | None] = mapped_column(String(255))  # Telegram file_id of the owner's picture


class Voucher(Base):
    """A redeemed reward: issued with its code, used once at the counter, or expired.

    status: active → used | expired (points refunded per the program).
    """

    __tablename__ = "vouchers"
    __table_args__ = (
        Index("ix_vouchers_member_id_reward_id", "member_id", "reward_id"),
        Index("ix_vouchers_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int] = mapped_column(Integer)  # what the member paid
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_by: Mapped[int | None] = mapped_column(BigInteger)  # Telegram id of the staff member
    redeem_key: Mapped[str | None] = mapped_column(String(160))  # the /redeem message that used it
    refunded_points: Mapped[int | None] = mapped_column(Integer)  # set when it expired unused
    # Why it was given without points: "stamps" (a full card), "milestone", "tier_entry";
    # None = redeemed with points. Given vouchers take no stock and count toward no limit.
    source: Mapped[str | None] = mapped_column(String(12))


class PointLot(Base):
    """What is left of one expiring credit (see `bot.domain.expiry`): a cache of the
    ledger, rebuilt from it by replay; rows go away when used up."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("remaining > 0", name="remaining_positive"),
        Index("ix_point_lots_member_id_expires_at", "member_id", "expires_at"),
        Index("ix_point_lots_expires_at", "expires_at"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remaining: Mapped[int] = mapped_column(Integer)


class TierEvent(Base):
    """Every tier change: promotion (immediate), renewal or demotion (at the period's end)."""

    __tablename__ = "tier_events"
    __table_args__ = (Index("ix_tier_events_member_id_id", "member_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    from_tier: Mapped[int] = mapped_column(SmallInteger)
    to_tier: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str] = mapped_column(String(12))  # promotion | renewal | demotion
    earned: Mapped[int] = mapped_column(Integer)  # points earned in the window at that moment
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # end of the tier period
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A time-limited point multiplier started with /campaign."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("multiplier > 1", name="multiplier_above_one"),
        Index("ix_campaigns_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # the /campaign message
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # /campaign off
    created_by: Mapped[int] = mapped_column(BigInteger)
    ended_by: Mapped[int | None] = mapped_column(BigInteger)


# The tier window sums a member's earnings since a date: this keeps it to the window's rows.
Index("ix_ledger_entries_member_id_created_at", LedgerEntry.member_id, LedgerEntry.created_at)
class Broadcast(Base):
    """An owner's message to a segment (SPEC §4 `/broadcast`).

    The segment is evaluated when the broadcast is released (now, or at
    `send_at`): one outbox row per member, keyed `broadcast:<id>:<member>`
    and batched as `broadcast:<id>`, so the owner's report counts exactly
    those rows. status: scheduled → sending → done, or cancelled.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # the one-time token of the owner's button
    created_by: Mapped[int] = mapped_column(BigInteger)  # the owner's Telegram id: the report goes there
    owner_lang: Mapped[str] = mapped_column(String(2))
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    texts: Mapped[dict[str, str]] = mapped_column(JSON)  # {"*": text} or {lang: text}
    status: Mapped[str] = mapped_column(String(12))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audience: Mapped[int] = mapped_column(Integer, default=0)  # outbox rows written at release
    report: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # "Top tiers first": members below early_tier get it early_hours later.
    early_tier: Mapped[int | None] = mapped_column(SmallInteger)
    early_hours: Mapped[int | None] = mapped_column(Integer)
    photo: Mapped[str | None] = mapped_column(String(255))  # one picture (Telegram file_id); texts are its caption


class OutboxLease(Base):
    """Which sender delivers the outbox now: one at a time, so the rate limits hold across replicas."""

    __tablename__ = "outbox_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
# -- growth: referrals, surveys (issue 5) ---------------------------------------
class ReferralConversion(Base):
    """A referred friend's first qualifying purchase and what it paid (one row per friend).

    The attribution itself is `Member.referrer_id`, set at enrolment; this row
    is written once, in the purchase's transaction, and its primary key is
    what makes the payout happen at most once.
    """

    __tablename__ = "referral_conversions"
    __table_args__ = (Index("ix_referral_conversions_referrer_id_converted_at", "referrer_id", "converted_at"),)

    referee_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, autoincrement=False)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # rewarded | capped | circular | referrer_gone
    referrer_points: Mapped[int] = mapped_column(Integer, default=0)
    referee_points: Mapped[int] = mapped_column(Integer, default=0)
    converted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Survey(Base):
    """One survey offered to one member: NPS (0–10) or CSAT (1–5), its answer and comment.

    `key` is the logical key of the offer (`feedback:<chat>:<message>`,
    `post_purchase:<ledger entry>`, `redemption:<voucher>`), so an offer is
    never made twice; the id is what the survey's buttons carry.
    """

    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)", name="score_range"),
        Index("ix_surveys_member_id_created_at", "member_id", "created_at"),
        Index("ix_surveys_kind_answered_at", "kind", "answered_at"),
        Index("ix_surveys_status_answered_at", "status", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(8))  # nps | csat
    trigger: Mapped[str] = mapped_column(String(16))  # feedback | post_purchase | redemption
    reference: Mapped[str | None] = mapped_column(String(64))  # the purchase's ledger entry, the voucher
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | answered | closed | superseded
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(1000))
    bonus: Mapped[int] = mapped_column(Integer, default=0)  # survey points paid for it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # owner and staff told (detractors)


# Covers the KPI queries of /stats (purchases, redemptions, points by kind over a time range)
# without touching the table rows: a range seek per kind instead of a scan of the period.
Index(
    "ix_ledger_entries_kind_created_at",
    LedgerEntry.kind,
    LedgerEntry.created_at,
    LedgerEntry.member_id,
    LedgerEntry.delta,
)


# -- the shop's systems: API keys, orders, refunds, claims (issue 11) ----------------
class ApiKey(Base):
    """A key of the shop's systems for `/api/v1` (SPEC §9.1): only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (
        # One active key per name; a revoked key's name may be used again.
        Index(
            "ix_api_keys_name_active", "name", unique=True,
            sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShopOrder(Base):
    """A purchase from the API or a shop webhook, keyed by source and the shop's order id.

    The row is the idempotency record: a replay answers with what the first
    request got (`points`, `balance_after`). `member_id` is None while the
    points wait for a phone nobody has yet (a `PhoneClaim`).
    """

    __tablename__ = "shop_orders"
    __table_args__ = (
        UniqueConstraint("source", "reference"),
        CheckConstraint("refunded_amount <= amount", name="refunds_within_order"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # api | salla | zid | woocommerce | shopify
    reference: Mapped[str] = mapped_column(String(64))  # the shop's order id
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    points: Mapped[int] = mapped_column(Integer)  # earned (or waiting in the claim)
    balance_after: Mapped[int | None] = mapped_column(Integer)
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    refunded_points: Mapped[int] = mapped_column(Integer, default=0)  # the refunds' proportional shares
    note: Mapped[str | None] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(80))  # the API key's name, or the platform
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderRefund(Base):
    """A refund of (part of) a `ShopOrder`, keyed by source and the refund's id."""

    __tablename__ = "order_refunds"
    __table_args__ = (UniqueConstraint("source", "reference"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    points: Mapped[int] = mapped_column(Integer)  # the share of the order's points it takes back
    reversed: Mapped[int] = mapped_column(Integer, default=0)  # taken from the balance
    unrecovered: Mapped[int] = mapped_column(Integer, default=0)  # already spent: not taken back
    balance_after: Mapped[int | None] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhoneClaim(Base):
    """Points for a phone number no member has yet (SPEC §9.3).

    status: pending → credited (the member shared this phone with the contact
    button) | expired (the program's expiry passed first) | erased (/forget)
    | void (refunded to nothing).
    """

    __tablename__ = "phone_claims"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_not_negative"),
        Index("ix_phone_claims_phone_status", "phone", "status"),
        Index("ix_phone_claims_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164; None once erased
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- more ways to earn: stamp cards, earning actions, milestones, tier entry (issue 14) ---------
class StampEntry(Base):
    """The stamp ledger, append-only like points: stamps given (+), a full card (−every,
    with the voucher it became), stamps expired (−). `members.stamps` is its sum."""

    __tablename__ = "stamp_entries"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_stamp_entries_member_id_created_at", "member_id", "created_at"),
        Index("ix_stamp_entries_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    delta: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # stamp | card | expire
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # who stamped; None = the bot or the API
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))  # a full card's voucher
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionClaim(Base):
    """One earning action done (or asked for) by a member: its outcome, under the
    key of the request that did it (a /checkin message, an API event, a staff request).

    status: credited | pending (waits for staff) | declined | over_limit (an API event over its limit).
    """

    __tablename__ = "action_claims"
    __table_args__ = (
        Index("ix_action_claims_member_id_action_id_period", "member_id", "action_id", "period"),
        Index("ix_action_claims_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    action_id: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    verify: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    points: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str | None] = mapped_column(String(32))  # the check-in code used
    decided_by: Mapped[int | None] = mapped_column(BigInteger)  # staff who approved or declined
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionCode(Base):
    """A check-in code an owner made with /actions (codes fixed in the program are not stored)."""

    __tablename__ = "action_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(24))
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberGrant(Base):
    """Recognition given once: a milestone, or a tier's entry reward (points and/or a voucher)."""

    __tablename__ = "member_grants"
    __table_args__ = (Index("ix_member_grants_member_id_kind_ref", "member_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(12))  # milestone | tier_entry
    ref: Mapped[str] = mapped_column(String(32))  # the milestone's key, or the tier's index
    points: Mapped[int] = mapped_column(Integer, default=0)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- moments that win customers back: recovery, surprises, prize draws (issue 15) ----------
class RecoveryCase(Base):
    """What staff did about one unhappy customer's alert (one row per alerted survey).

    `handled_by` is set once, by a guarded UPDATE: the first staff member to act
    owns the case; each action column is likewise written once.
    """

    __tablename__ = "recovery_cases"
    __table_args__ = (
        Index("ix_recovery_cases_created_at", "created_at"),
        Index("ix_recovery_cases_followup", "followup_asked_at", "handled_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_by: Mapped[int | None] = mapped_column(BigInteger)  # Telegram id of the first to act
    handler_name: Mapped[str | None] = mapped_column(String(128))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    apologised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    goodwill_points: Mapped[int | None] = mapped_column(Integer)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(4))  # yes | no
    outcome_comment: Mapped[str | None] = mapped_column(String(1000))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Budget(Base):
    """Points given from a monthly budget (goodwill, surprises): moved by a guarded UPDATE."""

    __tablename__ = "budgets"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # merchant month, 2026-03
    used: Mapped[int] = mapped_column(Integer, default=0)


class Surprise(Base):
    """One /surprise: who could get it, the recorded seed, who got it."""

    __tablename__ = "surprises"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # the confirm button's one-time token
    created_by: Mapped[int] = mapped_column(BigInteger)
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    seed: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[list[int]] = mapped_column(JSON)  # member ids, ascending: the list the seed picks from
    chosen: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurpriseGift(Base):
    __tablename__ = "surprise_gifts"
    __table_args__ = (UniqueConstraint("surprise_id", "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    surprise_id: Mapped[int] = mapped_column(ForeignKey("surprises.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Draw(Base):
    """A prize draw (SPEC §11). status: open → closed. The seed stays secret until closed."""

    __tablename__ = "draws"
    __table_args__ = (
        CheckConstraint("winners > 0", name="winners_positive"),
        Index("ix_draws_status_closes_at", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # the confirm button's one-time token
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule: Mapped[str] = mapped_column(String(8))  # purchase | amount
    unit: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # amount: one entry per this much spent
    prizes: Mapped[list[int]] = mapped_column(JSON)  # reward ids: winner n gets prizes[min(n, len - 1)]
    winners: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_by: Mapped[int] = mapped_column(BigInteger)
    owner_lang: Mapped[str] = mapped_column(String(2))
    rules_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tickets: Mapped[int | None] = mapped_column(Integer)  # at the close
    result: Mapped[list[int] | None] = mapped_column(JSON)  # winning ticket numbers, in the order drawn


class DrawEntry(Base):
    """Entries one purchase (a ledger entry) earned in a draw; the ledger entry id fixes the order."""

    __tablename__ = "draw_entries"
    __table_args__ = (
        UniqueConstraint("draw_id", "ledger_entry_id"),
        CheckConstraint("tickets > 0", name="tickets_positive"),
        Index("ix_draw_entries_member_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    tickets: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DrawWinner(Base):
    __tablename__ = "draw_winners"
    __table_args__ = (UniqueConstraint("draw_id", "member_id"),)

    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 = drawn first
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    ticket: Mapped[int] = mapped_column(Integer)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    told: Mapped[bool] = mapped_column(Boolean, default=False)  # False: they had blocked the bot
# -- speed (issue 16) ---------------------------------------------------------------
class PhotoFile(Base):
    """A picture the bot uploaded once, by the SHA-256 of its bytes, and the
    `file_id` Telegram gave it: later sends reuse the id instead of uploading."""

    __tablename__ = "photo_files"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # qr | card | chart …: what the picture is
    file_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- the program, edited in chat (issue 12) --------------------------------------------


class ProgramVersion(Base):
    """One saved version of the loyalty program (a JSON document of `bot.domain.program.Program`).

    Append-only: the highest version is the program in force. Every replica
    reads `max(version)` (the primary key) once per update and reloads when it
    changed. source: "file" (seeded from PROGRAM_FILE or the default) | "chat" (/setup).
    """

    __tablename__ = "program_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
