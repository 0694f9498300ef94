"""Surprise rewards (SPEC §11): `/surprise <segment> <count> <points|reward>` (owner).

Preview first (how many members fit, the cost, the budget left), then one
confirm button (a one-time token, which is also the surprise's key). At
the confirm a fresh seed is drawn and recorded with the candidate list (the
segment's members the bot can tell, ascending ids): the chosen members are
`bot.domain.draws.pick(seed, candidates, count)`, reproducible from the
row. Each gift carries the key `surprise:<id>:<member>`; the whole cost
comes out of the month's `[surprise] budget_points` first, so an exhausted
budget gives nothing. Nothing about a member's survey answers is read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain import errors
from bot.domain.broadcasts import Segment
from bot.domain.delivery import REMINDER
from bot.domain.draws import new_seed, pick
from bot.domain.ledger import Kind
from bot.domain.recovery import (
    SURPRISE_BUDGET,
    CountTooLarge,
    EmptySegment,
    UnknownGift,
    parse_count,
    parse_gift,
    parse_segment,
)
from bot.services.broadcasts import criteria
from bot.services.ledger import credit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import section
from bot.services.recognition import give_reward_voucher, voucher_payload
from bot.services.recovery import budget_left, spend

ACTION = "surprise"
SOURCE = "surprise"


@dataclass(frozen=True)
class SurprisePlan:
    segment: dict[str, Any]
    count: int
    available: int  # members of the segment the bot can tell
    points: int
    reward: dict[str, str] | None  # the reward's name per language
    reward_id: int | None
    cost: int  # points value in all (a reward at its catalog cost)
    budget_left: int
    budget: int
    token: str = ""


async def _reward(uow: UnitOfWork, gift: str) -> Any:
    reward = None
    if gift.startswith("#") and gift[1:].isdigit():
        reward = await uow.rewards.get(int(gift[1:]))
    if reward is None:
        reward = await uow.rewards.by_seed(gift.lower())
    if reward is None or not reward.active:
        raise UnknownGift(text=gift)
    return reward


async def _plan(ctx: Context, uow: UnitOfWork, segment_text: str, count_text: str, gift_text: str) -> SurprisePlan:
    fields = parse_segment(segment_text, [tier.name for tier in ctx.program.tiers])
    segment = Segment(**fields)  # type: ignore[arg-type]
    count = parse_count(count_text, ctx.program.surprise.max_count)
    gift = parse_gift(gift_text)
    now = ctx.now()
    candidates = await uow.surprises.candidates(**criteria(ctx, segment, now))
    if not candidates:
        raise EmptySegment(segment=segment_text)
    if count > len(candidates):
        raise CountTooLarge(count=count, available=len(candidates))
    points, reward = (gift, None) if isinstance(gift, int) else (0, await _reward(uow, gift))
    cost = count * (points if reward is None else int(reward.cost))
    rules = ctx.program.surprise
    left = await budget_left(ctx, uow, SURPRISE_BUDGET, rules.budget_points, now)
    return SurprisePlan(
        segment.to_json(), count, len(candidates), points, dict(reward.name) if reward else None,
        reward.id if reward else None, cost, left, rules.budget_points,
    )


async def preview(ctx: Context, *, owner_id: int, segment_text: str, count_text: str, gift_text: str) -> SurprisePlan:
    """What the surprise would do, and a confirm token. Raises the argument errors,
    EmptySegment, CountTooLarge, BudgetExhausted (the cost passes what is left)."""
    from bot.domain.recovery import BudgetExhausted

    async with ctx.uow() as uow:
        plan = await _plan(ctx, uow, segment_text, count_text, gift_text)
        if plan.cost > plan.budget_left:
            raise BudgetExhausted(left=plan.budget_left, needed=plan.cost, budget=plan.budget, name=SURPRISE_BUDGET)
        token = await uow.tokens.issue(
            owner_id, ACTION,
            {"segment": plan.segment, "count": plan.count, "points": plan.points, "reward_id": plan.reward_id},
            now=ctx.now(),
        )
        await uow.commit()
    return SurprisePlan(**{**plan.__dict__, "token": token})


@dataclass(frozen=True)
class SurpriseResult:
    surprise_id: int
    given: int
    points: int
    reward: dict[str, str] | None
    seed: str
    candidates: int
    budget_left: int
    already: bool = False  # a second tap: the first one's result


async def confirm(ctx: Context, *, owner_id: int, token: str) -> SurpriseResult:
    """Give the surprise once. The segment is read again now (members may have left);
    a second tap answers with what the first one did."""
    now = ctx.now()
    async with ctx.uow() as uow:
        existing = await uow.surprises.by_key(token)
        if existing is not None:
            return await _result(ctx, uow, existing, already=True)
        grant = await uow.tokens.peek(token, owner_id, ACTION)
        if grant is None or not await uow.tokens.consume(token, owner_id, ACTION, now=now):
            raise errors.StaleAction()
        data = dict(grant.payload)
        segment = Segment.from_json(data["segment"])
        count, points = int(data["count"]), int(data["points"])
        reward = await uow.rewards.get(int(data["reward_id"])) if data.get("reward_id") else None
        if data.get("reward_id") and (reward is None or not reward.active):
            raise UnknownGift(text=str(data.get("reward_id")))
        candidates = await uow.surprises.candidates(**criteria(ctx, segment, now))
        if not candidates:
            raise EmptySegment(segment=segment.kind)
        if count > len(candidates):
            raise CountTooLarge(count=count, available=len(candidates))
        rules = ctx.program.surprise
        await spend(ctx, uow, SURPRISE_BUDGET, rules.budget_points, count * (points or (int(reward.cost) if reward is not None else 0)), now)
        seed = new_seed()
        chosen = pick(seed, candidates, count)
        surprise = await uow.surprises.create(
            key=token, created_by=owner_id, segment=segment.to_json(), count=count, points=points,
            reward_id=reward.id if reward else None, seed=seed, candidates=candidates, chosen=chosen, created_at=now,
        )
        if surprise is None:  # pragma: no cover - the token was consumed just above
            raise errors.StaleAction()
        for member_id in chosen:
            await _give(ctx, uow, surprise, member_id, points, reward, now)
        uow.audit.record(
            actor_id=owner_id, action="surprise", now=now, surprise=surprise.id, segment=segment.to_json(),
            count=count, points=points, reward=reward.id if reward else None, seed=seed,
        )
        result = await _result(ctx, uow, surprise)
        await uow.commit()
    return result


async def _give(ctx: Context, uow: UnitOfWork, surprise: Any, member_id: int, points: int, reward: Any, now: Any) -> None:
    member = await uow.members.by_id(member_id)
    key = f"surprise:{surprise.id}:{member_id}"
    voucher = None
    if reward is not None:
        voucher = await give_reward_voucher(ctx, uow, member, reward, source=SOURCE, now=now)
    elif not await credit(ctx, uow, member, points, Kind.SURPRISE, key=key, now=now):
        return
    await uow.surprises.add_gift(
        surprise_id=surprise.id, member_id=member_id, points=points, voucher_id=voucher.id if voucher else None,
        created_at=now,
    )
    await uow.members.refresh(member)
    payload: dict[str, Any] = {"points": points, "balance": member.balance, "first_name": member.first_name}
    if voucher is not None:
        payload.update(voucher_payload(voucher, reward))
    await uow.outbox.enqueue(
        key=key, chat_id=member.telegram_id, member_id=member.id, kind="surprise_gift", payload=payload, now=now,
        category=REMINDER,  # a gift, not an offer: no consent needed, but never at night
    )


async def _result(ctx: Context, uow: UnitOfWork, surprise: Any, *, already: bool = False) -> SurpriseResult:
    reward = await uow.rewards.get(surprise.reward_id) if surprise.reward_id else None
    left = await budget_left(ctx, uow, SURPRISE_BUDGET, ctx.program.surprise.budget_points, ctx.now())
    return SurpriseResult(
        surprise.id, len(surprise.chosen), surprise.points, dict(reward.name) if reward else None, surprise.seed,
        len(surprise.candidates), left, already,
    )


@section
async def _surprises_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    gifts = await uow.surprises.gifts_for(member.id)
    return "surprises", [
        {"created_at": at.isoformat(), "points": points, "voucher": code} for at, points, code in gifts
    ]
