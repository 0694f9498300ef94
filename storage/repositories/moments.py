"""Recovery cases, budgets, surprises and prize draws (issue 15). Repositories never commit."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Budget,
    Draw,
    DrawEntry,
    DrawWinner,
    LedgerEntry,
    Member,
    RecoveryCase,
    Reward,
    Surprise,
    SurpriseGift,
    Voucher,
)
from storage.repositories.audiences import AudienceRepository, SegmentFilter
from storage.sql import insert_ignoring_conflicts


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


class BudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def used(self, name: str, period: str) -> int:
        value = await self.session.scalar(select(Budget.used).where(Budget.name == name, Budget.period == period))
        return int(value or 0)

    async def spend(self, name: str, period: str, amount: int, *, limit: int) -> bool:
        """Add `amount` to the month's use unless it would pass `limit`: one guarded UPDATE,
        so two staff spending at once can never pass it together."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, Budget, {"name": name, "period": period, "used": 0})
        )
        result = await self.session.execute(
            update(Budget)
            .where(Budget.name == name, Budget.period == period, Budget.used + amount <= limit)
            .values(used=Budget.used + amount)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1


class RecoveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_case(self, *, survey_id: int, member_id: int, now: datetime) -> RecoveryCase:
        await self.session.execute(
            insert_ignoring_conflicts(
                self.session, RecoveryCase, {"survey_id": survey_id, "member_id": member_id, "created_at": now}
            )
        )
        case = await self.session.scalar(select(RecoveryCase).where(RecoveryCase.survey_id == survey_id))
        assert case is not None
        return case

    async def by_id(self, case_id: int) -> RecoveryCase | None:
        return await self.session.get(RecoveryCase, case_id, populate_existing=True)

    async def by_survey(self, survey_id: int) -> RecoveryCase | None:
        return await self.session.scalar(select(RecoveryCase).where(RecoveryCase.survey_id == survey_id))

    async def take(self, case_id: int, *, staff_id: int, name: str, now: datetime) -> bool:
        """The first staff member to act owns the case (True); everyone later gets False."""
        result = await self.session.execute(
            update(RecoveryCase)
            .where(RecoveryCase.id == case_id, RecoveryCase.handled_by.is_(None))
            .values(handled_by=staff_id, handler_name=name[:128], handled_at=now)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def mark(self, case_id: int, column: str, value: Any) -> bool:
        """Write one action column once (a guarded UPDATE: the second tap changes nothing)."""
        field = getattr(RecoveryCase, column)
        result = await self.session.execute(
            update(RecoveryCase)
            .where(RecoveryCase.id == case_id, field.is_(None))
            .values({column: value})
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def followups_due(self, *, handled_before: datetime, limit: int) -> list[Any]:
        stmt = (
            select(RecoveryCase.id, RecoveryCase.member_id, Member.telegram_id)
            .join(Member, Member.id == RecoveryCase.member_id)
            .where(
                RecoveryCase.handled_at.is_not(None),
                RecoveryCase.handled_at <= handled_before,
                RecoveryCase.followup_asked_at.is_(None),
                Member.telegram_id.is_not(None),
                Member.forgotten_at.is_(None),
            )
            .order_by(RecoveryCase.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def answer(self, case_id: int, member_id: int, outcome: str, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(RecoveryCase)
            .where(
                RecoveryCase.id == case_id, RecoveryCase.member_id == member_id,
                RecoveryCase.followup_asked_at.is_not(None), RecoveryCase.outcome.is_(None),
            )
            .values(outcome=outcome, outcome_at=now)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def add_comment(self, case_id: int, member_id: int, comment: str) -> bool:
        result = await self.session.execute(
            update(RecoveryCase)
            .where(
                RecoveryCase.id == case_id, RecoveryCase.member_id == member_id,
                RecoveryCase.outcome.is_not(None), RecoveryCase.outcome_comment.is_(None),
            )
            .values(outcome_comment=comment)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def stats_between(self, start: datetime, end: datetime) -> dict[str, Any]:
        in_period = and_(RecoveryCase.created_at >= start, RecoveryCase.created_at < end)
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count(RecoveryCase.handled_at),
                    func.count(RecoveryCase.resolved_at),
                    func.count(RecoveryCase.followup_asked_at),
                    func.count(RecoveryCase.outcome),
                    func.coalesce(func.sum(RecoveryCase.goodwill_points), 0),
                ).where(in_period)
            )
        ).one()
        recovered = await self.session.scalar(
            select(func.count()).where(in_period, RecoveryCase.outcome == "yes")
        )
        delays = [
            handled - created
            for created, handled in (
                await self.session.execute(
                    select(RecoveryCase.created_at, RecoveryCase.handled_at).where(
                        in_period, RecoveryCase.handled_at.is_not(None)
                    )
                )
            ).all()
            if handled is not None  # the SQL filters them out already; this tells the type checker
        ]
        return {
            "alerts": int(row[0]), "handled": int(row[1]), "resolved": int(row[2]), "asked": int(row[3]),
            "answered": int(row[4]), "goodwill_points": int(row[5] or 0), "recovered": int(recovered or 0),
            "delays": delays,
        }

    async def for_member(self, member_id: int) -> list[RecoveryCase]:
        stmt = select(RecoveryCase).where(RecoveryCase.member_id == member_id).order_by(RecoveryCase.id)
        return list(await self.session.scalars(stmt))

    EXPORT_COLUMNS = (
        "id", "created_at", "member_code", "survey_id", "handled_by", "handled_at", "apologised_at",
        "goodwill_points", "voucher", "resolved_at", "followup_asked_at", "outcome", "comment", "outcome_at",
    )

    async def export_page(self, after_id: int, limit: int) -> list[Any]:
        stmt = (
            select(
                RecoveryCase.id, RecoveryCase.created_at, Member.code, RecoveryCase.survey_id,
                RecoveryCase.handled_by, RecoveryCase.handled_at, RecoveryCase.apologised_at,
                RecoveryCase.goodwill_points, Voucher.code, RecoveryCase.resolved_at, RecoveryCase.followup_asked_at,
                RecoveryCase.outcome, RecoveryCase.outcome_comment, RecoveryCase.outcome_at,
            )
            .join(Member, Member.id == RecoveryCase.member_id)
            .outerjoin(Voucher, Voucher.id == RecoveryCase.voucher_id)
            .where(RecoveryCase.id > after_id)
            .order_by(RecoveryCase.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def erase_comments(self, member_id: int) -> None:
        await self.session.execute(
            update(RecoveryCase).where(RecoveryCase.member_id == member_id).values(outcome_comment=None)
            .execution_options(synchronize_session=False)
        )


class SurpriseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **values: Any) -> Surprise | None:
        stmt = insert_ignoring_conflicts(self.session, Surprise, values).returning(Surprise.id)
        surprise_id = await self.session.scalar(stmt)
        if surprise_id is None:
            return None
        return await self.session.get(Surprise, surprise_id)

    async def by_key(self, key: str) -> Surprise | None:
        return await self.session.scalar(select(Surprise).where(Surprise.key == key))

    async def by_id(self, surprise_id: int) -> Surprise | None:
        return await self.session.get(Surprise, surprise_id)

    async def add_gift(self, **values: Any) -> bool:
        stmt = insert_ignoring_conflicts(self.session, SurpriseGift, values).returning(SurpriseGift.id)
        return await self.session.scalar(stmt) is not None

    async def gifts_between(self, start: datetime, end: datetime) -> tuple[int, int]:
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(SurpriseGift.points), 0)).where(
                    SurpriseGift.created_at >= start, SurpriseGift.created_at < end
                )
            )
        ).one()
        return int(row[0]), int(row[1] or 0)

    async def gifts_for(self, member_id: int) -> list[Any]:
        stmt = (
            select(SurpriseGift.created_at, SurpriseGift.points, Voucher.code)
            .outerjoin(Voucher, Voucher.id == SurpriseGift.voucher_id)
            .where(SurpriseGift.member_id == member_id)
            .order_by(SurpriseGift.id)
        )
        return list((await self.session.execute(stmt)).all())

    EXPORT_COLUMNS = ("id", "created_at", "surprise_id", "member_code", "points", "voucher", "seed")

    async def export_page(self, after_id: int, limit: int) -> list[Any]:
        stmt = (
            select(
                SurpriseGift.id, SurpriseGift.created_at, SurpriseGift.surprise_id, Member.code, SurpriseGift.points,
                Voucher.code, Surprise.seed,
            )
            .join(Member, Member.id == SurpriseGift.member_id)
            .join(Surprise, Surprise.id == SurpriseGift.surprise_id)
            .outerjoin(Voucher, Voucher.id == SurpriseGift.voucher_id)
            .where(SurpriseGift.id > after_id)
            .order_by(SurpriseGift.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def candidates(self, **criteria: Any) -> list[int]:
        """Member ids of a segment the bot can tell (joined, not erased, not blocking it), ascending.

        `criteria` are the fields of `SegmentFilter`, as for broadcasts."""
        stmt = AudienceRepository._segment([Member.id], SegmentFilter(**criteria)).where(Member.blocked_at.is_(None))
        return [int(i) for i in await self.session.scalars(stmt.order_by(Member.id))]


class DrawRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **values: Any) -> Draw | None:
        stmt = insert_ignoring_conflicts(self.session, Draw, values).returning(Draw.id)
        draw_id = await self.session.scalar(stmt)
        if draw_id is None:
            return None
        return await self.session.get(Draw, draw_id)

    async def by_key(self, key: str) -> Draw | None:
        return await self.session.scalar(select(Draw).where(Draw.key == key))

    async def by_id(self, draw_id: int) -> Draw | None:
        return await self.session.get(Draw, draw_id, populate_existing=True)

    async def open_at(self, moment: datetime) -> list[Draw]:
        """Open draws whose window holds `moment`: a purchase then enters them."""
        stmt = select(Draw).where(Draw.status == "open", Draw.opens_at <= moment, Draw.closes_at > moment)
        return list(await self.session.scalars(stmt.order_by(Draw.id)))

    async def all_open(self) -> list[Draw]:
        return list(await self.session.scalars(select(Draw).where(Draw.status == "open").order_by(Draw.id)))

    async def to_announce(self, moment: datetime) -> list[Draw]:
        stmt = select(Draw).where(Draw.status == "open", Draw.announced_at.is_(None), Draw.opens_at <= moment)
        return list(await self.session.scalars(stmt.order_by(Draw.id)))

    async def to_close(self, moment: datetime) -> list[Draw]:
        stmt = select(Draw).where(Draw.status == "open", Draw.closes_at <= moment)
        return list(await self.session.scalars(stmt.order_by(Draw.id)))

    async def mark_announced(self, draw_id: int, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(Draw).where(Draw.id == draw_id, Draw.announced_at.is_(None)).values(announced_at=now)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def close(self, draw_id: int, *, now: datetime, tickets: int, result: list[int]) -> bool:
        """open → closed, once (two job runs at the same time: one closes it)."""
        outcome = await self.session.execute(
            update(Draw).where(Draw.id == draw_id, Draw.status == "open")
            .values(status="closed", closed_at=now, tickets=tickets, result=result)
            .execution_options(synchronize_session=False)
        )
        return _count(outcome) == 1

    async def enter(self, *, draw_id: int, ledger_entry_id: int, member_id: int, tickets: int, now: datetime) -> bool:
        values = {
            "draw_id": draw_id, "ledger_entry_id": ledger_entry_id, "member_id": member_id, "tickets": tickets,
            "created_at": now,
        }
        stmt = insert_ignoring_conflicts(self.session, DrawEntry, values).returning(DrawEntry.id)
        return await self.session.scalar(stmt) is not None

    async def purchases_between(self, start: datetime, end: datetime) -> list[Any]:
        """Purchases in a draw's window, of members not erased: (entry id, member id, amount)."""
        stmt = (
            select(LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.amount)
            .join(Member, Member.id == LedgerEntry.member_id)
            .where(
                LedgerEntry.kind == "purchase", LedgerEntry.created_at >= start, LedgerEntry.created_at < end,
                Member.forgotten_at.is_(None),
            )
            .order_by(LedgerEntry.id)
        )
        return list((await self.session.execute(stmt)).all())

    async def entries(self, draw_id: int) -> list[Any]:
        """The draw's entries in the fixed order: ascending ledger entry id (member id, code, tickets)."""
        stmt = (
            select(DrawEntry.ledger_entry_id, DrawEntry.member_id, Member.code, DrawEntry.tickets)
            .join(Member, Member.id == DrawEntry.member_id)
            .where(DrawEntry.draw_id == draw_id)
            .order_by(DrawEntry.ledger_entry_id)
        )
        return list((await self.session.execute(stmt)).all())

    async def member_tickets(self, member_id: int) -> dict[int, int]:
        stmt = (
            select(DrawEntry.draw_id, func.sum(DrawEntry.tickets))
            .where(DrawEntry.member_id == member_id)
            .group_by(DrawEntry.draw_id)
        )
        return {int(d): int(n) for d, n in (await self.session.execute(stmt)).all()}

    async def ticket_total(self, draw_id: int) -> int:
        value = await self.session.scalar(
            select(func.coalesce(func.sum(DrawEntry.tickets), 0)).where(DrawEntry.draw_id == draw_id)
        )
        return int(value or 0)

    EXPORT_COLUMNS = (
        "id", "created_at", "draw_id", "purchase_entry_id", "member_code", "tickets", "won_rank", "voucher",
    )

    async def export_page(self, after_id: int, limit: int) -> list[Any]:
        stmt = (
            select(
                DrawEntry.id, DrawEntry.created_at, DrawEntry.draw_id, DrawEntry.ledger_entry_id, Member.code,
                DrawEntry.tickets, DrawWinner.rank, Voucher.code,
            )
            .join(Member, Member.id == DrawEntry.member_id)
            .outerjoin(DrawWinner, and_(DrawWinner.draw_id == DrawEntry.draw_id,
                                        DrawWinner.member_id == DrawEntry.member_id))
            .outerjoin(Voucher, Voucher.id == DrawWinner.voucher_id)
            .where(DrawEntry.id > after_id)
            .order_by(DrawEntry.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def add_winner(self, **values: Any) -> None:
        self.session.add(DrawWinner(**values))
        await self.session.flush()

    async def winners(self, draw_id: int) -> list[Any]:
        stmt = (
            select(DrawWinner, Member.code, Member.first_name, Voucher.code)
            .join(Member, Member.id == DrawWinner.member_id)
            .outerjoin(Voucher, Voucher.id == DrawWinner.voucher_id)
            .where(DrawWinner.draw_id == draw_id)
            .order_by(DrawWinner.rank)
        )
        return list((await self.session.execute(stmt)).all())

    async def wins_for(self, member_id: int) -> list[Any]:
        stmt = (
            select(DrawWinner.draw_id, DrawWinner.rank, DrawWinner.ticket, Voucher.code)
            .outerjoin(Voucher, Voucher.id == DrawWinner.voucher_id)
            .where(DrawWinner.member_id == member_id)
        )
        return list((await self.session.execute(stmt)).all())

    async def leave_open_draws(self, member_id: int) -> int:
        """/forget: the member's entries in draws not closed yet go away."""
        open_ids = select(Draw.id).where(Draw.status == "open")
        result = await self.session.execute(
            delete(DrawEntry).where(DrawEntry.member_id == member_id, DrawEntry.draw_id.in_(open_ids))
            .execution_options(synchronize_session=False)
        )
        return _count(result)

    async def rewards(self, ids: list[int]) -> dict[int, Reward]:
        if not ids:
            return {}
        return {r.id: r for r in await self.session.scalars(select(Reward).where(Reward.id.in_(ids)))}
