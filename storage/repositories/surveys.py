from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, Member, Survey
from storage.sql import affected, insert_ignoring_conflicts


class SurveyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, *, key: str, member_id: int, kind: str, trigger: str, now: datetime, reference: str | None = None
    ) -> Survey | None:
        """Offer a survey under its logical key; None when that offer was made before."""
        values = {
            "key": key,
            "member_id": member_id,
            "kind": kind,
            "trigger": trigger,
            "reference": reference,
            "status": "open",
            "bonus": 0,
            "created_at": now,
        }
        stmt = insert_ignoring_conflicts(self.session, Survey, values).returning(Survey.id)
        survey_id = await self.session.scalar(stmt)
        return await self.session.get(Survey, survey_id) if survey_id is not None else None

    async def lock_member(self, member_id: int) -> None:
        """Serialise survey answers per member (`FOR UPDATE` on PostgreSQL; SQLite writers are serial)."""
        await self.session.execute(select(Member.id).where(Member.id == member_id).with_for_update())

    async def by_id(self, survey_id: int) -> Survey | None:
        return await self.session.get(Survey, survey_id, populate_existing=True)

    async def by_key(self, key: str) -> Survey | None:
        return await self.session.scalar(select(Survey).where(Survey.key == key))

    async def supersede_open(self, member_id: int, *, kind: str, keep_id: int) -> int:
        """Older unanswered surveys of `kind` stop accepting answers: their buttons change nothing."""
        result = await self.session.execute(
            update(Survey)
            .where(Survey.member_id == member_id, Survey.kind == kind, Survey.status == "open", Survey.id != keep_id)
            .values(status="superseded")
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def answer(self, survey_id: int, member_id: int, score: int, *, now: datetime) -> bool:
        """Record the score once: False when the survey was answered (or replaced) already."""
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.member_id == member_id, Survey.status == "open")
            .values(score=score, status="answered", answered_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def set_fields(self, survey_id: int, **values: Any) -> None:
        await self.session.execute(
            update(Survey).where(Survey.id == survey_id).values(**values).execution_options(synchronize_session=False)
        )

    async def close_comment(self, survey_id: int, *, now: datetime, comment: str | None) -> bool:
        """End the comment step once (comment or skip); False when it had ended already."""
        values: dict[str, Any] = {"status": "closed", "closed_at": now}
        if comment is not None:
            values["comment"] = comment
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.status == "answered")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def add_late_comment(self, survey_id: int, comment: str) -> bool:
        """A comment after the step timed out: kept once, if none was given."""
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.status == "closed", Survey.comment.is_(None))
            .values(comment=comment)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def mark_alerted(self, survey_id: int, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.alerted_at.is_(None))
            .values(alerted_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def last_bonus_at(self, member_id: int) -> datetime | None:
        return await self.session.scalar(
            select(func.max(Survey.answered_at)).where(Survey.member_id == member_id, Survey.bonus > 0)
        )

    async def last_asked_at(self, member_id: int) -> datetime | None:
        return await self.session.scalar(select(func.max(Survey.created_at)).where(Survey.member_id == member_id))

    async def comment_step_lapsed(self, *, answered_before: datetime, limit: int) -> list[Survey]:
        """Answered surveys whose comment step has been open since before `answered_before`."""
        stmt = (
            select(Survey)
            .where(Survey.status == "answered", Survey.answered_at <= answered_before)
            .order_by(Survey.answered_at, Survey.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def followup_candidates(
        self, *, purchased_from: datetime, purchased_until: datetime, asked_since: datetime, limit: int
    ) -> list[tuple[int, int, int]]:
        """(member id, Telegram id, latest purchase entry id) of members to ask after a purchase.

        Purchases in [purchased_from, purchased_until]; members who can be
        messaged (not blocked, not erased) and were not asked since `asked_since`.
        """
        recent_survey = exists().where(Survey.member_id == LedgerEntry.member_id, Survey.created_at >= asked_since)
        stmt = (
            select(LedgerEntry.member_id, Member.telegram_id, func.max(LedgerEntry.id))
            .join(Member, Member.id == LedgerEntry.member_id)
            .where(
                LedgerEntry.kind == "purchase",
                LedgerEntry.created_at >= purchased_from,
                LedgerEntry.created_at <= purchased_until,
                Member.telegram_id.is_not(None),
                Member.blocked_at.is_(None),
                Member.forgotten_at.is_(None),
                ~recent_survey,
            )
            .group_by(LedgerEntry.member_id, Member.telegram_id)
            .order_by(LedgerEntry.member_id)
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [(int(m), int(t), int(e)) for m, t, e in rows if t is not None]  # the query keeps only Telegram ids

    async def score_counts(self, kind: str, start: datetime, end: datetime) -> dict[int, int]:
        """{score: answers} for surveys of `kind` answered in [start, end)."""
        stmt = (
            select(Survey.score, func.count())
            .where(
                and_(Survey.kind == kind, Survey.answered_at >= start, Survey.answered_at < end),
                Survey.score.is_not(None),
            )
            .group_by(Survey.score)
        )
        rows = (await self.session.execute(stmt)).all()
        return {int(score): int(n) for score, n in rows if score is not None}  # the query skips NULLs

    async def for_member(self, member_id: int, statuses: Iterable[str] | None = None) -> list[Survey]:
        stmt = select(Survey).where(Survey.member_id == member_id)
        if statuses is not None:
            stmt = stmt.where(Survey.status.in_(list(statuses)))
        return list(await self.session.scalars(stmt.order_by(Survey.id)))

    async def erase_comments(self, member_id: int) -> int:
        """Drop the member's free-text comments (erasure); scores stay for the anonymous NPS/CSAT."""
        result = await self.session.execute(
            update(Survey).where(Survey.member_id == member_id, Survey.comment.is_not(None)).values(comment=None)
        )
        return affected(result)
