"""Surveys: `/feedback` (NPS), the redemption CSAT, the post-purchase follow-up job,
and the service-recovery loop (a detractor alerts the owner and staff at once).

A survey row is created when the survey is offered; its id is what the
score buttons carry, so a double tap, an old menu or someone else's button
changes nothing (`answer` only moves an open survey of that member).

The alert waits for the optional comment step: it is queued the moment the
member sends a comment or taps Skip; if they do neither, the `surveys` job
queues it without a comment once `COMMENT_WAIT` has passed. A comment that
arrives after that (within `COMMENT_GRACE`) follows as a second alert.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain import errors
from bot.domain.delivery import REMINDER
from bot.domain.ledger import Kind
from bot.domain.surveys import (
    COMMENT_GRACE,
    COMMENT_LIMIT,
    COMMENT_WAIT,
    CSAT_DELAY,
    FOLLOWUP_LOOKBACK,
    CommentTooLong,
    Status,
    SurveyAnswered,
    SurveyExpired,
    SurveyKind,
    Trigger,
    answerable,
    bonus_due,
    may_ask,
    needs_alert,
    valid_score,
)
from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import eraser, row, section

JOB_BATCH = 500


@dataclass(frozen=True)
class SurveyOffer:
    survey_id: int
    kind: str


async def start_feedback(ctx: Context, member: Any, *, key: str) -> SurveyOffer:
    """`/feedback`: offer an NPS survey; a redelivered command returns the same survey.

    Older unanswered NPS surveys of the member stop accepting answers.
    """
    if member is None:
        raise errors.NotAMember()
    now = ctx.now()
    async with ctx.uow() as uow:
        survey = await uow.surveys.create(
            key=key, member_id=member.id, kind=SurveyKind.NPS, trigger=Trigger.FEEDBACK, now=now
        )
        if survey is None:
            survey = await uow.surveys.by_key(key)
        else:
            await uow.surveys.supersede_open(member.id, kind=SurveyKind.NPS, keep_id=survey.id)
        await uow.commit()
    return SurveyOffer(survey.id, survey.kind)


@dataclass(frozen=True)
class ScoreResult:
    survey_id: int
    kind: str
    score: int
    bonus: int  # survey points paid now (0 when already paid for a survey this week)
    balance: int


async def answer(ctx: Context, *, telegram_id: int, survey_id: int, score: int) -> ScoreResult:
    """Record a score tapped on a survey's buttons, once, and pay the survey bonus.

    Raises StaleAction for someone else's survey or a forged score,
    SurveyAnswered for a second tap, SurveyExpired for an old or replaced one.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            raise errors.NotAMember()
        survey = await uow.surveys.by_id(survey_id)
        if survey is None or survey.member_id != member.id or not valid_score(survey.kind, score):
            raise errors.StaleAction()
        if survey.status in (Status.ANSWERED, Status.CLOSED):
            raise SurveyAnswered(score=survey.score, kind=survey.kind)
        if survey.status != Status.OPEN or not answerable(survey.created_at, now):
            raise SurveyExpired()
        await uow.surveys.lock_member(member.id)  # one survey-bonus check at a time per member
        if not await uow.surveys.answer(survey.id, member.id, score, now=now):
            raise SurveyAnswered(score=score, kind=survey.kind)
        bonus = 0
        amount = ctx.program.bonuses.survey
        if (
            amount
            and bonus_due(await uow.surveys.last_bonus_at(member.id), now, ctx.program.surveys.min_days_between)
            and await credit(ctx, uow, member, amount, Kind.SURVEY, key=f"survey:{survey.id}", now=now)
        ):
            bonus = amount
            await uow.surveys.set_fields(survey.id, bonus=bonus)
        await uow.members.refresh(member)
        await uow.commit()
        return ScoreResult(survey.id, survey.kind, score, bonus, member.balance)


@dataclass(frozen=True)
class CommentResult:
    accepted: bool  # False: the survey no longer takes a comment (the text was something else)
    alerted: bool  # the owner and staff were alerted with it


def clean_comment(text: str) -> str:
    comment = text.strip()
    if len(comment) > COMMENT_LIMIT:
        raise CommentTooLong(limit=COMMENT_LIMIT, length=len(comment))
    return comment


async def add_comment(ctx: Context, *, telegram_id: int, survey_id: int, text: str) -> CommentResult:
    """The optional comment after a score. Raises CommentTooLong (nothing changes)."""
    comment = clean_comment(text)
    now = ctx.now()
    async with ctx.uow() as uow:
        member, survey = await _own_survey(uow, telegram_id, survey_id)
        if survey is None or survey.answered_at is None or now - survey.answered_at > COMMENT_GRACE:
            return CommentResult(False, False)
        alerted = False
        if survey.status == Status.ANSWERED:
            if not await uow.surveys.close_comment(survey.id, now=now, comment=comment):
                return CommentResult(False, False)
            if needs_alert(survey.kind, survey.score):
                await _alert(ctx, uow, survey, member, comment=comment, now=now)
                alerted = True
        elif survey.status == Status.CLOSED:
            # The step timed out and the alert went without it: keep the comment and send it after.
            if not await uow.surveys.add_late_comment(survey.id, comment):
                return CommentResult(False, False)
            if needs_alert(survey.kind, survey.score) and survey.alerted_at is not None:
                await _alert(ctx, uow, survey, member, comment=comment, now=now, late=True)
                alerted = True
        else:
            return CommentResult(False, False)
        await uow.commit()
        return CommentResult(True, alerted)


async def comment_open(ctx: Context, *, telegram_id: int, survey_id: int) -> bool:
    """Whether the member's survey still takes a comment (for messages that are not text)."""
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        survey = await uow.surveys.by_id(survey_id)
    return (
        member is not None and survey is not None and survey.member_id == member.id
        and (survey.status == Status.ANSWERED or (survey.status == Status.CLOSED and survey.comment is None))
        and survey.answered_at is not None and now - survey.answered_at <= COMMENT_GRACE
    )


async def skip_comment(ctx: Context, *, telegram_id: int, survey_id: int) -> None:
    """Skip the comment step; a detractor's alert goes now.

    Raises SurveyAnswered when the step had ended already (a double tap),
    StaleAction for a survey that is not the member's or has no score yet.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        member, survey = await _own_survey(uow, telegram_id, survey_id)
        if survey is None or survey.status not in (Status.ANSWERED, Status.CLOSED):
            raise errors.StaleAction()
        if not await uow.surveys.close_comment(survey.id, now=now, comment=None):
            raise SurveyAnswered(score=survey.score, kind=survey.kind)
        if needs_alert(survey.kind, survey.score):
            await _alert(ctx, uow, survey, member, comment=None, now=now)
        await uow.commit()


async def _own_survey(uow: UnitOfWork, telegram_id: int, survey_id: int) -> tuple[Any, Any]:
    member = await uow.members.by_telegram_id(telegram_id)
    if member is None:
        raise errors.NotAMember()
    survey = await uow.surveys.by_id(survey_id)
    if survey is None or survey.member_id != member.id:
        return member, None
    return member, survey


async def _alert(
    ctx: Context, uow: UnitOfWork, survey: Any, member: Any, *, comment: str | None, now: datetime,
    late: bool = False,
) -> None:
    """Tell every owner (ADMIN_IDS) and staff member, each in their language, through the outbox."""
    recipients = list(dict.fromkeys([*sorted(ctx.owners), *(s.telegram_id for s in await uow.staff.all())]))
    payload = {
        "survey_id": survey.id,
        "kind": survey.kind,
        "trigger": survey.trigger,
        "score": survey.score,
        "comment": comment,
        "code": member.code,
        "name": " ".join(p for p in (member.first_name, member.last_name) if p),
        "late_comment": late,
    }
    for chat_id in recipients:
        person = await uow.members.by_telegram_id(chat_id)
        await uow.outbox.enqueue(
            key=f"survey_alert:{survey.id}:{chat_id}" + (":comment" if late else ""),
            chat_id=chat_id,
            member_id=person.id if person is not None else None,
            subject_id=survey.member_id,
            kind="survey_alert",
            payload=payload,
            now=now,
        )
    await uow.surveys.mark_alerted(survey.id, now=now)


async def offer_csat(
    ctx: Context, uow: UnitOfWork, member: Any, reference: str, *,
    reward: dict[str, str] | None = None, now: datetime | None = None,
) -> int | None:
    """Offer the CSAT survey (1–5) after a redemption, in the caller's transaction.

    Call it where a voucher is validated (`/redeem`), with the voucher as
    `reference` and optionally the reward's name per language; the caller
    commits. The question arrives `CSAT_DELAY` later through the outbox.
    Returns the survey id, or None when not offered: already offered for
    this reference, the member cannot be messaged, or they were asked
    within `surveys.min_days_between` days.
    """
    now = now or ctx.now()
    if member.telegram_id is None or member.blocked_at is not None or member.forgotten_at is not None:
        return None
    if not may_ask(await uow.surveys.last_asked_at(member.id), now, ctx.program.surveys.min_days_between):
        return None
    survey = await uow.surveys.create(
        key=f"redemption:{reference}"[:160], member_id=member.id, kind=SurveyKind.CSAT,
        trigger=Trigger.REDEMPTION, reference=reference[:64], now=now,
    )
    if survey is None:
        return None
    await uow.outbox.enqueue(
        key=f"survey:{survey.id}",
        chat_id=member.telegram_id,
        member_id=member.id,
        kind="survey_csat",
        payload={"survey_id": survey.id, "reward": reward or {}},
        now=now,
        category=REMINDER,  # unprompted: waits out quiet hours
        not_before=now + CSAT_DELAY,
    )
    survey_id: int = survey.id
    return survey_id


@dataclass(frozen=True)
class FollowupReport:
    asked: int
    alerts: int
    closed: int


def followup_moment(now: datetime, day: date | None, zone: Any) -> datetime:
    """The job's "now": the real now, or the end of `day` in merchant time (never later than now)."""
    if day is None:
        return now
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return min(now, end_of_day)


async def run_followups(ctx: Context, day: date | None = None) -> FollowupReport:
    """The `surveys` job: post-purchase NPS, and alerts whose comment step lapsed.

    A member is asked `surveys.followup_hours` after a purchase (purchases up
    to `FOLLOWUP_LOOKBACK` older than that still count, so a missed run
    catches up), once per purchase, at most once per `surveys.min_days_between`
    days whatever the trigger, and only when they can be messaged. Safe to
    run twice: the survey key is the purchase.
    """
    now = ctx.now()
    as_of = followup_moment(now, day, ctx.zone)
    rules = ctx.program.surveys
    until = as_of - timedelta(hours=rules.followup_hours)
    asked = 0
    while True:
        created = 0
        async with ctx.uow() as uow:
            candidates = await uow.surveys.followup_candidates(
                purchased_from=until - FOLLOWUP_LOOKBACK,
                purchased_until=until,
                asked_since=as_of - timedelta(days=rules.min_days_between),
                limit=JOB_BATCH,
            )
            for member_id, telegram_id, entry_id in candidates:
                survey = await uow.surveys.create(
                    key=f"post_purchase:{entry_id}", member_id=member_id, kind=SurveyKind.NPS,
                    trigger=Trigger.POST_PURCHASE, reference=str(entry_id), now=now,
                )
                if survey is None:
                    continue
                await uow.outbox.enqueue(
                    key=f"survey:{survey.id}", chat_id=telegram_id, member_id=member_id,
                    kind="survey_nps", payload={"survey_id": survey.id}, now=now, category=REMINDER,
                )
                created += 1
            await uow.commit()
        asked += created
        if len(candidates) < JOB_BATCH or created == 0:
            break
    alerts, closed = await close_lapsed_comments(ctx)
    return FollowupReport(asked, alerts, closed)


async def close_lapsed_comments(ctx: Context) -> tuple[int, int]:
    """Close comment steps open longer than COMMENT_WAIT; alert for detractors. (alerts, closed)."""
    now = ctx.now()
    alerts = closed = 0
    while True:
        async with ctx.uow() as uow:
            lapsed = await uow.surveys.comment_step_lapsed(answered_before=now - COMMENT_WAIT, limit=JOB_BATCH)
            for survey in lapsed:
                if not await uow.surveys.close_comment(survey.id, now=now, comment=None):
                    continue
                closed += 1
                if needs_alert(survey.kind, survey.score) and survey.alerted_at is None:
                    member = await uow.members.by_id(survey.member_id)
                    await _alert(ctx, uow, survey, member, comment=None, now=now)
                    alerts += 1
            await uow.commit()
        if len(lapsed) < JOB_BATCH:
            return alerts, closed


# -- what /mydata includes and /forget erases ----------------------------------------------


@section
async def _surveys_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    answers = await uow.surveys.for_member(member.id)
    return "surveys", [
        row(s, "created_at", "kind", "trigger", "status", "score", "comment", "bonus", "answered_at") for s in answers
    ]


@eraser
async def _erase_comments(uow: UnitOfWork, member: Any, now: datetime) -> None:
    await uow.surveys.erase_comments(member.id)  # free text may name the person; scores are anonymous
