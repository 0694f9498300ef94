"""`/earn` (SPEC §3, §11): every way to earn and what is left of it this period."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain import errors
from bot.domain.program import Milestone
from bot.services.actions import ActionState, action_states
from bot.services.ports import Context
from bot.services.recognition import MILESTONE
from bot.services.stamps import CardState, card_state


@dataclass(frozen=True)
class EarnView:
    member: Any
    multiplier: Decimal  # purchase points multiplier now: tier × running campaign
    card: CardState | None
    actions: list[ActionState]
    purchases: int
    next_milestone: Milestone | None  # the nearest purchase milestone not yet reached
    anniversaries: list[Milestone] = field(default_factory=list)  # anniversary milestones still to come


async def ways_to_earn(ctx: Context, member: Any) -> EarnView:
    if member is None:
        raise errors.NotAMember()
    now = ctx.now()
    program = ctx.program
    async with ctx.uow(readonly=True) as uow:
        fresh = await uow.members.by_id(member.id)
        campaign = await uow.campaigns.active(now)
        card = await card_state(ctx, uow, fresh)
        actions = await action_states(ctx, uow, fresh)
        purchases = await uow.grants.purchases(fresh.id) if program.milestones else 0
        given = await uow.grants.given(fresh.id, MILESTONE) if program.milestones else {}
    tier = program.tiers[min(fresh.tier, len(program.tiers) - 1)]
    multiplier = tier.multiplier * (campaign.multiplier if campaign is not None else 1)
    upcoming = sorted(
        (m for m in program.milestones if m.purchases is not None and m.key not in given and m.purchases > purchases),
        key=lambda m: m.purchases or 0,
    )
    anniversaries = sorted(
        (m for m in program.milestones if m.anniversary_years is not None and m.key not in given),
        key=lambda m: m.anniversary_years or 0,
    )
    return EarnView(fresh, Decimal(multiplier), card, actions, purchases, upcoming[0] if upcoming else None,
                    anniversaries)
