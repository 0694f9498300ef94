"""Stamps and earning actions under concurrency, on SQLite and PostgreSQL: two cashiers
stamping one member at once cannot pass the daily cap or fill a card twice, and two
staff approving one request at once pay it once."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain.actions import RequestDecided
from bot.domain.stamps import StampCapReached
from bot.services import actions, members, stamps
from standin import BotAPIStandIn
from storage.models import LedgerEntry, Voucher
from tests.handlers.earning_support import cafe_program
from tests.support import FakeClock, make_app

pytestmark = pytest.mark.usefixtures("db_url")


@pytest.fixture
async def shop(database_url: str) -> AsyncIterator[App]:
    program = cafe_program(stamps={"every": 3, "reward": "coffee", "max_per_day": 3})
    app = await make_app(database_url, BotAPIStandIn(), clock=FakeClock(), program=program)
    await app.prepare_database()
    try:
        yield app
    finally:
        await app.close()


async def test_simultaneous_stamps_respect_the_cap_and_fill_one_card(shop: App) -> None:
    member = (await members.enrol(shop.ctx, members.TelegramProfile(77, "T", None, None, "en"))).member

    async def one(i: int) -> bool:
        try:
            await stamps.stamp(shop.ctx, actor_id=1, member_text=member.code, count_text="1", key=f"c{i}")
        except StampCapReached:
            return False
        return True

    results = await asyncio.gather(*(one(i) for i in range(8)))
    assert sum(results) == 3
    async with shop.ctx.uow() as uow:
        fresh = await uow.members.by_id(member.id)
        assert fresh.stamps == 0 == await uow.stamps.sum_for(member.id)
        assert await uow.stamps.cards_completed(member.id) == 1
        assert await uow.session.scalar(select(func.count(Voucher.id)).where(Voucher.member_id == member.id)) == 1


async def test_two_staff_approving_at_once_pay_once(shop: App) -> None:
    member = (await members.enrol(shop.ctx, members.TelegramProfile(78, "T", None, None, "en"))).member
    claim = await actions.ask_staff(shop.ctx, 78, "review")

    async def approve(staff_id: int) -> bool:
        try:
            await actions.decide(shop.ctx, staff_id=staff_id, claim_id=claim.id, approve=True)
        except RequestDecided:
            return False
        return True

    results = await asyncio.gather(*(approve(500 + i) for i in range(6)))
    assert sum(results) == 1
    async with shop.ctx.uow() as uow:
        assert (await uow.members.by_id(member.id)).balance == 20 + 25
        assert await uow.session.scalar(
            select(func.count(LedgerEntry.id)).where(LedgerEntry.member_id == member.id, LedgerEntry.kind == "action")
        ) == 1
