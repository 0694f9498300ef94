"""Property: any interleaving of purchases, redemptions, voucher use, adjustments,
time passing, expiries and refunds keeps the books: every balance equals the sum of
its ledger and is never negative, the expiry lots are exactly what replaying the
ledger gives, no stock goes below zero and every unit of stock is accounted for."""
from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import App
from bot.domain import errors
from bot.domain.expiry import replay
from bot.domain.rewards import RewardLimitReached, RewardSoldOut
from bot.jobs import run_job
from bot.services import members, points, rewards, vouchers
from standin import BotAPIStandIn
from storage.models import LedgerEntry, Member, PointLot, Reward, Voucher
from tests.support import FakeClock, make_app

PEOPLE = 3
REWARDS = ({"cost": 50, "stock": 2}, {"cost": 120, "stock": None, "per_member_limit": 2}, {"cost": 300, "stock": 1})
_ids = itertools.count(1)

operation = st.one_of(
    st.tuples(st.just("award"), st.integers(0, PEOPLE - 1), st.integers(1, 400)),
    st.tuples(st.just("adjust"), st.integers(0, PEOPLE - 1), st.integers(-300, 300).filter(bool)),
    st.tuples(st.just("redeem"), st.integers(0, PEOPLE - 1), st.integers(0, len(REWARDS) - 1)),
    st.tuples(st.just("use"), st.integers(0, PEOPLE - 1), st.just(0)),
    st.tuples(st.just("advance"), st.integers(1, 200), st.just(0)),
    st.tuples(st.just("expiry"), st.just(0), st.just(0)),
)

EXPECTED_REFUSALS = (errors.InsufficientPoints, RewardSoldOut, RewardLimitReached)


class World:
    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app, self.clock = app, clock
        self.telegram_ids: list[int] = []
        self.member_ids: list[int] = []
        self.reward_ids: list[int] = []
        self.initial_stock: dict[int, int] = {}

    async def setup(self) -> None:
        run = next(_ids)
        for i in range(PEOPLE):
            telegram_id = run * 100 + i
            joined = await members.enrol(self.app.ctx, members.TelegramProfile(telegram_id, "P", None, None, "en"))
            self.telegram_ids.append(telegram_id)
            self.member_ids.append(joined.member.id)
        now = self.clock()
        async with self.app.ctx.uow() as uow:
            for spec in REWARDS:
                reward = await uow.rewards.create(
                    seed_id=None, name={"en": "R"}, description={}, kind="gift", value=None, min_tier=0,
                    valid_days=20, starts_at=None, ends_at=None, active=True, created_at=now, updated_at=now,
                    per_member_limit=spec.get("per_member_limit"), cost=spec["cost"], stock=spec["stock"],
                )
                self.reward_ids.append(reward.id)
                if spec["stock"] is not None:
                    self.initial_stock[reward.id] = spec["stock"]
            await uow.commit()

    async def apply(self, step: int, op: tuple[str, int, int]) -> None:
        kind, a, b = op
        ctx = self.app.ctx
        if kind == "award":
            code = await self.code(a)
            await points.award_purchase(ctx, actor_id=1, member_text=code, amount_text=str(b), note=None, key=f"p{step}")
        elif kind == "adjust":
            with contextlib.suppress(errors.InsufficientPoints):
                await points.adjust_points(ctx, actor_id=1, member_text=await self.code(a), points_text=str(b),
                                           reason="test", key=f"j{step}")
        elif kind == "redeem":
            try:
                offer = await rewards.offer(ctx, self.telegram_ids[a], self.reward_ids[b])
                await rewards.redeem(ctx, self.telegram_ids[a], offer.token)
            except EXPECTED_REFUSALS:
                pass
        elif kind == "use":
            owned = await rewards.my_vouchers(ctx, await self.member(a))
            if owned:
                await vouchers.redeem_voucher(ctx, staff_id=1, text=owned[0].voucher.code, key=f"u{step}")
        elif kind == "advance":
            self.clock.advance(days=a)
        else:
            await run_job(self.app, "expiry", None)

    async def code(self, index: int) -> str:
        return (await self.member(index)).code

    async def member(self, index: int) -> Member:
        async with self.app.ctx.uow(readonly=True) as uow:
            return await uow.members.by_id(self.member_ids[index])

    async def check(self) -> None:
        async with self.app.ctx.uow(readonly=True) as uow:
            session = uow.session
            for member_id in self.member_ids:
                member = await uow.members.by_id(member_id)
                assert member.balance >= 0
                assert member.balance == await uow.ledger.sum_for(member_id)
                entries = (await session.execute(
                    select(LedgerEntry.id, LedgerEntry.delta, LedgerEntry.expires_at)
                    .where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)
                )).all()
                stored = [(lot.entry_id, lot.remaining) for lot in await uow.lots.for_member(member_id)]
                assert stored == [(lot.entry_id, lot.remaining) for lot in replay(entries)]
                assert sum(r for _, r in stored) <= member.balance
                expired = -int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                    LedgerEntry.member_id == member_id, LedgerEntry.kind == "expire")) or 0)
                could_expire = int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                    LedgerEntry.member_id == member_id, LedgerEntry.expires_at <= self.clock())) or 0)
                assert expired <= could_expire
            for reward_id, initial in self.initial_stock.items():
                stock = await session.scalar(select(Reward.stock).where(Reward.id == reward_id))
                held = await session.scalar(select(func.count(Voucher.id)).where(
                    Voucher.reward_id == reward_id, Voucher.status.in_(("active", "used"))))
                assert stock is not None and stock >= 0 and stock + held == initial
            assert await session.scalar(select(func.count()).select_from(PointLot).where(PointLot.remaining <= 0)) == 0


@pytest.mark.usefixtures("db_url")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=18))
async def test_any_interleaving_keeps_the_books(database_url: str, ops: list[tuple[str, int, int]]) -> None:
    clock = FakeClock()
    app = await make_app(database_url, BotAPIStandIn(), clock=clock)
    try:
        world = World(app, clock)
        await world.setup()
        for step, op in enumerate(ops):
            await world.apply(step, op)
            await world.check()
        clock.set(datetime(2031, 1, 1, 12, 0, tzinfo=UTC))  # far ahead: every lot and voucher lapsed
        await run_job(app, "expiry", None)
        await world.check()
        async with app.ctx.uow(readonly=True) as uow:
            assert await uow.session.scalar(select(func.count(Voucher.id)).where(
                Voucher.status == "active", Voucher.member_id.in_(world.member_ids))) == 0
            for member_id in world.member_ids:
                assert await uow.lots.for_member(member_id) == []
    finally:
        await app.close()
