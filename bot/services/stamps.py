"""Stamp cards (SPEC §11): `/stamp <member> [n]` at the counter, the API's
purchase with `"stamps": n`, the card on `/balance`, and stamps that lapse.

Every change is an entry of the stamp ledger under an idempotency key
(`members.stamps` is their sum, moved in the same statement sequence), so a
redelivered `/stamp` or a retried API call stamps nothing twice. The daily
cap is counted after the count's UPDATE, which holds the member's row: two
cashiers stamping the same member at once cannot both pass it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.actions import day_bounds
from bot.domain.delivery import REMINDER
from bot.domain.program import Stamps
from bot.domain.rewards import day_start
from bot.domain.stamps import (
    NoStampCard,
    StampCapReached,
    StampKind,
    lapsed,
    parse_stamp_count,
)
from bot.services.members import find_member, refuse_self_service
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import row, section
from bot.services.recognition import give_voucher, voucher_payload

STAMPS_SOURCE = "stamps"
BATCH = 500


def stamp_card(ctx: Context) -> Stamps:
    """The program's stamp card; NoStampCard when it has none."""
    if ctx.program.stamps is None:
        raise NoStampCard()
    return ctx.program.stamps


@dataclass(frozen=True)
class StampResult:
    member: Any
    added: int
    on_card: int  # stamps on the current card afterwards
    every: int
    vouchers: list[Any] = field(default_factory=list)  # full cards of this stamping, as vouchers
    given_today: int = 0
    cap: int = 0
    duplicate: bool = False  # this key stamped before: nothing changed

    @property
    def left_today(self) -> int:
        return max(0, self.cap - self.given_today)


async def stamp(ctx: Context, *, actor_id: int, member_text: str, count_text: str | None, key: str) -> StampResult:
    """`/stamp <member> [n]` (staff): add n stamps (default 1), exactly once per `key`.

    Refused with nothing changed: a program without stamp cards, n that is
    not a whole number from 1 to the daily cap, a member the cashier cannot
    name, a member already at the day's cap (StampCapReached).
    """
    spec = stamp_card(ctx)
    count = parse_stamp_count(count_text, spec.max_per_day)
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await find_member(uow, member_text)
        own = refuse_self_service(ctx, member, actor_id, "stamp")
        result = await post_stamps(ctx, uow, member, count, key=key, now=now, actor_id=actor_id)
        if not result.duplicate:
            uow.audit.record(
                actor_id=actor_id, action="stamp", member_id=member.id, now=now, stamps=count, key=key,
                cards=len(result.vouchers), **({"own_account": True} if own else {}),
            )
            await uow.commit()
        return result


async def stamps_left_today(ctx: Context, uow: UnitOfWork, member: Any, now: datetime) -> int:
    """How many stamps the member may still get today (merchant day)."""
    spec = stamp_card(ctx)
    start, end = day_bounds(now, ctx.zone)
    given: int = await uow.stamps.given_since(member.id, start, end)
    return max(0, spec.max_per_day - given)


async def post_stamps(
    ctx: Context, uow: UnitOfWork, member: Any, count: int, *, key: str, now: datetime, actor_id: int | None = None,
    notify: bool = True,
) -> StampResult:
    """Add `count` stamps to `member` in the caller's transaction, once per `key`;
    every full card becomes a voucher for the card's reward (no points spent)
    and the member is told. The HTTP API's purchase with `"stamps": n` calls
    this inside its own transaction.

    Raises StampCapReached when the member would pass the day's cap; the
    caller must then not commit (raising makes sure of that).
    """
    spec = stamp_card(ctx)
    if count < 1:
        raise ValueError("stamps are added one or more at a time")
    entry_id = await uow.stamps.post(
        member_id=member.id, delta=count, kind=StampKind.STAMP, key=key, now=now, actor_id=actor_id
    )
    start, end = day_bounds(now, ctx.zone)
    if entry_id is None:
        return await _replay(ctx, uow, member, spec, key, start, end)
    given_today = await uow.stamps.given_since(member.id, start, end)
    if given_today > spec.max_per_day:
        before = given_today - count
        raise StampCapReached(cap=spec.max_per_day, given=before, left=max(0, spec.max_per_day - before))
    on_card = await uow.stamps.on_card(member.id)
    vouchers: list[Any] = []
    while on_card >= spec.every:
        voucher = await give_voucher(ctx, uow, member, spec.reward, source=STAMPS_SOURCE, now=now)
        await uow.stamps.post(
            member_id=member.id, delta=-spec.every, kind=StampKind.CARD, key=f"{key}:card{len(vouchers) + 1}",
            now=now, actor_id=actor_id, voucher_id=voucher.id,
        )
        vouchers.append(voucher)
        on_card -= spec.every
    await uow.members.refresh(member)
    if notify and member.telegram_id is not None:
        reward = await uow.rewards.by_seed(spec.reward)
        await uow.outbox.enqueue(
            key=f"stamps:{key}",
            chat_id=member.telegram_id,
            member_id=member.id,
            kind="stamps_added",
            payload={
                "added": count, "on_card": on_card, "every": spec.every,
                "cards": len(vouchers), "reward_name": dict(reward.name) if reward is not None else {},
            },
            now=now,
        )
        for voucher in vouchers:
            await uow.outbox.enqueue(
                key=f"voucher-given:{voucher.id}",
                chat_id=member.telegram_id,
                member_id=member.id,
                kind="voucher_given",
                payload={"reason": STAMPS_SOURCE, "every": spec.every, **voucher_payload(voucher, reward)},
                now=now,
            )
    return StampResult(member, count, on_card, spec.every, vouchers, given_today, spec.max_per_day)


async def _replay(
    ctx: Context, uow: UnitOfWork, member: Any, spec: Stamps, key: str, start: datetime, end: datetime
) -> StampResult:
    """What an earlier stamping under `key` did, told again without changing anything."""
    entry = await uow.stamps.by_key(key)
    cards = await uow.stamps.by_key_prefix(f"{key}:card")
    vouchers = [await uow.vouchers.by_id(c.voucher_id) for c in cards if c.voucher_id is not None]
    await uow.members.refresh(member)
    return StampResult(
        member, int(entry.delta) if entry is not None else 0, member.stamps, spec.every, vouchers,
        await uow.stamps.given_since(member.id, start, end), spec.max_per_day, duplicate=True,
    )


# -- the card ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    on_card: int
    every: int
    reward: Any | None  # the catalog row of the card's reward
    lapses_on: datetime | None  # when the oldest stamp on the card lapses (expiry on)
    left_today: int


async def card_state(ctx: Context, uow: UnitOfWork, member: Any) -> CardState | None:
    """The member's stamp card, for /balance and /earn (None: the program has none).

    `member` is as loaded for this update; its cached count is the card. Three
    indexed lookups at most, so the card costs the same with any ledger size.
    """
    spec = ctx.program.stamps
    if spec is None:
        return None
    now = ctx.now()
    on_card = int(member.stamps)
    lapses_on = None
    if spec.expiry_days and on_card:
        oldest = await uow.stamps.oldest_on_card(member.id, on_card)
        if oldest is not None:
            given_day = oldest.astimezone(ctx.zone).date()
            lapses_on = day_start(given_day + timedelta(days=spec.expiry_days), ctx.zone)
    start, end = day_bounds(now, ctx.zone)
    left = max(0, spec.max_per_day - await uow.stamps.given_since(member.id, start, end))
    return CardState(on_card, spec.every, await uow.rewards.by_seed(spec.reward), lapses_on, left)


# -- lapsing stamps (the `stamps` job) -----------------------------------------------------


@dataclass
class StampExpiryReport:
    day: date
    members: int = 0
    stamps: int = 0

    def __str__(self) -> str:
        return f"{self.day.isoformat()}: {self.stamps} stamp(s) lapsed for {self.members} member(s)"


async def expire_stamps(ctx: Context, day: date | None = None) -> StampExpiryReport:
    """Stamps given `expiry_days` or more merchant days ago leave the card: a stamp
    given on day X lapses at the merchant midnight that starts day X + expiry_days.
    One entry per member and day (key `stamp-expire:<date>:<member>`): safe to run twice."""
    today = day or ctx.now().astimezone(ctx.zone).date()
    report = StampExpiryReport(today)
    spec = ctx.program.stamps
    if spec is None or not spec.expiry_days:
        return report
    cutoff = day_start(today, ctx.zone)
    fresh_since = day_start(today - timedelta(days=spec.expiry_days), ctx.zone)
    moment = max(ctx.now(), cutoff)
    after = 0
    while True:
        async with ctx.uow(readonly=True) as uow:
            members = await uow.stamps.members_with_stamps(after_member=after, limit=BATCH)
        if not members:
            return report
        for member_id in members:
            after = member_id
            async with ctx.uow() as uow:
                member = await uow.lots.lock_member(member_id)
                if member is None:
                    continue
                on_card = await uow.stamps.on_card(member_id)
                gone = lapsed(on_card, await uow.stamps.given_since(member_id, fresh_since))
                if not gone:
                    continue
                entry = await uow.stamps.post(
                    member_id=member_id, delta=-gone, kind=StampKind.EXPIRE,
                    key=f"stamp-expire:{today.isoformat()}:{member_id}", now=moment,
                )
                if entry is None:
                    continue
                if member.telegram_id is not None and member.forgotten_at is None:
                    await uow.outbox.enqueue(
                        key=f"stamps-lapsed:{today.isoformat()}:{member_id}",
                        chat_id=member.telegram_id, member_id=member_id, kind="stamps_lapsed", category=REMINDER,
                        payload={"lapsed": gone, "on_card": on_card - gone, "every": spec.every,
                                 "days": spec.expiry_days},
                        now=moment,
                    )
                await uow.commit()
                report.members += 1
                report.stamps += gone


# -- what /mydata includes -----------------------------------------------------------------


@section
async def _stamps_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    entries = await uow.stamps.for_member(member.id)
    return "stamp_card", {
        "stamps_on_card": member.stamps,
        "entries": [row(e, "created_at", "kind", "delta", "voucher_id") for e in entries],
    }
