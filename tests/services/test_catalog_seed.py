"""The catalog is seeded from the program once per reward id, at every start, safely."""
from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain.program import Program, RewardSeed, Vouchers
from bot.services import rewards
from bot.services.rewards import PREFIX_SETTING, seed_rewards
from standin import BotAPIStandIn
from storage.models import Reward
from tests.support import FakeClock, make_app

pytestmark = pytest.mark.usefixtures("db_url")


async def catalog(app: App) -> dict[str, Reward]:
    async with app.ctx.uow() as uow:
        return {r.seed_id: r for r in await uow.rewards.all()}


async def test_seeding_is_idempotent_and_never_undoes_the_owners_edits(db_url: str, app: App) -> None:
    assert await seed_rewards(app.ctx) == 3
    assert await seed_rewards(app.ctx) == 0
    coffee = (await catalog(app))["coffee"]
    assert (coffee.name["fa"], coffee.cost, coffee.kind, coffee.valid_days) == ("قهوه رایگان", 150, "free_product", 30)
    await rewards.set_active(app.ctx, 1, coffee.id, False)
    await rewards.edit_reward(app.ctx, 1, coffee.id, "cost", 175)

    grown = Program(rewards=(*Program().rewards, RewardSeed(
        id="cake", name={"en": "Cake"}, cost=90, available_from=date(2026, 4, 1), available_until=date(2026, 4, 30))))
    restarted = await make_app(db_url, BotAPIStandIn(), program=grown)
    try:
        results = await asyncio.gather(*(seed_rewards(restarted.ctx) for _ in range(4)))  # replicas starting at once
        assert sum(results) == 1
        seeded = await catalog(restarted)
        assert (seeded["coffee"].active, seeded["coffee"].cost) == (False, 175)
        cake = seeded["cake"]
        tehran = restarted.ctx.zone
        assert cake.starts_at == datetime(2026, 4, 1, tzinfo=tehran).astimezone(UTC)
        assert cake.ends_at == datetime(2026, 5, 1, tzinfo=tehran).astimezone(UTC)
        async with restarted.ctx.uow() as uow:
            assert await uow.session.scalar(select(func.count(Reward.id))) == 4
    finally:
        await restarted.close()


async def test_the_shop_tag_is_drawn_once_and_the_program_can_set_its_own(db_url: str, app: App, clock: FakeClock) -> None:
    await seed_rewards(app.ctx)
    async with app.ctx.uow() as uow:
        drawn = await uow.settings.get(PREFIX_SETTING)
    await seed_rewards(app.ctx)
    async with app.ctx.uow() as uow:
        assert await uow.settings.get(PREFIX_SETTING) == drawn and len(drawn) == 3

    tagged = await make_app(db_url, BotAPIStandIn(), clock=clock, program=Program(vouchers=Vouchers(prefix="CAF")))
    try:
        async with tagged.ctx.uow() as uow:
            assert await rewards.voucher_prefix(tagged.ctx, uow) == "CAF"
            assert await rewards.own_prefixes(tagged.ctx, uow) == {"CAF", drawn}
    finally:
        await tagged.close()
