"""Broadcasts (SPEC §4 `/broadcast`): audience, creation, release into the
outbox, and the owner's delivery report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain import errors
from bot.domain.broadcasts import Segment, paid_broadcast_star_tenths
from bot.domain.calendars import celebrations_between, month_bounds
from bot.domain.delivery import MARKETING, SERVICE, DeliveryStatus
from bot.services.ports import Context

REPORT_FIELDS = (
    DeliveryStatus.SENT, DeliveryStatus.BLOCKED, DeliveryStatus.OPTED_OUT, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN,
)
TOKEN_ACTION = "broadcast"


def batch_of(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def criteria(ctx: Context, segment: Segment, now: datetime) -> dict[str, Any]:
    """The segment in the terms of `uow.audiences`, evaluated at `now`."""
    if segment.kind == "language":
        return {"language": segment.language}
    if segment.kind == "tier":
        return {"tier": segment.tier}
    if segment.kind == "inactive":
        return {"inactive_before": now - timedelta(days=segment.days or 0)}
    if segment.kind == "never":
        return {"never_purchased": True}
    if segment.kind == "birthdays":
        first, last = month_bounds(now.astimezone(ctx.zone).date(), segment.calendar or "g")
        return {"birthdays": celebrations_between(first, last)}
    return {}


@dataclass(frozen=True)
class Audience:
    total: int  # members in the segment
    reachable: int  # of them, opted in and not blocking the bot: who will get it
    opted_out: int
    blocked: int
    by_language: dict[str, int]  # reachable members per language


async def audience(ctx: Context, segment: Segment) -> Audience:
    async with ctx.uow(readonly=True) as uow:
        counts = await uow.audiences.segment_counts(**criteria(ctx, segment, ctx.now()))
    return Audience(counts["total"], counts["reachable"], counts["opted_out"], counts["blocked"], counts["by_language"])


async def early_split(ctx: Context, segment: Segment, tier: int) -> tuple[int, int]:
    """"Top tiers first": (members of `tier` and above who get it at once, the rest who get it later)."""
    async with ctx.uow(readonly=True) as uow:
        found = criteria(ctx, segment, ctx.now())
        everyone = await uow.audiences.segment_counts(**found)
        top = await uow.audiences.segment_counts(**found, min_tier=tier)
    return top["reachable"], everyone["reachable"] - top["reachable"]


async def issue_confirmation(ctx: Context, owner_id: int) -> str:
    """A one-time token for the owner's "send" button: a double tap sends once."""
    async with ctx.uow() as uow:
        token: str = await uow.tokens.issue(owner_id, TOKEN_ACTION, {}, now=ctx.now())
        await uow.commit()
    return token


@dataclass(frozen=True)
class Created:
    broadcast: Any
    created: bool  # False: this button was pressed before; `broadcast` is the first one
    released: int  # messages on their way now (0 when scheduled)


async def create_broadcast(
    ctx: Context,
    *,
    owner_id: int,
    owner_lang: str,
    segment: Segment,
    texts: dict[str, str],
    send_at: datetime | None,
    token: str,
    early: tuple[int, int] | None = None,
    photo: str | None = None,
) -> Created:
    """Store the broadcast; with no `send_at` release it into the outbox at once.

    `photo` is a Telegram file_id: every member gets that photo with their text as its caption.

    `texts` is `{"*": text}` for one text for all, or `{lang: text}`. `early`
    is (tier, hours) for "top tiers first": members below that tier get it
    that many hours after the others. Raises StaleAction when the token is
    unknown or someone else's.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        if not await uow.tokens.consume(token, owner_id, TOKEN_ACTION, now=now):
            existing = await uow.broadcasts.by_key(token)
            if existing is None:
                raise errors.StaleAction()
            return Created(existing, False, 0)
        broadcast = await uow.broadcasts.add(
            key=token,
            created_by=owner_id,
            owner_lang=owner_lang,
            segment=segment.to_json(),
            texts=texts,
            status="scheduled",
            send_at=send_at or now,
            created_at=now,
            early_tier=early[0] if early else None,
            early_hours=early[1] if early else None,
            photo=photo,
        )
        if broadcast is None:
            raise errors.StaleAction()
        uow.audit.record(
            actor_id=owner_id, action="broadcast", member_id=None, now=now,
            broadcast=broadcast.id, segment=segment.to_json(), send_at=(send_at or now).isoformat(),
        )
        released = 0
        if send_at is None or send_at <= now:
            released = await _release(ctx, uow, broadcast, now)
        broadcast = await uow.broadcasts.by_id(broadcast.id)
        await uow.commit()
        return Created(broadcast, True, released)


async def _release(ctx: Context, uow: Any, broadcast: Any, now: datetime) -> int:
    """One outbox row per member of the segment, now. Members who did not
    agree to offers or blocked the bot get their row already closed, so the
    report counts them without a call to Telegram. Returns the rows to send."""
    if not await uow.broadcasts.start(broadcast.id, now=now):
        return 0  # another replica released it
    segment = Segment.from_json(broadcast.segment)
    members = await uow.audiences.segment_members(**criteria(ctx, segment, now))
    batch = batch_of(broadcast.id)
    later = now + timedelta(hours=broadcast.early_hours) if broadcast.early_tier and broadcast.early_hours else None
    rows = [
        {
            "key": f"broadcast:{broadcast.id}:{m.id}",
            "chat_id": m.telegram_id,
            "member_id": m.id,
            "kind": "broadcast",
            "payload": {"broadcast": broadcast.id},
            "category": MARKETING,
            "batch": batch,
            "status": _opening_status(m),
            # Top tiers first: everyone below the broadcast's tier waits `early_hours`.
            "not_before": later if later is not None and m.tier < broadcast.early_tier else now,
        }
        for m in members
    ]
    await uow.outbox.enqueue_many(rows, now=now)
    await uow.broadcasts.set_audience(broadcast.id, len(rows))
    return sum(1 for row in rows if row["status"] is DeliveryStatus.PENDING)


def _opening_status(member: Any) -> DeliveryStatus:
    """Rows that cannot go are closed as they are written, so the report counts them without a call."""
    if member.blocked_at is not None:
        return DeliveryStatus.BLOCKED
    return DeliveryStatus.PENDING if member.marketing_opt_in else DeliveryStatus.OPTED_OUT


async def release_due(ctx: Context) -> int:
    """Release scheduled broadcasts whose time has come (run by the outbox sender)."""
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        if not await uow.broadcasts.due(now=now, limit=1):
            return 0
    released = 0
    async with ctx.uow() as uow:
        for broadcast in await uow.broadcasts.due(now=now):
            released += await _release(ctx, uow, broadcast, now)
        await uow.commit()
    return released


async def report_finished(ctx: Context) -> int:
    """Close broadcasts with nothing left to send and queue the owner's report
    (sent, blocked, opted out, failed, unknown)."""
    async with ctx.uow(readonly=True) as uow:
        if not await uow.broadcasts.sending():
            return 0
    now = ctx.now()
    reported = 0
    async with ctx.uow() as uow:
        for broadcast in await uow.broadcasts.sending():
            batch = batch_of(broadcast.id)
            if await uow.outbox.batch_is_open(batch):
                continue
            counts = await uow.outbox.count_by_status(batch)
            report: dict[str, Any] = {status.value: counts.get(status, 0) for status in REPORT_FIELDS}
            if ctx.paid_broadcast:
                first, last = await uow.outbox.sent_span(batch)
                seconds = (last - first).total_seconds() if first is not None and last is not None else 0.0
                report["star_tenths"] = paid_broadcast_star_tenths(report[DeliveryStatus.SENT.value], seconds)
            if not await uow.broadcasts.finish(broadcast.id, now=now, report=report):
                continue
            owner = await uow.members.by_telegram_id(broadcast.created_by)
            await uow.outbox.enqueue(
                key=f"broadcast-report:{broadcast.id}",
                chat_id=broadcast.created_by,
                member_id=owner.id if owner is not None else None,
                kind="broadcast_report",
                category=SERVICE,
                payload={"broadcast": broadcast.id, "lang": broadcast.owner_lang, "audience": broadcast.audience,
                         **report},
                now=now,
            )
            reported += 1
        await uow.commit()
    return reported


async def cancel_broadcast(ctx: Context, *, actor_id: int, broadcast_id: int) -> str:
    """Cancel a scheduled broadcast; returns its status afterwards
    (`cancelled`, or `sending` / `done` when it is too late, `missing`)."""
    now = ctx.now()
    async with ctx.uow() as uow:
        broadcast = await uow.broadcasts.by_id(broadcast_id)
        if broadcast is None:
            return "missing"
        if await uow.broadcasts.cancel(broadcast_id, now=now):
            uow.audit.record(actor_id=actor_id, action="broadcast_cancel", member_id=None, now=now,
                             broadcast=broadcast_id)
            await uow.commit()
            return "cancelled"
        broadcast = await uow.broadcasts.by_id(broadcast_id)
        return str(broadcast.status)
