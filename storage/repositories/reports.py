"""Aggregate queries for the owner's KPIs and exports, portable across SQLite and PostgreSQL.

Every count is computed by the database over an indexed time range
(`ledger_entries.created_at`, `members.joined_at`, `surveys.answered_at`);
nothing loads rows into Python to count them. Exports page through tables
by primary key (keyset pagination), so a large ledger is never held at once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, intersect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.delivery import DeliveryStatus
from bot.domain.ledger import Kind
from storage.models import LedgerEntry, Member, OutboxMessage, ReferralConversion, Reward, Survey, Voucher


def _buyers(start: datetime, end: datetime, kinds: tuple[str, ...] = (Kind.PURCHASE,)) -> Select[Any]:
    return select(LedgerEntry.member_id).where(
        LedgerEntry.kind.in_([str(k) for k in kinds]),
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < end,
    )


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _count(self, stmt: Select[Any]) -> int:
        return int(await self.session.scalar(stmt) or 0)

    # -- members and activity --------------------------------------------------
    async def members(self) -> int:
        """Members now, erased accounts excluded (one pass over the table, no index lookups)."""
        return await self._count(select(func.count()).where(Member.forgotten_at.is_(None)))

    async def new_members(self, start: datetime, end: datetime) -> int:
        return await self._count(
            select(func.count()).where(
                Member.joined_at >= start, Member.joined_at < end, Member.forgotten_at.is_(None)
            )
        )

    async def active(self, start: datetime, end: datetime) -> int:
        """Members with at least one purchase in [start, end)."""
        return await self._count(select(func.count(func.distinct(LedgerEntry.member_id))).where(
            LedgerEntry.kind == str(Kind.PURCHASE), LedgerEntry.created_at >= start, LedgerEntry.created_at < end
        ))

    async def repeat_buyers(self, start: datetime, end: datetime) -> int:
        """Members with two or more purchases in [start, end)."""
        repeaters = _buyers(start, end).group_by(LedgerEntry.member_id).having(func.count() >= 2).subquery()
        return await self._count(select(func.count()).select_from(repeaters))

    async def retained(self, previous: tuple[datetime, datetime], current: tuple[datetime, datetime]) -> int:
        """Members with a purchase in both periods."""
        both = intersect(_buyers(*previous), _buyers(*current)).subquery()
        return await self._count(select(func.count()).select_from(both))

    async def participants(self, start: datetime, end: datetime) -> int:
        """Members who bought or redeemed in [start, end)."""
        return await self._count(select(func.count(func.distinct(LedgerEntry.member_id))).where(
            LedgerEntry.kind.in_([str(Kind.PURCHASE), str(Kind.REDEEM)]),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        ))

    # -- points ----------------------------------------------------------------
    async def points_by_kind(self, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """{kind: (sum of credits, sum of debits as a positive number)} in [start, end)."""
        stmt = (
            select(
                LedgerEntry.kind,
                func.coalesce(func.sum(case((LedgerEntry.delta > 0, LedgerEntry.delta), else_=0)), 0),
                func.coalesce(func.sum(case((LedgerEntry.delta < 0, -LedgerEntry.delta), else_=0)), 0),
            )
            .where(
                LedgerEntry.kind.in_([str(kind) for kind in Kind]),  # lets the (kind, created_at) index seek
                LedgerEntry.created_at >= start,
                LedgerEntry.created_at < end,
            )
            .group_by(LedgerEntry.kind)
        )
        return {kind: (int(plus), int(minus)) for kind, plus, minus in (await self.session.execute(stmt)).all()}

    async def outstanding_points(self) -> int:
        return await self._count(select(func.coalesce(func.sum(Member.balance), 0)))

    # -- referrals, messages ---------------------------------------------------
    async def referred_joins(self, start: datetime, end: datetime) -> int:
        return await self._count(
            select(func.count()).where(
                Member.referrer_id.is_not(None), Member.joined_at >= start, Member.joined_at < end
            )
        )

    async def referral_conversions(self, start: datetime, end: datetime) -> dict[str, int]:
        stmt = (
            select(ReferralConversion.outcome, func.count())
            .where(ReferralConversion.converted_at >= start, ReferralConversion.converted_at < end)
            .group_by(ReferralConversion.outcome)
        )
        return {outcome: int(n) for outcome, n in (await self.session.execute(stmt)).all()}

    async def messages(self, start: datetime, end: datetime) -> dict[DeliveryStatus, int]:
        stmt = (
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.created_at >= start, OutboxMessage.created_at < end)
            .group_by(OutboxMessage.status)
        )
        return {DeliveryStatus(status): int(n) for status, n in (await self.session.execute(stmt)).all()}

    async def top_rewards(self, start: datetime, end: datetime, *, limit: int) -> list[tuple[dict[str, str], int, int]]:
        """The rewards most redeemed in [start, end): (name per language, vouchers issued, of those used)."""
        issued = func.count(Voucher.id)
        used = func.coalesce(func.sum(case((Voucher.status == "used", 1), else_=0)), 0)
        stmt = (
            select(Reward.name, issued, used)
            .join(Reward, Reward.id == Voucher.reward_id)
            .where(Voucher.created_at >= start, Voucher.created_at < end)
            .group_by(Reward.id)  # the name follows from the primary key (PostgreSQL cannot compare JSON)
            .order_by(issued.desc(), Reward.id)
            .limit(limit)
        )
        return [(dict(name), int(n), int(u)) for name, n, u in (await self.session.execute(stmt)).all()]

    # -- exports: keyset pages of plain rows (no ORM objects) ---------------------
    MEMBER_COLUMNS = (
        "id", "code", "first_name", "last_name", "username", "phone", "language", "balance", "tier",
        "marketing_opt_in", "joined_at", "last_purchase_at", "referrer_code", "blocked_at", "forgotten_at",
    )
    LEDGER_COLUMNS = (
        "id", "created_at", "member_id", "member_code", "kind", "delta", "amount", "note", "actor_id", "expires_at",
    )
    SURVEY_COLUMNS = (
        "id", "created_at", "member_id", "member_code", "kind", "trigger", "reference", "status", "score",
        "comment", "bonus", "answered_at",
    )

    async def members_page(self, after_id: int, limit: int) -> list[Any]:
        referrer = aliased(Member)
        stmt = (
            select(
                Member.id, Member.code, Member.first_name, Member.last_name, Member.username, Member.phone,
                Member.language, Member.balance, Member.tier, Member.marketing_opt_in, Member.joined_at,
                Member.last_purchase_at, referrer.code, Member.blocked_at, Member.forgotten_at,
            )
            .outerjoin(referrer, referrer.id == Member.referrer_id)
            .where(Member.id > after_id)
            .order_by(Member.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def ledger_page(self, after_id: int, limit: int) -> list[Any]:
        stmt = (
            select(
                LedgerEntry.id, LedgerEntry.created_at, LedgerEntry.member_id, Member.code, LedgerEntry.kind,
                LedgerEntry.delta, LedgerEntry.amount, LedgerEntry.note, LedgerEntry.actor_id, LedgerEntry.expires_at,
            )
            .join(Member, Member.id == LedgerEntry.member_id)
            .where(LedgerEntry.id > after_id)
            .order_by(LedgerEntry.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def surveys_page(self, after_id: int, limit: int) -> list[Any]:
        stmt = (
            select(
                Survey.id, Survey.created_at, Survey.member_id, Member.code, Survey.kind, Survey.trigger,
                Survey.reference, Survey.status, Survey.score, Survey.comment, Survey.bonus, Survey.answered_at,
            )
            .join(Member, Member.id == Survey.member_id)
            .where(Survey.id > after_id)
            .order_by(Survey.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())
