"""Service recovery (SPEC §11): the buttons on an unhappy customer's alert, and the
"did we make it right?" question a week later.

A case opens with the alert (`bot.services.surveys`). The first staff
member to act takes it with one guarded UPDATE (`recovery.take`), so two
staff tapping at the same moment cannot both act: the second is told who
did. Each action is a column written once, goodwill points carry the
ledger key `recovery:<case>:goodwill` and come out of the month's
`[recovery] budget_points` through a guarded UPDATE as well: whatever the
taps, retries or races, nothing is paid twice and the budget holds.

After each action every recipient's copy of the alert is edited (their
Telegram message ids are on the outbox rows that delivered it), so the
others see who handled it and what was done.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain import errors
from bot.domain.delivery import REMINDER, SERVICE
from bot.domain.ledger import Kind
from bot.domain.recovery import (
    RECOVERY_BUDGET,
    Action,
    ActionDone,
    AlreadyHandled,
    BudgetExhausted,
    CaseResolved,
    FollowupAnswered,
    GoodwillOff,
    RecoveryStats,
    budget_period,
    median_delay,
)
from bot.domain.rewards import RewardUnavailable
from bot.domain.surveys import COMMENT_LIMIT, CommentTooLong
from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import eraser, row, section
from bot.services.recognition import give_reward_voucher, voucher_payload

RECOVERY_SOURCE = "recovery"
JOB_BATCH = 500


def period_now(ctx: Context, now: datetime) -> str:
    return budget_period(now.astimezone(ctx.zone).date())


async def budget_left(ctx: Context, uow: UnitOfWork, name: str, limit: int, now: datetime) -> int:
    used: int = await uow.budgets.used(name, period_now(ctx, now))
    return max(0, limit - used)


async def spend(ctx: Context, uow: UnitOfWork, name: str, limit: int, amount: int, now: datetime) -> None:
    """Take `amount` from this month's budget `name`, or raise BudgetExhausted (nothing spent)."""
    if amount and not await uow.budgets.spend(name, period_now(ctx, now), amount, limit=limit):
        raise BudgetExhausted(
            left=await budget_left(ctx, uow, name, limit, now), needed=amount, budget=limit, name=name
        )


async def open_case(uow: UnitOfWork, *, survey_id: int, member_id: int, now: datetime) -> int:
    """The case behind an alert (one per survey), in the alert's transaction."""
    case = await uow.recovery.open_case(survey_id=survey_id, member_id=member_id, now=now)
    return int(case.id)


@dataclass(frozen=True)
class CaseView:
    """What an alert shows about its case (rendered in each reader's language)."""

    case_id: int
    handler: str | None
    apologised: bool
    goodwill: int | None
    voucher_code: str | None
    resolved: bool
    goodwill_offer: int  # points the goodwill button gives (0: no button)
    budget_left: int
    budget: int
    outcome: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def case_view(ctx: Context, uow: UnitOfWork, case: Any, now: datetime) -> CaseView:
    voucher = await uow.vouchers.by_id(case.voucher_id) if case.voucher_id else None
    rules = ctx.program.recovery
    return CaseView(
        case_id=case.id,
        handler=case.handler_name,
        apologised=case.apologised_at is not None,
        goodwill=case.goodwill_points,
        voucher_code=voucher.code if voucher is not None else None,
        resolved=case.resolved_at is not None,
        goodwill_offer=rules.goodwill_points,
        budget_left=await budget_left(ctx, uow, RECOVERY_BUDGET, rules.budget_points, now),
        budget=rules.budget_points,
        outcome=case.outcome,
    )


async def alert_data(ctx: Context, uow: UnitOfWork, case_id: int) -> dict[str, Any]:
    """The case as the alert shows it at send time (what the buttons may still do)."""
    case = await uow.recovery.by_id(case_id)
    if case is None:
        return {}
    return {"case": (await case_view(ctx, uow, case, ctx.now())).to_json()}


@dataclass(frozen=True)
class AlertCopy:
    chat_id: int
    message_id: int
    language: str | None  # the reader's language (None: DEFAULT_LANGUAGE)
    payload: dict[str, Any]


@dataclass(frozen=True)
class ActResult:
    action: str
    case: CaseView
    copies: list[AlertCopy]  # every recipient's alert, to edit
    member_code: str
    points: int = 0  # goodwill given now
    voucher_code: str | None = None


async def alert_copies(uow: UnitOfWork, survey_id: int) -> list[AlertCopy]:
    copies = []
    for message in await uow.outbox.sent_with_prefix(f"survey_alert:{survey_id}:"):
        if message.key.count(":") != 2:  # a late comment's own alert keeps its text
            continue
        person = await uow.members.by_id(message.member_id) if message.member_id else None
        copies.append(
            AlertCopy(message.chat_id, int(message.sent_message_id), person.language if person else None,
                      dict(message.payload))
        )
    return copies


async def act(
    ctx: Context, *, staff_id: int, staff_name: str, case_id: int, action: str, reward_id: int | None = None,
) -> ActResult:
    """One tap on an alert's button by staff: apologise, goodwill, a voucher, resolved.

    Raises AlreadyHandled when another staff member acted first, ActionDone for an
    action already taken, CaseResolved once resolved, BudgetExhausted when the
    month's budget cannot pay, GoodwillOff when the program gives no goodwill points.
    """
    now = ctx.now()
    kind = Action(action)
    rules = ctx.program.recovery
    async with ctx.uow() as uow:
        case = await uow.recovery.by_id(case_id)
        if case is None:
            raise errors.StaleAction()
        if case.handled_by is None:
            await uow.recovery.take(case.id, staff_id=staff_id, name=staff_name, now=now)
            case = await uow.recovery.by_id(case_id)  # fresh: who took it, this tap or a faster one
        if case.handled_by != staff_id:
            raise AlreadyHandled(by=case.handler_name or "")
        if case.resolved_at is not None:
            raise CaseResolved(by=case.handler_name or "")
        member = await uow.members.by_id(case.member_id)
        points, voucher_code = 0, None
        if kind is Action.APOLOGY:
            if not await uow.recovery.mark(case.id, "apologised_at", now):
                raise ActionDone(action=kind.value)
            await _tell(uow, member, f"recovery:{case.id}:apology", "recovery_apology", {"case_id": case.id}, now)
        elif kind is Action.GOODWILL:
            points = rules.goodwill_points
            if points <= 0:
                raise GoodwillOff()
            if not await uow.recovery.mark(case.id, "goodwill_points", points):
                raise ActionDone(action=kind.value)
            if member.forgotten_at is not None:
                raise errors.MemberForgotten()
            await spend(ctx, uow, RECOVERY_BUDGET, rules.budget_points, points, now)
            key = f"recovery:{case.id}:goodwill"
            await credit(ctx, uow, member, points, Kind.GOODWILL, key=key, now=now, actor_id=staff_id)
            await uow.members.refresh(member)
            await _tell(uow, member, key, "recovery_goodwill", {"points": points, "balance": member.balance}, now)
        elif kind is Action.VOUCHER:
            if case.voucher_id is not None:
                raise ActionDone(action=kind.value)
            reward = await uow.rewards.get(reward_id) if reward_id is not None else None
            if reward is None or not reward.active:
                raise RewardUnavailable()
            if member.forgotten_at is not None:
                raise errors.MemberForgotten()
            await spend(ctx, uow, RECOVERY_BUDGET, rules.budget_points, reward.cost, now)
            voucher = await give_reward_voucher(ctx, uow, member, reward, source=RECOVERY_SOURCE, now=now)
            if not await uow.recovery.mark(case.id, "voucher_id", voucher.id):
                raise ActionDone(action=kind.value)  # rolls the voucher and the budget back
            voucher_code = voucher.code
            await _tell(uow, member, f"recovery:{case.id}:voucher", "recovery_voucher",
                        voucher_payload(voucher, reward), now)
        else:
            if not await uow.recovery.mark(case.id, "resolved_at", now):
                raise CaseResolved(by=case.handler_name or "")
        uow.audit.record(
            actor_id=staff_id, action=f"recovery_{kind.name.lower()}", member_id=member.id, now=now,
            case=case.id, points=points, voucher=voucher_code,
        )
        case = await uow.recovery.by_id(case.id)
        view = await case_view(ctx, uow, case, now)
        copies = await alert_copies(uow, case.survey_id)
        await uow.commit()
    return ActResult(kind.value, view, copies, member.code, points, voucher_code)


async def _tell(uow: UnitOfWork, member: Any, key: str, kind: str, payload: dict[str, Any], now: datetime) -> None:
    if member.telegram_id is None or member.forgotten_at is not None:
        return
    await uow.outbox.enqueue(
        key=key, chat_id=member.telegram_id, member_id=member.id, kind=kind, payload=payload, now=now,
        category=SERVICE,
    )


async def voucher_choices(ctx: Context, *, case_id: int) -> tuple[list[Any], int]:
    """Active catalog rewards staff may give on a case, with the budget left."""
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        if await uow.recovery.by_id(case_id) is None:
            raise errors.StaleAction()
        rewards = await uow.rewards.active()
        left = await budget_left(ctx, uow, RECOVERY_BUDGET, ctx.program.recovery.budget_points, now)
    return rewards, left


# -- a week later: "did we make it right?" -------------------------------------------------


def job_moment(ctx: Context, day: date | None) -> datetime:
    """The job's "now": the real now, or the end of `day` in merchant time (an operator
    running it `--date` a week ahead asks what would be due then, as the demo does)."""
    if day is None:
        return ctx.now()
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.zone)


async def run_followups(ctx: Context, day: date | None = None) -> int:
    """The `recovery` job: ask each handled case's member once, `followup_days` after the first action."""
    moment = job_moment(ctx, day)
    now = ctx.now()
    asked = 0
    while True:
        async with ctx.uow() as uow:
            due = await uow.recovery.followups_due(
                handled_before=moment - timedelta(days=ctx.program.recovery.followup_days), limit=JOB_BATCH
            )
            for case_id, member_id, telegram_id in due:
                if not await uow.recovery.mark(case_id, "followup_asked_at", now):
                    continue
                await uow.outbox.enqueue(
                    key=f"recovery:{case_id}:followup", chat_id=telegram_id, member_id=member_id,
                    kind="recovery_followup", payload={"case_id": case_id}, now=now, category=REMINDER,
                )
                asked += 1
            await uow.commit()
        if len(due) < JOB_BATCH:
            return asked


async def answer_followup(ctx: Context, *, telegram_id: int, case_id: int, made_right: bool) -> None:
    """The member's yes or no, once. Raises FollowupAnswered for a second tap."""
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            raise errors.NotAMember()
        case = await uow.recovery.by_id(case_id)
        if case is None or case.member_id != member.id or case.followup_asked_at is None:
            raise errors.StaleAction()
        if not await uow.recovery.answer(case.id, member.id, "yes" if made_right else "no", now=now):
            raise FollowupAnswered()
        await uow.commit()


async def comment_followup(ctx: Context, *, telegram_id: int, case_id: int, text: str) -> bool:
    comment = text.strip()
    if len(comment) > COMMENT_LIMIT:
        raise CommentTooLong(limit=COMMENT_LIMIT, length=len(comment))
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            raise errors.NotAMember()
        saved = await uow.recovery.add_comment(case_id, member.id, comment)
        await uow.commit()
    return bool(saved)


async def stats_between(ctx: Context, uow: UnitOfWork, start: datetime, end: datetime) -> RecoveryStats:
    numbers = await uow.recovery.stats_between(start, end)
    surprises, surprise_points = await uow.surprises.gifts_between(start, end)
    return RecoveryStats(
        alerts=numbers["alerts"], handled=numbers["handled"], resolved=numbers["resolved"],
        median_first_action=median_delay(numbers["delays"]), asked=numbers["asked"],
        recovered=numbers["recovered"], answered=numbers["answered"], goodwill_points=numbers["goodwill_points"],
        surprises=surprises, surprise_points=surprise_points,
    )


# -- what /mydata includes and /forget erases ----------------------------------------------


@section
async def _recovery_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    cases = await uow.recovery.for_member(member.id)
    return "service_recovery", [
        row(c, "created_at", "handled_at", "apologised_at", "goodwill_points", "resolved_at", "followup_asked_at",
            "outcome", "outcome_comment", "outcome_at")
        for c in cases
    ]


@eraser
async def _erase_recovery_comments(uow: UnitOfWork, member: Any, now: datetime) -> None:
    await uow.recovery.erase_comments(member.id)
