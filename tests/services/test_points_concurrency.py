"""Points are money: concurrent writers, idempotency and balance == sum of ledger,
on whichever database the suite runs (SQLite WAL or PostgreSQL)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain import errors
from bot.domain.ledger import Kind
from bot.services import members, points
from bot.services.ledger import credit, debit
from storage.models import LedgerEntry, Member

pytestmark = pytest.mark.usefixtures("db_url")


def profile(telegram_id: int, lang: str = "en") -> members.TelegramProfile:
    return members.TelegramProfile(telegram_id, f"User{telegram_id}", None, None, lang)


async def invariant_holds(app: App) -> None:
    async with app.ctx.uow() as uow:
        rows = (await uow.session.execute(select(Member.id, Member.balance))).all()
        for member_id, balance in rows:
            assert balance >= 0
            assert balance == await uow.ledger.sum_for(member_id)


async def test_simultaneous_starts_create_one_member(app: App) -> None:
    results = await asyncio.gather(*(members.enrol(app.ctx, profile(42)) for _ in range(12)))
    assert sum(r.created for r in results) == 1
    assert len({r.member.id for r in results}) == 1
    async with app.ctx.uow() as uow:
        assert await uow.members.count() == 1
        assert await uow.session.scalar(select(func.count(LedgerEntry.id))) == 1
    await invariant_holds(app)


async def test_concurrent_awards_with_one_key_count_once(app: App) -> None:
    member = (await members.enrol(app.ctx, profile(7))).member

    async def award() -> points.Award:
        return await points.award_purchase(
            app.ctx, actor_id=1, member_text=member.code, amount_text="100", note=None, key="award:1:99"
        )

    results = await asyncio.gather(*(award() for _ in range(10)))
    assert sum(not r.duplicate for r in results) == 1
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member.id)).balance == 120
    await invariant_holds(app)


async def test_concurrent_awards_with_distinct_keys_all_count(app: App) -> None:
    member = (await members.enrol(app.ctx, profile(8))).member
    await asyncio.gather(
        *(
            points.award_purchase(
                app.ctx, actor_id=1, member_text=member.code, amount_text="10", note=None, key=f"award:1:{i}"
            )
            for i in range(20)
        )
    )
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member.id)).balance == 20 + 200
    await invariant_holds(app)


async def test_concurrent_spending_never_overspends(app: App) -> None:
    member = (await members.enrol(app.ctx, profile(9))).member  # 20 signup points
    async with app.ctx.uow() as uow:
        fresh = await uow.members.by_id(member.id)
        await credit(app.ctx, uow, fresh, 80, Kind.PURCHASE, key="seed", now=app.ctx.now())
        await uow.commit()

    async def spend(i: int) -> bool:
        async with app.ctx.uow() as uow:
            fresh = await uow.members.by_id(member.id)
            try:
                await debit(app.ctx, uow, fresh, 30, Kind.REDEEM, key=f"spend:{i}", now=app.ctx.now())
            except errors.InsufficientPoints:
                return False
            await uow.commit()
            return True

    outcomes = await asyncio.gather(*(spend(i) for i in range(10)))
    assert sum(outcomes) == 3  # 100 points buy three 30-point spends, never four
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member.id)).balance == 10
    await invariant_holds(app)


async def test_a_debit_beyond_the_balance_leaves_no_trace(app: App) -> None:
    member = (await members.enrol(app.ctx, profile(10))).member
    with pytest.raises(errors.InsufficientPoints):
        async with app.ctx.uow() as uow:
            fresh = await uow.members.by_id(member.id)
            await debit(app.ctx, uow, fresh, 21, Kind.ADJUST, key="too-much", now=app.ctx.now())
            await uow.commit()
    async with app.ctx.uow() as uow:
        assert await uow.ledger.by_key("too-much") is None
        assert (await uow.members.by_id(member.id)).balance == 20


async def test_the_database_refuses_a_negative_balance_even_without_the_guard(app: App) -> None:
    member = (await members.enrol(app.ctx, profile(11))).member
    async with app.ctx.uow() as uow:
        with pytest.raises(Exception, match=r"(?i)check|constraint"):
            await uow.members.set_fields(member.id, balance=-1)
            await uow.commit()


async def test_tier_rises_with_earnings_and_lifts_the_multiplier(app: App) -> None:
    member = (await members.enrol(app.ctx, profile(12))).member
    first = await points.award_purchase(
        app.ctx, actor_id=1, member_text=member.code, amount_text="480", note=None, key="a:1"
    )
    assert first.points == 480 and first.member.tier == 1  # 20 + 480 = 500: Gold
    second = await points.award_purchase(
        app.ctx, actor_id=1, member_text=member.code, amount_text="100", note=None, key="a:2"
    )
    assert second.points == 125  # Gold earns ×1.25
    await invariant_holds(app)
