"""Earning actions (SPEC §11 `[[actions]]`): points for joining the channel, an event
check-in, something staff saw, or an event the shop's systems report.

However the bot learns of it, the points are one ledger entry under the key
`action:<id>:<period>:<member>` (`bot.domain.actions.points_key`): the limit
(once, daily, weekly, monthly in merchant time) is that key's uniqueness, so
no interleaving of taps, messages, redeliveries and API retries pays twice.
Each request is recorded as a claim under its own key (the /checkin message,
the API's event id, …), so a repeated request gets its first answer back.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import errors
from bot.domain.actions import (
    ActionDone,
    ActionUnknown,
    ChannelCheckUnavailable,
    ChannelMembership,
    CheckinCodeExpired,
    CheckinCodeUnknown,
    EventConflict,
    NotInChannel,
    Period,
    RequestDecided,
    RequestPending,
    WrongVerification,
    code_expiry,
    new_action_code,
    normalize_code,
    period_of,
    points_key,
)
from bot.domain.ledger import Kind
from bot.domain.program import EarningAction
from bot.services.ledger import credit
from bot.services.members import find_member
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import eraser, row, section

# The Telegram layer's getChatMember, as a fact: (channel "@name", user id) -> membership.
MembershipCheck = Callable[[str, int], Awaitable[ChannelMembership]]
EVENT_ID_LIMIT = 100
_CODE_ATTEMPTS = 10


class InvalidEventId(errors.DomainError):
    """An API event id that is empty or longer than EVENT_ID_LIMIT."""

    code = "invalid_event_id"


def action_of(ctx: Context, action_id: str, verify: str | None = None) -> EarningAction:
    action = ctx.program.action(action_id)
    if action is None:
        raise ActionUnknown(action=action_id)
    if verify is not None and action.verify != verify:
        raise WrongVerification(action=action_id, verify=action.verify)
    return action


def period_now(ctx: Context, action: EarningAction, now: datetime) -> Period:
    return period_of(action.limit, now, ctx.zone, week_starts=ctx.program.display.week_starts)


@dataclass(frozen=True)
class ActionResult:
    member: Any
    action: EarningAction
    status: str  # credited | over_limit (an API event over its limit) | pending | declined
    points: int
    balance: int
    again: datetime | None  # when the action can be done again (None: never, for `once`)
    duplicate: bool = False  # this request was handled before: its first outcome, nothing changed


async def _member_by_telegram(uow: UnitOfWork, telegram_id: int) -> Any:
    member = await uow.members.by_telegram_id(telegram_id)
    if member is None:
        raise errors.NotAMember()
    return member


async def _replay(ctx: Context, uow: UnitOfWork, claim: Any, member: Any, now: datetime) -> ActionResult:
    action = action_of(ctx, claim.action_id)
    await uow.members.refresh(member)
    return ActionResult(
        member, action, claim.status, claim.points, member.balance, period_now(ctx, action, now).ends, duplicate=True
    )


async def _credit(
    ctx: Context, uow: UnitOfWork, member: Any, action: EarningAction, *, key: str, now: datetime,
    code: str | None = None, refuse_quietly: bool = False,
) -> ActionResult:
    """Record the claim under `key` and pay the action's points for this period.

    Over the limit: raises ActionDone (nothing is kept), or with
    `refuse_quietly` keeps a `over_limit` claim, so the same API event
    gets the same answer later.
    """
    period = period_now(ctx, action, now)
    claim = await uow.actions.add_claim(
        key=key, action_id=action.id, member_id=member.id, verify=action.verify, period=period.key,
        status="credited", points=action.points, code=code, created_at=now,
    )
    if claim is None:  # the same request, handled a moment ago
        previous = await uow.actions.claim_by_key(key)
        return await _replay(ctx, uow, previous, member, now)
    if not await credit(ctx, uow, member, action.points, Kind.ACTION, key=points_key(action.id, period, member.id),
                        now=now, note=action.id):
        if not refuse_quietly:
            raise ActionDone(action=action.id, limit=action.limit, again=period.ends)
        claim.status, claim.points = "over_limit", 0
        await uow.members.refresh(member)
        return ActionResult(member, action, "over_limit", 0, member.balance, period.ends)
    await uow.members.refresh(member)
    return ActionResult(member, action, "credited", action.points, member.balance, period.ends)


async def _notify_credited(uow: UnitOfWork, member: Any, result: ActionResult, *, key: str, now: datetime) -> None:
    await uow.outbox.enqueue(
        key=f"action-credited:{key}", chat_id=member.telegram_id, member_id=member.id, kind="action_credited",
        payload={"action": result.action.id, "name": dict(result.action.name), "points": result.points,
                 "balance": result.balance},
        now=now,
    )


# -- check-in codes -------------------------------------------------------------------------


async def _action_for_code(ctx: Context, uow: UnitOfWork, code: str, now: datetime) -> EarningAction:
    stored = await uow.actions.code(code)
    if stored is not None:
        action = ctx.program.action(stored.action_id)
        if action is None or action.verify != "code":
            raise CheckinCodeUnknown(text=code)
        if stored.expires_at <= now:
            raise CheckinCodeExpired(text=code, expired_at=stored.expires_at)
        return action
    for action in ctx.program.actions:
        if action.verify == "code" and action.code is not None and action.code.upper() == code:
            return action
    raise CheckinCodeUnknown(text=code)


async def checkin(ctx: Context, telegram_id: int, code_text: str, *, key: str) -> ActionResult:
    """`/checkin CODE` or the deep link `start=act-<code>`: the code's action, once per period.

    `key` is the message's (`command_key`): the same message handled twice
    answers the same and pays once. Unknown and expired codes, and a code
    used again within its action's limit, are refused with nothing changed.
    """
    code = normalize_code(code_text)
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await _member_by_telegram(uow, telegram_id)
        previous = await uow.actions.claim_by_key(key)
        if previous is not None:
            return await _replay(ctx, uow, previous, member, now)
        action = await _action_for_code(ctx, uow, code, now)
        result = await _credit(ctx, uow, member, action, key=key, now=now, code=code)
        await uow.commit()
        return result


async def create_code(ctx: Context, *, actor_id: int, action_id: str, days: int) -> Any:
    """A new check-in code for a `code` action, valid `days` merchant days from today (owner)."""
    action = action_of(ctx, action_id, "code")
    now = ctx.now()
    fixed = {a.code.upper() for a in ctx.program.actions if a.code}
    async with ctx.uow() as uow:
        for _ in range(_CODE_ATTEMPTS):
            code = new_action_code()
            if code in fixed:
                continue
            if await uow.actions.add_code(
                code=code, action_id=action.id, created_by=actor_id, created_at=now,
                expires_at=code_expiry(now, days, ctx.zone),
            ):
                break
        else:  # pragma: no cover - 29**6 codes
            raise RuntimeError("could not draw an unused check-in code")
        uow.audit.record(actor_id=actor_id, action="checkin_code", now=now, code=code, action_id=action.id, days=days)
        await uow.commit()
        stored = await uow.actions.code(code)
    return stored


async def live_codes(ctx: Context) -> list[Any]:
    async with ctx.uow(readonly=True) as uow:
        codes: list[Any] = await uow.actions.live_codes(now=ctx.now())
    return codes


# -- the channel -----------------------------------------------------------------------------


async def check_channel(ctx: Context, telegram_id: int, action_id: str, membership: MembershipCheck) -> ActionResult:
    """The member says they joined the channel: ask Telegram (getChatMember), then pay once per period.

    Not in the channel: NotInChannel. The bot cannot see the channel's
    members (not an admin there): the owners are told, and the member gets
    ChannelCheckUnavailable. Asking Telegram happens outside any transaction.
    """
    action = action_of(ctx, action_id, "channel")
    channel = str(action.channel)
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        member = await _member_by_telegram(uow, telegram_id)
        period = period_now(ctx, action, now)
        if await uow.ledger.by_key(points_key(action.id, period, member.id)) is not None:
            raise ActionDone(action=action.id, limit=action.limit, again=period.ends)
    state = await membership(channel, telegram_id)
    if state is ChannelMembership.UNAVAILABLE:
        await report_channel_unavailable(ctx, action.id)
        raise ChannelCheckUnavailable(channel=channel)
    if state is ChannelMembership.LEFT:
        raise NotInChannel(channel=channel)
    async with ctx.uow() as uow:
        member = await _member_by_telegram(uow, telegram_id)
        key = f"channel:{action.id}:{period.key}:{member.id}"
        result = await _credit(ctx, uow, member, action, key=key, now=now)
        if result.duplicate:
            raise ActionDone(action=action.id, limit=action.limit, again=period.ends)
        await uow.commit()
        return result


async def report_channel_unavailable(ctx: Context, action_id: str) -> int:
    """Tell every owner, once a day per action, that the channel check cannot work
    because the bot is not an administrator of the channel. Returns messages queued."""
    action = action_of(ctx, action_id, "channel")
    now = ctx.now()
    today = now.astimezone(ctx.zone).date().isoformat()
    queued = 0
    async with ctx.uow() as uow:
        for owner in sorted(ctx.owners):
            person = await uow.members.by_telegram_id(owner)
            queued += await uow.outbox.enqueue(
                key=f"channel-unavailable:{action.id}:{today}:{owner}", chat_id=owner,
                member_id=person.id if person is not None else None, kind="channel_check_unavailable",
                payload={"action": action.id, "name": dict(action.name), "channel": action.channel}, now=now,
            )
        await uow.commit()
    return queued


# -- staff approval ----------------------------------------------------------------------------


async def ask_staff(ctx: Context, telegram_id: int, action_id: str) -> Any:
    """The member asks staff to confirm a `staff` action: one open request per period;
    every owner and staff member gets approve/decline buttons. Returns the claim."""
    action = action_of(ctx, action_id, "staff")
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await _member_by_telegram(uow, telegram_id)
        period = period_now(ctx, action, now)
        if await uow.ledger.by_key(points_key(action.id, period, member.id)) is not None:
            raise ActionDone(action=action.id, limit=action.limit, again=period.ends)
        earlier = await uow.actions.in_period(member.id, action.id, period.key)
        if any(c.status == "pending" for c in earlier):
            raise RequestPending(action=action.id)
        claim = await uow.actions.add_claim(
            key=f"request:{action.id}:{period.key}:{member.id}:{len(earlier) + 1}", action_id=action.id,
            member_id=member.id, verify=action.verify, period=period.key, status="pending", points=0, created_at=now,
        )
        if claim is None:  # a second tap raced the first
            raise RequestPending(action=action.id)
        recipients = list(dict.fromkeys([*sorted(ctx.owners), *(s.telegram_id for s in await uow.staff.all())]))
        payload = {
            "claim": claim.id, "action": action.id, "name": dict(action.name), "points": action.points,
            "code": member.code, "member_name": " ".join(p for p in (member.first_name, member.last_name) if p),
        }
        for chat_id in recipients:
            if chat_id == telegram_id:
                continue  # staff cannot approve their own request
            person = await uow.members.by_telegram_id(chat_id)
            await uow.outbox.enqueue(
                key=f"action-request:{claim.id}:{chat_id}", chat_id=chat_id,
                member_id=person.id if person is not None else None, subject_id=member.id,
                kind="action_request", payload=payload, now=now,
            )
        await uow.commit()
        return claim


@dataclass(frozen=True)
class Decision:
    claim: Any
    member: Any
    action: EarningAction
    approved: bool
    balance: int


async def decide(ctx: Context, *, staff_id: int, claim_id: int, approve: bool) -> Decision:
    """Approve or decline a member's request, once: a second tap, or another staff
    member's tap on their copy of the buttons, gets RequestDecided. The member is told."""
    now = ctx.now()
    async with ctx.uow() as uow:
        claim = await uow.actions.claim(claim_id)
        if claim is None:
            raise errors.StaleAction()
        if claim.status != "pending":
            raise RequestDecided(status=claim.status, by=claim.decided_by)
        member = await uow.members.by_id(claim.member_id)
        if member is None or member.forgotten_at is not None:
            raise errors.MemberForgotten(query=str(claim.member_id))
        if member.telegram_id == staff_id:
            raise errors.StaleAction()
        action = action_of(ctx, claim.action_id)
        status = "credited" if approve else "declined"
        if not await uow.actions.decide(claim.id, status=status, by=staff_id, now=now,
                                        points=action.points if approve else 0):
            await uow.actions.reload(claim.id)
            raise RequestDecided(status=claim.status, by=claim.decided_by)
        if approve:
            period = Period(claim.period, None)
            if not await credit(ctx, uow, member, action.points, Kind.ACTION,
                                key=points_key(action.id, period, member.id), now=now, note=action.id,
                                actor_id=staff_id):
                raise ActionDone(action=action.id, limit=action.limit, again=None)
        await uow.members.refresh(member)
        if member.telegram_id is not None:
            await uow.outbox.enqueue(
                key=f"action-decided:{claim.id}", chat_id=member.telegram_id, member_id=member.id,
                kind="action_approved" if approve else "action_declined",
                payload={"action": action.id, "name": dict(action.name), "points": action.points if approve else 0,
                         "balance": member.balance},
                now=now,
            )
        uow.audit.record(actor_id=staff_id, action="action_" + status, member_id=member.id, now=now,
                         claim=claim.id, action_id=action.id)
        await uow.commit()
        claim = await uow.actions.reload(claim.id)
        return Decision(claim, member, action, approve, member.balance)


# -- events from the shop's systems (POST /api/v1/events) --------------------------------------


async def record_action_event(ctx: Context, event_id: str, member_ref: str, action_id: str) -> ActionResult:
    """An `api` action done elsewhere (SPEC §9.1 `POST /api/v1/events`), idempotent by `event_id`.

    The first call pays the action's points (status `credited`) and tells the
    member, or, over the action's limit, pays nothing (status `over_limit`);
    either way the outcome is kept, and the same `event_id` again returns it
    with `duplicate=True`. Raises ActionUnknown, WrongVerification (not an
    `api` action), MemberNotFound / AmbiguousMember / MemberForgotten,
    EventConflict (this `event_id` came before for another member or action),
    InvalidEventId.
    """
    event_id = (event_id or "").strip()
    if not event_id or len(event_id) > EVENT_ID_LIMIT:
        raise InvalidEventId(text=event_id[:EVENT_ID_LIMIT])
    action = action_of(ctx, action_id, "api")
    key = f"event:{event_id}"
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await find_member(uow, member_ref)
        previous = await uow.actions.claim_by_key(key)
        if previous is not None:
            if previous.member_id != member.id or previous.action_id != action.id:
                raise EventConflict(event_id=event_id)
            return await _replay(ctx, uow, previous, member, now)
        result = await _credit(ctx, uow, member, action, key=key, now=now, refuse_quietly=True)
        if result.status == "credited" and not result.duplicate and member.telegram_id is not None:
            await _notify_credited(uow, member, result, key=key, now=now)
        await uow.commit()
        return result


# -- what /earn shows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionState:
    action: EarningAction
    state: str  # available | done | pending
    again: datetime | None  # done: when it can be done again (None: never)


async def action_states(ctx: Context, uow: UnitOfWork, member: Any) -> list[ActionState]:
    """Every action of the program with what the member can still do this period."""
    now = ctx.now()
    periods = {a.id: period_now(ctx, a, now) for a in ctx.program.actions}
    statuses = await uow.actions.statuses_for(member.id, {a: p.key for a, p in periods.items()})
    states = []
    for action in ctx.program.actions:
        period = periods[action.id]
        seen = statuses.get(action.id, set())
        # Staff approvals and API events write the points key; claims say which.
        done = "credited" in seen or await uow.ledger.by_key(points_key(action.id, period, member.id)) is not None
        state = "done" if done else ("pending" if "pending" in seen else "available")
        states.append(ActionState(action, state, period.ends if done else None))
    return states


# -- what /mydata includes ------------------------------------------------------------------------


@section
async def _actions_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    claims = await uow.actions.for_member(member.id)
    return "earning_actions", [
        row(c, "created_at", "action_id", "verify", "period", "status", "points", "code", "decided_at")
        for c in claims
    ]


@eraser
async def _erase_request_names(uow: UnitOfWork, member: Any, now: datetime) -> None:
    claims = await uow.actions.for_member(member.id)
    await uow.actions.forget_names_in_requests([c.id for c in claims if c.verify == "staff"])
