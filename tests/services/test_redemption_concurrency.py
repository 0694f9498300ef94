"""Redemption is money leaving: simultaneous redemptions never overspend a balance,
never sell more than the stock, never pass a per-member limit, and one confirmation
button issues one voucher however often it is pressed; on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain import errors
from bot.domain.ledger import Kind
from bot.domain.rewards import AlreadyRedeemed, RewardLimitReached, RewardSoldOut
from bot.services import members, rewards
from bot.services.ledger import credit
from storage.models import LedgerEntry, Member, Reward, Voucher
from tests.handlers.rewards_support import add_reward

pytestmark = pytest.mark.usefixtures("db_url")
REFUSALS = (errors.InsufficientPoints, RewardSoldOut, RewardLimitReached, AlreadyRedeemed)


async def member_with(app: App, telegram_id: int, points: int) -> int:
    member = (await members.enrol(app.ctx, members.TelegramProfile(telegram_id, "T", None, None, "en"))).member
    async with app.ctx.uow() as uow:
        fresh = await uow.members.by_id(member.id)
        await credit(app.ctx, uow, fresh, points - 20, Kind.ADJUST, key=f"seed:{telegram_id}", now=app.ctx.now())
        await uow.commit()
    return member.id


async def tokens_for(app: App, telegram_id: int, reward_id: int, count: int) -> list[str]:
    return [(await rewards.offer(app.ctx, telegram_id, reward_id)).token for _ in range(count)]


async def attempt(app: App, telegram_id: int, token: str) -> bool:
    try:
        await rewards.redeem(app.ctx, telegram_id, token)
    except REFUSALS:
        return False
    return True


async def books_balance(app: App) -> None:
    async with app.ctx.uow() as uow:
        for member_id, balance in (await uow.session.execute(select(Member.id, Member.balance))).all():
            assert balance >= 0 and balance == await uow.ledger.sum_for(member_id)
        stocks = (await uow.session.scalars(select(Reward.stock).where(Reward.stock.is_not(None)))).all()
        assert all(stock >= 0 for stock in stocks)


async def vouchers_count(app: App, **where: object) -> int:
    async with app.ctx.uow() as uow:
        stmt = select(func.count(Voucher.id))
        for column, value in where.items():
            stmt = stmt.where(getattr(Voucher, column) == value)
        return int(await uow.session.scalar(stmt) or 0)


async def test_many_simultaneous_redemptions_of_one_balance_overspend_nothing(app: App) -> None:
    member_id = await member_with(app, 1, 1000)
    reward = await add_reward(app, cost=150)
    tokens = await tokens_for(app, 1, reward.id, 20)  # twenty confirmation buttons, all pressed at once
    outcomes = await asyncio.gather(*(attempt(app, 1, token) for token in tokens))
    assert sum(outcomes) == 6  # 1000 // 150
    assert await vouchers_count(app, member_id=member_id) == 6
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member_id)).balance == 100
        spent = await uow.session.scalar(
            select(func.sum(LedgerEntry.delta)).where(LedgerEntry.member_id == member_id, LedgerEntry.kind == "redeem")
        )
        assert spent == -900
    await books_balance(app)


async def test_the_last_units_of_stock_go_to_exactly_that_many_members(app: App) -> None:
    reward = await add_reward(app, cost=10, stock=3)
    people = list(range(100, 112))
    for person in people:
        await member_with(app, person, 50)
    tokens = {person: (await tokens_for(app, person, reward.id, 1))[0] for person in people}
    outcomes = await asyncio.gather(*(attempt(app, person, tokens[person]) for person in people))
    assert sum(outcomes) == 3
    async with app.ctx.uow() as uow:
        assert (await uow.rewards.get(reward.id)).stock == 0
    assert await vouchers_count(app, reward_id=reward.id) == 3
    await books_balance(app)  # the eleven refused members kept every point


async def test_a_per_member_limit_holds_under_simultaneous_taps(app: App) -> None:
    member_id = await member_with(app, 7, 1000)
    reward = await add_reward(app, cost=10, per_member_limit=2)
    tokens = await tokens_for(app, 7, reward.id, 8)
    outcomes = await asyncio.gather(*(attempt(app, 7, token) for token in tokens))
    assert sum(outcomes) == 2 and await vouchers_count(app, member_id=member_id) == 2
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member_id)).balance == 980
    await books_balance(app)


async def test_one_button_pressed_many_times_at_once_issues_one_voucher(app: App) -> None:
    member_id = await member_with(app, 8, 1000)
    reward = await add_reward(app, cost=100)
    [token] = await tokens_for(app, 8, reward.id, 1)
    outcomes = await asyncio.gather(*(attempt(app, 8, token) for _ in range(10)))
    assert sum(outcomes) == 1 and await vouchers_count(app, member_id=member_id) == 1
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member_id)).balance == 900
    await books_balance(app)


async def test_a_refused_redemption_leaves_no_trace_and_the_button_still_explains(app: App) -> None:
    member_id = await member_with(app, 9, 120)
    reward = await add_reward(app, cost=100, stock=1)
    [token] = await tokens_for(app, 9, reward.id, 1)
    async with app.ctx.uow() as uow:
        await uow.rewards.update(reward.id, stock=0)
        await uow.commit()
    for _ in range(2):  # the same answer each time: the token was not used up by a refusal
        with pytest.raises(RewardSoldOut):
            await rewards.redeem(app.ctx, 9, token)
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member_id)).balance == 120
        assert await uow.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "redeem")) == 0
    assert await vouchers_count(app) == 0
