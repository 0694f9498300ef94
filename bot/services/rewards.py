"""Rewards: the catalog, redemption in two taps, the member's vouchers, and
the owner's catalog edits (SPEC §3 `/rewards`, §4 `/rewards_admin`).

Redemption is one transaction: the confirmation token is consumed, the
points are debited (which locks the member's row), the per-member limit is
counted, one unit of stock is taken with a guarded UPDATE and the voucher
is written. Any refusal raises, and the unit of work rolls everything back,
the token included.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain import errors
from bot.domain.ledger import Kind
from bot.domain.rewards import (
    OFFER_TTL,
    AlreadyRedeemed,
    Availability,
    InvalidRewardInput,
    OfferExpired,
    RewardChanged,
    RewardDraft,
    RewardLimitReached,
    RewardSoldOut,
    RewardUnavailable,
    VoucherNotYours,
    availability,
    check_redeemable,
    day_start,
    new_voucher_code,
    new_voucher_prefix,
    offered,
    voucher_expiry,
)
from bot.services.ledger import debit
from bot.services.ports import Context, UnitOfWork
from bot.services.privacy import row, section

PREFIX_SETTING = "voucher_prefix"
REDEEM_ACTION = "redeem"
SAVE_ACTION = "reward_save"
_CODE_ATTEMPTS = 10


# -- start-up ---------------------------------------------------------------------


async def seed_rewards(ctx: Context) -> int:
    """Put the program's [[rewards]] in the catalog: each seed id once, ever.

    Safe to call at every start and from several replicas at once: a reward
    already seeded is left exactly as the owner has since edited (or paused) it;
    a seed id new to the program file is added. Also fixes the shop's voucher tag.
    """
    now = ctx.now()
    added = 0
    async with ctx.uow() as uow:
        await voucher_prefix(ctx, uow)
        for seed in ctx.program.rewards:
            values = {
                "seed_id": seed.id,
                "name": dict(seed.name),
                "description": dict(seed.description),
                "cost": seed.cost,
                "kind": seed.kind,
                "value": seed.value,
                "stock": seed.stock,
                "per_member_limit": seed.per_member_limit,
                "min_tier": seed.min_tier,
                "valid_days": seed.valid_days,
                "starts_at": day_start(seed.available_from, ctx.zone) if seed.available_from else None,
                "ends_at": day_start(seed.available_until + timedelta(days=1), ctx.zone)
                if seed.available_until
                else None,
                "active": True,
                "created_at": now,
                "updated_at": now,
                "early_access_hours": seed.early_access_hours,
            }
            added += await uow.rewards.seed(values)
        await uow.commit()
    return added


async def voucher_prefix(ctx: Context, uow: UnitOfWork) -> str:
    """The shop tag new vouchers carry: the program's, else one drawn once and kept."""
    stored = await uow.settings.get(PREFIX_SETTING)
    if stored is None:
        stored = await uow.rewards.claim_setting(PREFIX_SETTING, new_voucher_prefix(), now=ctx.now())
    return ctx.program.vouchers.prefix or str(stored)


async def own_prefixes(ctx: Context, uow: UnitOfWork) -> set[str]:
    stored = await uow.settings.get(PREFIX_SETTING)
    return {p for p in (ctx.program.vouchers.prefix, stored) if p}


# -- what a member sees --------------------------------------------------------------


@dataclass(frozen=True)
class CatalogItem:
    reward: Any
    state: Availability
    taken: int


@dataclass(frozen=True)
class Catalog:
    member: Any
    items: list[CatalogItem]
    active_vouchers: int


async def catalog(ctx: Context, member: Any) -> Catalog:
    """The rewards `member` can see (active, in their window), each with what the member can do."""
    if member is None:
        raise errors.NotAMember()
    now = ctx.now()
    async with ctx.uow(readonly=True) as uow:
        fresh = await uow.members.by_id(member.id)
        rewards = [r for r in await uow.rewards.active() if offered(r, now)]
        taken = await uow.vouchers.taken_by_reward(member.id)
        vouchers = await uow.vouchers.active_for(member.id, now=now)
    items = [
        CatalogItem(
            reward,
            availability(reward, now=now, tier=fresh.tier, balance=fresh.balance, taken=taken.get(reward.id, 0)),
            taken.get(reward.id, 0),
        )
        for reward in rewards
    ]
    return Catalog(fresh, items, len(vouchers))


@dataclass(frozen=True)
class Offer:
    member: Any
    reward: Any
    token: str


async def offer(ctx: Context, telegram_id: int, reward_id: int) -> Offer:
    """First tap: check the member may redeem the reward and issue the one-time
    token the confirmation button carries."""
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await _member(uow, telegram_id)
        reward = await uow.rewards.get(reward_id)
        taken = await uow.vouchers.taken(member.id, reward_id) if reward is not None else 0
        check_redeemable(reward, now=now, tier=member.tier, balance=member.balance, taken=taken, program=ctx.program)
        token = await uow.tokens.issue(
            telegram_id, REDEEM_ACTION, {"reward": reward.id, "cost": reward.cost}, now=now
        )
        await uow.commit()
        return Offer(member, reward, token)


@dataclass(frozen=True)
class Redemption:
    member: Any
    reward: Any
    voucher: Any


async def redeem(ctx: Context, telegram_id: int, token: str, *, reward_id: int | None = None) -> Redemption:
    """Second tap: points out, a voucher in, exactly once per token.

    `reward_id` (the Mini App names the reward in its URL): a token issued
    for another reward is refused like someone else's."""
    now = ctx.now()
    async with ctx.uow() as uow:
        row = await uow.tokens.peek(token, telegram_id, REDEEM_ACTION)
        if row is None or (reward_id is not None and int(row.payload["reward"]) != reward_id):
            raise errors.StaleAction()
        if row.used_at is not None:
            raise AlreadyRedeemed()
        if now - row.created_at > OFFER_TTL:
            raise OfferExpired()
        if not await uow.tokens.consume(token, telegram_id, REDEEM_ACTION, now=now):
            raise AlreadyRedeemed()  # a simultaneous tap on the same button won
        member = await _member(uow, telegram_id)
        reward = await uow.rewards.get(int(row.payload["reward"]))
        if reward is None or not offered(reward, now):
            raise RewardUnavailable()
        if reward.cost != int(row.payload["cost"]):
            raise RewardChanged(cost=reward.cost, offered=int(row.payload["cost"]))
        check_redeemable(
            reward, now=now, tier=member.tier, balance=max(member.balance, reward.cost), taken=0, program=ctx.program
        )
        code = await unused_code(ctx, uow)
        # The debit holds the member's row until commit, so the limit count
        # below sees every voucher a concurrent redemption of theirs made.
        await debit(ctx, uow, member, reward.cost, Kind.REDEEM, key=f"redeem:{token}", now=now, note=code)
        if reward.per_member_limit is not None and await uow.vouchers.taken(member.id, reward.id) >= reward.per_member_limit:
            raise RewardLimitReached(limit=reward.per_member_limit)
        if not await uow.rewards.take_one(reward.id):
            raise RewardSoldOut()
        voucher = await uow.vouchers.create(
            code=code,
            reward_id=reward.id,
            member_id=member.id,
            points=reward.cost,
            status="active",
            created_at=now,
            expires_at=voucher_expiry(now, reward.valid_days, ctx.zone),
        )
        if voucher is None:  # pragma: no cover - the code was checked free a moment ago
            raise RuntimeError("voucher code collision")
        await uow.members.refresh(member)
        await uow.commit()
        return Redemption(member, reward, voucher)


async def unused_code(ctx: Context, uow: UnitOfWork) -> str:
    prefix = await voucher_prefix(ctx, uow)
    for _ in range(_CODE_ATTEMPTS):
        code = new_voucher_code(prefix)
        if await uow.vouchers.by_code(code) is None:
            return code
    raise RuntimeError("could not draw an unused voucher code")  # pragma: no cover - 29**6 per tag


async def _member(uow: UnitOfWork, telegram_id: int) -> Any:
    member = await uow.members.by_telegram_id(telegram_id)
    if member is None:
        raise errors.NotAMember()
    return member


@dataclass(frozen=True)
class OwnedVoucher:
    voucher: Any
    reward: Any


async def my_vouchers(ctx: Context, member: Any) -> list[OwnedVoucher]:
    """The member's vouchers that can still be used, soonest to expire first."""
    if member is None:
        raise errors.NotAMember()
    async with ctx.uow(readonly=True) as uow:
        vouchers = await uow.vouchers.active_for(member.id, now=ctx.now())
        return [OwnedVoucher(v, await uow.rewards.get(v.reward_id)) for v in vouchers]


async def voucher_of(ctx: Context, member: Any, voucher_id: int) -> OwnedVoucher:
    """One of the member's own vouchers; anyone else's (or none) is refused."""
    if member is None:
        raise errors.NotAMember()
    async with ctx.uow(readonly=True) as uow:
        voucher = await uow.vouchers.by_id(voucher_id)
        if voucher is None or voucher.member_id != member.id:
            raise VoucherNotYours()
        return OwnedVoucher(voucher, await uow.rewards.get(voucher.reward_id))


# -- the owner's catalog --------------------------------------------------------------


async def all_rewards(ctx: Context) -> list[Any]:
    async with ctx.uow(readonly=True) as uow:
        rewards: list[Any] = await uow.rewards.all()
        return rewards


async def get_reward(ctx: Context, reward_id: int) -> Any:
    async with ctx.uow(readonly=True) as uow:
        reward = await uow.rewards.get(reward_id)
    if reward is None:
        raise RewardUnavailable()
    return reward


async def issue_save_token(ctx: Context, actor_id: int, data: dict[str, Any]) -> str:
    """Validate a finished draft and park it behind the Save button's one-time token."""
    RewardDraft.from_data(data, ctx.program)
    async with ctx.uow() as uow:
        token: str = await uow.tokens.issue(actor_id, SAVE_ACTION, data, now=ctx.now())
        await uow.commit()
        return token


async def create_reward(ctx: Context, actor_id: int, token: str) -> Any:
    """Save the draft behind `token`, exactly once (a double tap saves one reward)."""
    now = ctx.now()
    async with ctx.uow() as uow:
        row = await uow.tokens.peek(token, actor_id, SAVE_ACTION)
        if row is None or not await uow.tokens.consume(token, actor_id, SAVE_ACTION, now=now):
            raise errors.StaleAction()
        draft = RewardDraft.from_data(row.payload, ctx.program)
        reward = await uow.rewards.create(
            seed_id=None,
            name=draft.name,
            description=draft.description,
            cost=draft.cost,
            kind=draft.kind,
            value=draft.value,
            stock=draft.stock,
            per_member_limit=draft.per_member_limit,
            min_tier=draft.min_tier,
            valid_days=draft.valid_days,
            starts_at=None,
            ends_at=now + timedelta(days=draft.available_days) if draft.available_days else None,
            active=True,
            created_at=now,
            updated_at=now,
        )
        uow.audit.record(actor_id=actor_id, action="reward_add", now=now, reward_id=reward.id, cost=draft.cost)
        await uow.commit()
        return reward


async def edit_reward(ctx: Context, actor_id: int, reward_id: int, field: str, value: Any, lang: str | None = None) -> Any:
    """Change one field of a reward (already parsed by `bot.domain.rewards.parse_field`).

    `name`/`description` take a language; `description` None removes that
    language's text; `kind` takes (kind, value); `stock`, `limit` and
    `available_days` take None for "no limit".
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        reward = await uow.rewards.get(reward_id)
        if reward is None:
            raise RewardUnavailable()
        changes: dict[str, Any] = {}
        if field in ("name", "description"):
            texts = dict(getattr(reward, field) or {})
            if value is None:
                texts.pop(str(lang), None)
            else:
                texts[str(lang)] = value
            if field == "name" and not texts:
                raise InvalidRewardInput(field="name", text="")
            changes[field] = texts
        elif field == "kind":
            kind, amount = value
            value_type = ctx.program.kind_value(kind)
            if value_type is None or (value_type != "none") != (amount is not None):
                raise InvalidRewardInput(field="kind", text=kind)
            changes.update(kind=kind, value=amount)
        elif field == "value":
            if ctx.program.kind_value(reward.kind) in (None, "none"):
                raise InvalidRewardInput(field="value", text=str(value))
            changes["value"] = value
        elif field == "min_tier":
            if not 0 <= int(value) < len(ctx.program.tiers):
                raise InvalidRewardInput(field="min_tier", text=str(value))
            changes["min_tier"] = int(value)
        elif field == "available_days":
            changes["ends_at"] = now + timedelta(days=int(value)) if value else None
            changes["starts_at"] = None if value is None else reward.starts_at
        else:
            column = {"cost": "cost", "stock": "stock", "limit": "per_member_limit", "valid_days": "valid_days"}[field]
            changes[column] = value
        await uow.rewards.update(reward_id, updated_at=now, **changes)
        uow.audit.record(
            actor_id=actor_id, action="reward_edit", now=now, reward_id=reward_id, field=field,
            value=_jsonable(value), lang=lang,
        )
        await uow.commit()
    return await get_reward(ctx, reward_id)


async def set_active(ctx: Context, actor_id: int, reward_id: int, active: bool) -> Any:
    """Pause or resume a reward; doing it twice is harmless."""
    return await _set_field(
        ctx, actor_id, reward_id, "active", active, action="reward_resume" if active else "reward_pause"
    )


async def set_photo(ctx: Context, actor_id: int, reward_id: int, file_id: str | None) -> Any:
    """Give a reward the owner's picture (a Telegram file_id), or take it away (None)."""
    return await _set_field(
        ctx, actor_id, reward_id, "photo", file_id, action="reward_photo" if file_id else "reward_photo_removed"
    )


async def _set_field(ctx: Context, actor_id: int, reward_id: int, field: str, value: Any, *, action: str) -> Any:
    """Set one column of a reward, audited; setting what it already is changes nothing."""
    now = ctx.now()
    async with ctx.uow() as uow:
        reward = await uow.rewards.get(reward_id)
        if reward is None:
            raise RewardUnavailable()
        if getattr(reward, field) != value:
            await uow.rewards.update(reward_id, updated_at=now, **{field: value})
            uow.audit.record(actor_id=actor_id, action=action, now=now, reward_id=reward_id)
            await uow.commit()
    return await get_reward(ctx, reward_id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)


# -- what /mydata includes ---------------------------------------------------------------


@section
async def _vouchers_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    vouchers = await uow.vouchers.for_member(member.id)
    names = {v.reward_id: (await uow.rewards.get(v.reward_id)) for v in vouchers}
    return "vouchers", [
        {
            **row(v, "code", "status", "points", "created_at", "expires_at", "used_at", "refunded_points", "source"),
            "reward": dict(names[v.reward_id].name) if names[v.reward_id] is not None else None,
        }
        for v in vouchers
    ]


@section
async def _tier_section(uow: UnitOfWork, member: Any) -> tuple[str, Any]:
    events = await uow.tier_events.for_member(member.id)
    return "tier_changes", [row(e, "created_at", "reason", "from_tier", "to_tier", "earned", "held_until") for e in events]
