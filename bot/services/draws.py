"""Prize draws (SPEC §11): `/draw` opens one, purchases enter it, the `draws` job closes it.

- **Opening.** The owner's confirm tap (which is also their statement that
  local rules allow the draw) creates the row with a fresh secret seed and
  its SHA-256 commitment. When the window starts, members who agreed to
  offers are told, with the commitment.
- **Entries.** Every purchase credited inside an open draw's window enters
  it in the purchase's own transaction (`enter_purchase`, called by
  `services.ledger.credit`): one row per ledger entry, unique per draw, so
  a replayed purchase enters once. At the close the ledger is read again
  for the window and anything missing is added the same way.
- **Closing.** Tickets are numbered from 1 in ascending ledger entry id
  (each row gives its tickets in a run); winners are
  `bot.domain.draws.select_winners(seed, holders, winners)`. The draw is
  closed by one guarded UPDATE, so two job runs close it once. Each winner
  gets their prize as a voucher (given even to a member who blocked the
  bot: it waits in their account; the owner's report says who could not be
  told), entrants get the result with the seed, the owner a report.
- **Checking.** `verify` recomputes the commitment and the winners from the
  stored seed and entries (`wafa draw verify ID`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.domain import errors
from bot.domain.delivery import MARKETING, REMINDER, SERVICE, DeliveryStatus
from bot.domain.draws import (
    MAX_PRIZES,
    PER_AMOUNT,
    PER_PURCHASE,
    DrawNotFound,
    Ticketed,
    commitment,
    entries_for,
    new_seed,
    select_winners,
    ticket_owners,
)
from bot.domain.recovery import UnknownGift
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import eraser, section
from bot.services.recognition import give_reward_voucher, voucher_payload
from bot.services.recovery import job_moment

ACTION = "draw"
SOURCE = "draw"


@dataclass(frozen=True)
class DrawPlan:
    names: dict[str, str]
    opens_at: datetime
    closes_at: datetime
    rule: str
    unit: Decimal | None
    prizes: list[int]  # reward ids
    prize_names: list[dict[str, str]]
    winners: int


async def resolve_prizes(ctx: Context, text: str) -> tuple[list[int], list[dict[str, str]]]:
    """Prizes as typed: catalog rewards by program id (or `#N`), separated by spaces or commas."""
    words = [w for w in text.replace(",", " ").split() if w]
    if not words or len(words) > MAX_PRIZES:
        raise UnknownGift(text=text)
    ids, names = [], []
    async with ctx.uow(readonly=True) as uow:
        for word in words:
            reward = None
            if word.startswith("#") and word[1:].isdigit():
                reward = await uow.rewards.get(int(word[1:]))
            if reward is None:
                reward = await uow.rewards.by_seed(word.lower())
            if reward is None or not reward.active:
                raise UnknownGift(text=word)
            ids.append(reward.id)
            names.append(dict(reward.name))
    return ids, names


async def issue_confirmation(ctx: Context, owner_id: int) -> str:
    async with ctx.uow() as uow:
        token: str = await uow.tokens.issue(owner_id, ACTION, {}, now=ctx.now())
        await uow.commit()
    return token


@dataclass(frozen=True)
class Opened:
    draw_id: int
    commitment: str
    announced: int  # members told now (0 when the window starts later)
    already: bool = False


async def open_draw(ctx: Context, *, owner_id: int, owner_lang: str, token: str, plan: DrawPlan) -> Opened:
    """The owner's confirm tap: create the draw (once per token), announce it if its window started."""
    now = ctx.now()
    async with ctx.uow() as uow:
        existing = await uow.draws.by_key(token)
        if existing is not None:
            return Opened(existing.id, existing.commitment, 0, already=True)
        if not await uow.tokens.consume(token, owner_id, ACTION, now=now):
            raise errors.StaleAction()
        seed = new_seed()
        draw = await uow.draws.create(
            key=token, name=plan.names, opens_at=plan.opens_at, closes_at=plan.closes_at, rule=plan.rule,
            unit=plan.unit, prizes=plan.prizes, winners=plan.winners, seed=seed, commitment=commitment(seed),
            status="open", created_by=owner_id, owner_lang=owner_lang, rules_confirmed_at=now, created_at=now,
        )
        if draw is None:  # pragma: no cover - the token was consumed just above
            raise errors.StaleAction()
        uow.audit.record(
            actor_id=owner_id, action="draw_open", now=now, draw=draw.id, commitment=draw.commitment,
            opens_at=plan.opens_at.isoformat(), closes_at=plan.closes_at.isoformat(), rule=plan.rule,
            unit=str(plan.unit) if plan.unit is not None else None, prizes=plan.prizes, winners=plan.winners,
            local_rules_confirmed=True,
        )
        announced = await _announce(uow, draw, now) if draw.opens_at <= now else 0
        await uow.commit()
    return Opened(draw.id, draw.commitment, announced)


async def _announce(uow: UnitOfWork, draw: Any, now: datetime) -> int:
    if not await uow.draws.mark_announced(draw.id, now=now):
        return 0
    members = await uow.audiences.segment_members()
    rows = [
        {
            "key": f"draw:{draw.id}:open:{m.id}", "chat_id": m.telegram_id, "member_id": m.id,
            "kind": "draw_opened", "payload": {"draw": draw.id}, "category": MARKETING,
            "batch": f"draw:{draw.id}",
            "status": DeliveryStatus.PENDING if (m.marketing_opt_in and m.blocked_at is None)
            else DeliveryStatus.OPTED_OUT if m.blocked_at is None else DeliveryStatus.BLOCKED,
        }
        for m in members
    ]
    await uow.outbox.enqueue_many(rows, now=now)
    return sum(1 for row in rows if row["status"] is DeliveryStatus.PENDING)


def draw_facts(draw: Any) -> dict[str, Any]:
    """What notices about a draw show (loaded at send time)."""
    return {
        "draw": draw.id, "name": dict(draw.name), "closes_at": draw.closes_at.isoformat(),
        "opens_at": draw.opens_at.isoformat(), "rule": draw.rule,
        "unit": str(draw.unit) if draw.unit is not None else None, "winners": draw.winners,
        "commitment": draw.commitment, "status": draw.status,
    }


async def notice_facts(uow: UnitOfWork, draw_id: int) -> dict[str, Any]:
    draw = await uow.draws.by_id(draw_id)
    if draw is None:
        raise DrawNotFound(draw=draw_id)
    facts = draw_facts(draw)
    rewards = await uow.draws.rewards(list(draw.prizes))
    facts["prizes"] = [dict(rewards[r].name) for r in draw.prizes if r in rewards]
    return facts


# -- entries ------------------------------------------------------------------------------


async def enter_purchase(
    uow: UnitOfWork, member: Any, *, entry_id: int | None, amount: Decimal | None, now: datetime
) -> int:
    """Enter a purchase just credited into every open draw whose window holds it; tickets added."""
    if entry_id is None or member.forgotten_at is not None:
        return 0
    added = 0
    for draw in await uow.draws.open_at(now):
        tickets = entries_for(draw.rule, draw.unit, amount)
        if tickets and await uow.draws.enter(
            draw_id=draw.id, ledger_entry_id=entry_id, member_id=member.id, tickets=tickets, now=now
        ):
            added += tickets
    return added


async def _sync_entries(uow: UnitOfWork, draw: Any, now: datetime) -> None:
    for entry_id, member_id, amount in await uow.draws.purchases_between(draw.opens_at, draw.closes_at):
        tickets = entries_for(draw.rule, draw.unit, amount)
        if tickets:
            await uow.draws.enter(draw_id=draw.id, ledger_entry_id=entry_id, member_id=member_id, tickets=tickets,
                                  now=now)


@dataclass(frozen=True)
class MemberDraw:
    draw_id: int
    name: dict[str, str]
    closes_at: datetime
    rule: str
    unit: Decimal | None
    tickets: int
    total_tickets: int
    commitment: str


async def member_draws(ctx: Context, member: Any) -> list[MemberDraw]:
    """`/draws`: open draws, with the member's entries."""
    if member is None:
        raise errors.NotAMember()
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        mine = await uow.draws.member_tickets(member.id)
        result = []
        for draw in await uow.draws.all_open():
            if draw.opens_at > now:
                continue
            result.append(MemberDraw(
                draw.id, dict(draw.name), draw.closes_at, draw.rule, draw.unit, mine.get(draw.id, 0),
                await uow.draws.ticket_total(draw.id), draw.commitment,
            ))
    return result


# -- the `draws` job ------------------------------------------------------------------------


@dataclass
class CloseReport:
    announced: int = 0
    closed: list[int] = field(default_factory=list)
    winners: int = 0

    def __str__(self) -> str:
        return (f"{len(self.closed)} draw(s) closed, {self.winners} winner(s) drawn, "
                f"{self.announced} opening message(s) queued")


async def run_draws(ctx: Context, day: date | None = None) -> CloseReport:
    """Announce draws whose window started; close those whose window ended (as of `day`'s end)."""
    moment = job_moment(ctx, day)
    now = ctx.now()
    report = CloseReport()
    async with ctx.uow() as uow:
        for draw in await uow.draws.to_announce(moment):
            report.announced += await _announce(uow, draw, now)
        await uow.commit()
    async with ctx.uow() as uow:
        due = [d.id for d in await uow.draws.to_close(moment)]
    for draw_id in due:
        winners = await close_draw(ctx, draw_id)
        if winners is not None:
            report.closed.append(draw_id)
            report.winners += winners
    return report


async def close_draw(ctx: Context, draw_id: int) -> int | None:
    """Close one draw: entries from the ledger, winners from the seed, prizes, messages.
    None when another run closed it first."""
    now = ctx.now()
    async with ctx.uow() as uow:
        draw = await uow.draws.by_id(draw_id)
        if draw is None or draw.status != "open":
            return None
        await _sync_entries(uow, draw, now)
        rows = await uow.draws.entries(draw.id)
        holders = ticket_owners([Ticketed(member_id, tickets) for _, member_id, _, tickets in rows])
        tickets = select_winners(draw.seed, holders, draw.winners)
        if not await uow.draws.close(draw.id, now=now, tickets=len(holders), result=tickets):
            return None
        rewards = await uow.draws.rewards(list(draw.prizes))
        facts = {**draw_facts(draw), "status": "closed", "seed": draw.seed, "tickets": len(holders),
                 "prizes": [dict(rewards[r].name) for r in draw.prizes if r in rewards]}
        winners_report = []
        for rank, ticket in enumerate(tickets, 1):
            member = await uow.members.by_id(holders[ticket - 1])
            reward = rewards[draw.prizes[min(rank, len(draw.prizes)) - 1]]
            voucher = await give_reward_voucher(ctx, uow, member, reward, source=SOURCE, now=now)
            told = member.telegram_id is not None and member.blocked_at is None and member.forgotten_at is None
            await uow.draws.add_winner(draw_id=draw.id, rank=rank, member_id=member.id, ticket=ticket,
                                       reward_id=reward.id, voucher_id=voucher.id, told=told)
            if member.telegram_id is not None and member.forgotten_at is None:
                await uow.outbox.enqueue(
                    key=f"draw:{draw.id}:won:{member.id}", chat_id=member.telegram_id, member_id=member.id,
                    kind="draw_won", payload={**facts, **voucher_payload(voucher, reward), "ticket": ticket},
                    now=now, category=SERVICE,
                )
            winners_report.append({"rank": rank, "code": member.code, "name": member.first_name or "",
                                   "ticket": ticket, "voucher": voucher.code, "told": told,
                                   "prize": dict(reward.name)})
        winner_ids = {holders[t - 1] for t in tickets}
        entrants = {member_id: code for _, member_id, code, _ in rows}
        mine: dict[int, int] = {}
        for _, member_id, _, count in rows:
            mine[member_id] = mine.get(member_id, 0) + count
        others = [m for m in entrants if m not in winner_ids]
        for member_id in others:
            member = await uow.members.by_id(member_id)
            if member.telegram_id is None:
                continue
            await uow.outbox.enqueue(
                key=f"draw:{draw.id}:result:{member_id}", chat_id=member.telegram_id, member_id=member_id,
                kind="draw_result", payload={**facts, "mine": mine[member_id]}, now=now, category=REMINDER,
            )
        await uow.outbox.enqueue(
            key=f"draw:{draw.id}:report", chat_id=draw.created_by, member_id=None, kind="draw_report",
            payload={**facts, "lang": draw.owner_lang, "entrants": len(entrants), "winners_drawn": winners_report},
            now=now, category=SERVICE,
        )
        uow.audit.record(actor_id=0, action="draw_close", now=now, draw=draw.id, seed=draw.seed,
                         tickets=len(holders), result=tickets, entrants=len(entrants))
        await uow.commit()
    return len(tickets)


# -- `wafa draw verify ID` -------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    draw_id: int
    status: str
    commitment_ok: bool
    winners_ok: bool
    tickets: int
    expected: list[int]
    recorded: list[int]
    seed: str | None  # only once closed
    commitment: str

    @property
    def ok(self) -> bool:
        return self.status == "closed" and self.commitment_ok and self.winners_ok


async def verify(ctx: Context, draw_id: int) -> Verification:
    async with ctx.uow(readonly=True) as uow:
        draw = await uow.draws.by_id(draw_id)
        if draw is None:
            raise DrawNotFound(draw=draw_id)
        rows = await uow.draws.entries(draw.id)
        recorded_winners = [(w.rank, w.ticket, w.member_id) for w, *_ in await uow.draws.winners(draw.id)]
    holders = ticket_owners([Ticketed(member_id, tickets) for _, member_id, _, tickets in rows])
    if draw.status != "closed":
        return Verification(draw.id, draw.status, True, False, len(holders), [], [], None, draw.commitment)
    expected = select_winners(draw.seed, holders, draw.winners)
    recorded = list(draw.result or [])
    winners_ok = (
        expected == recorded and len(holders) == draw.tickets
        and [(r, t, holders[t - 1]) for r, t in enumerate(expected, 1)] == recorded_winners
    )
    return Verification(
        draw.id, draw.status, commitment(draw.seed) == draw.commitment, winners_ok, len(holders), expected, recorded,
        draw.seed, draw.commitment,
    )


async def published(ctx: Context, draw_id: int) -> dict[str, Any]:
    """What anyone may check a closed draw with: the seed, commitment and ordered entries
    (member codes and ticket counts), and the winning tickets."""
    async with ctx.uow(readonly=True) as uow:
        draw = await uow.draws.by_id(draw_id)
        if draw is None:
            raise DrawNotFound(draw=draw_id)
        rows = await uow.draws.entries(draw.id)
    return {
        "draw": draw.id, "status": draw.status, "commitment": draw.commitment, "winners": draw.winners,
        "seed": draw.seed if draw.status == "closed" else None,
        "entries": [{"purchase": entry_id, "member": code, "tickets": n} for entry_id, _, code, n in rows],
        "result": list(draw.result or []),
    }


# -- /mydata and /forget ----------------------------------------------------------------------


@section
async def _draws_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    tickets = await uow.draws.member_tickets(member.id)
    wins = await uow.draws.wins_for(member.id)
    return "prize_draws", {
        "entries": [{"draw": d, "tickets": n} for d, n in sorted(tickets.items())],
        "wins": [{"draw": d, "rank": r, "ticket": t, "voucher": code} for d, r, t, code in wins],
    }


@eraser
async def _leave_open_draws(uow: UnitOfWork, member: Any, now: datetime) -> None:
    await uow.draws.leave_open_draws(member.id)


__all__ = ["PER_AMOUNT", "PER_PURCHASE"]
