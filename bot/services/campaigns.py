"""Campaigns (SPEC §4 `/campaign`): a time-limited multiplier on purchase points.

A new campaign replaces the running one. Members who accept offers are told
through the outbox (category "marketing", so `/notifications off` and quiet
hours apply); `/award` multiplies by the running campaign, `/balance` shows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.campaigns import NoCampaign, parse_duration, parse_multiplier
from bot.domain.delivery import MARKETING
from bot.services.ports import Context

AUDIENCE_BATCH = 1000


@dataclass(frozen=True)
class CampaignStart:
    campaign: Any
    duplicate: bool  # this /campaign message started it before (a redelivered update)
    replaced: int  # campaigns it ended
    announced: int  # members queued to be told


async def start_campaign(
    ctx: Context, *, actor_id: int, multiplier_text: str, duration_text: str, key: str
) -> CampaignStart:
    settings = ctx.program.campaigns
    multiplier = parse_multiplier(multiplier_text, settings.max_multiplier)
    duration = parse_duration(duration_text, settings.max_days)
    now = ctx.now()
    async with ctx.uow() as uow:
        campaign = await uow.campaigns.start(
            key=key, multiplier=multiplier, starts_at=now, ends_at=now + duration, actor_id=actor_id
        )
        if campaign is None:
            return CampaignStart(await uow.campaigns.by_key(key), True, 0, 0)
        replaced = await uow.campaigns.end_running(now, actor_id=actor_id, except_id=campaign.id)
        announced, after = 0, 0
        while True:
            audience = await uow.campaigns.audience(after_member=after, limit=AUDIENCE_BATCH)
            if not audience:
                break
            for member_id, chat_id in audience:
                after = member_id
                announced += await uow.outbox.enqueue(
                    key=f"campaign:{campaign.id}:{member_id}",
                    chat_id=chat_id,
                    member_id=member_id,
                    kind="campaign_started",
                    payload={"multiplier": str(multiplier), "ends_at": campaign.ends_at.isoformat()},
                    category=MARKETING,
                    batch=f"campaign:{campaign.id}",
                    now=now,
                )
        uow.audit.record(
            actor_id=actor_id, action="campaign_start", now=now, campaign_id=campaign.id,
            multiplier=str(multiplier), ends_at=campaign.ends_at.isoformat(), key=key,
        )
        await uow.commit()
        return CampaignStart(campaign, False, replaced, announced)


async def end_campaign(ctx: Context, *, actor_id: int) -> int:
    """`/campaign off`: end the running campaign; NoCampaign when none runs."""
    now = ctx.now()
    async with ctx.uow() as uow:
        ended: int = await uow.campaigns.end_running(now, actor_id=actor_id)
        if not ended:
            raise NoCampaign()
        uow.audit.record(actor_id=actor_id, action="campaign_end", now=now, ended=ended)
        await uow.commit()
        return ended


async def running_campaign(ctx: Context) -> Any | None:
    async with ctx.uow(readonly=True) as uow:
        return await uow.campaigns.active(ctx.now())
