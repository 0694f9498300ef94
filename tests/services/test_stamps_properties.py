"""Property: any interleaving of stamps (within and over the daily cap), repeated
requests, days passing and the expiry job keeps the stamp books: the cached count equals
the sum of the stamp ledger, never leaves 0..every-1, every full card is exactly one
voucher given without points, and every stamp given is on a card, in a full card or lapsed."""
from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import App
from bot.domain.stamps import InvalidStampCount, StampCapReached
from bot.jobs import run_job
from bot.services import members, stamps
from standin import BotAPIStandIn
from storage.models import StampEntry, Voucher
from tests.handlers.earning_support import cafe_program
from tests.support import FakeClock, make_app

PEOPLE = 3
EVERY = 3
_runs = itertools.count(1)

operation = st.one_of(
    st.tuples(st.just("stamp"), st.integers(0, PEOPLE - 1), st.integers(1, 3)),
    st.tuples(st.just("again"), st.integers(0, PEOPLE - 1), st.just(0)),  # the last request, redelivered
    st.tuples(st.just("hours"), st.integers(1, 30), st.just(0)),
    st.tuples(st.just("days"), st.integers(1, 20), st.just(0)),
    st.tuples(st.just("lapse"), st.just(0), st.just(0)),
)


class World:
    def __init__(self, app: App) -> None:
        self.app = app
        self.member_ids: list[int] = []
        self.codes: list[str] = []
        self.last_key: dict[int, tuple[str, str]] = {}

    async def setup(self) -> None:
        run = next(_runs)
        for i in range(PEOPLE):
            joined = await members.enrol(self.app.ctx, members.TelegramProfile(run * 100 + i, "P", None, None, "en"))
            self.member_ids.append(joined.member.id)
            self.codes.append(joined.member.code)

    async def apply(self, step: int, op: tuple[str, int, int]) -> None:
        kind, a, b = op
        clock = self.app.ctx.clock
        if kind in ("stamp", "again"):
            if kind == "again":
                if a not in self.last_key:
                    return
                key, count = self.last_key[a]
            else:
                key, count = f"stamp:{step}", str(b)
                self.last_key[a] = (key, count)
            with contextlib.suppress(StampCapReached, InvalidStampCount):
                await stamps.stamp(self.app.ctx, actor_id=1, member_text=self.codes[a], count_text=count, key=key)
        elif kind == "hours":
            clock.advance(hours=a)  # type: ignore[attr-defined]
        elif kind == "days":
            clock.advance(days=a)  # type: ignore[attr-defined]
        else:
            await run_job(self.app, "stamps", None)

    async def check(self) -> None:
        async with self.app.ctx.uow(readonly=True) as uow:
            session = uow.session
            for member_id in self.member_ids:
                member = await uow.members.by_id(member_id)
                assert member.stamps == await uow.stamps.sum_for(member_id)
                assert 0 <= member.stamps < EVERY
                cards = await uow.stamps.cards_completed(member_id)
                vouchers = list(await session.scalars(select(Voucher).where(Voucher.member_id == member_id)))
                assert cards == len(vouchers) == sum(v.source == "stamps" for v in vouchers)
                assert all(v.points == 0 for v in vouchers)
                assert member.balance == 20  # the signup bonus: no card ever spent a point
                linked = await session.scalar(select(func.count(StampEntry.id)).where(
                    StampEntry.member_id == member_id, StampEntry.kind == "card", StampEntry.voucher_id.is_not(None)))
                assert linked == cards
                given = await session.scalar(select(func.coalesce(func.sum(StampEntry.delta), 0)).where(
                    StampEntry.member_id == member_id, StampEntry.kind == "stamp"))
                lapsed = -int(await session.scalar(select(func.coalesce(func.sum(StampEntry.delta), 0)).where(
                    StampEntry.member_id == member_id, StampEntry.kind == "expire")) or 0)
                assert given == cards * EVERY + member.stamps + lapsed


@pytest.mark.usefixtures("db_url")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=20))
async def test_any_interleaving_keeps_the_stamp_books(database_url: str, ops: list[tuple[str, int, int]]) -> None:
    program = cafe_program(stamps={"every": EVERY, "reward": "coffee", "max_per_day": 3, "expiry_days": 10})
    app = await make_app(database_url, BotAPIStandIn(), clock=FakeClock(), program=program)
    try:
        await app.prepare_database()
        world = World(app)
        await world.setup()
        for step, op in enumerate(ops):
            await world.apply(step, op)
            await world.check()
    finally:
        await app.close()
