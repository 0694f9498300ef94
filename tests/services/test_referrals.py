"""Referrals against the real database: attribution, the payout on the first purchase,
and each guard rail (self-referral, re-attribution, monthly cap, circular chains)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain.program import Program
from bot.domain.referrals import Attribution
from bot.services import members, points
from standin import BotAPIStandIn
from storage.models import LedgerEntry, Member, OutboxMessage, ReferralConversion
from tests.support import FakeClock, make_app

pytestmark = pytest.mark.usefixtures("db_url")
OWNER = 500


def profile(telegram_id: int, name: str = "") -> members.TelegramProfile:
    return members.TelegramProfile(telegram_id, name or f"User{telegram_id}", None, None, "en")


async def join(app: App, telegram_id: int, code: str | None = None) -> members.Enrolment:
    return await members.enrol(app.ctx, profile(telegram_id), referral_code=code)


async def buy(app: App, member: Member, amount: str = "100", key: str | None = None) -> points.Award:
    buy.counter += 1  # type: ignore[attr-defined]
    return await points.award_purchase(
        app.ctx, actor_id=OWNER, member_text=member.code, amount_text=amount, note=None,
        key=key or f"award:{OWNER}:{buy.counter}",  # type: ignore[attr-defined]
    )


buy.counter = 0  # type: ignore[attr-defined]


async def fresh(app: App, member: Member) -> Member:
    async with app.ctx.uow() as uow:
        found = await uow.members.by_id(member.id)
        assert found is not None
        return found


async def referral_entries(app: App) -> list[tuple[int, int, str]]:
    async with app.ctx.uow() as uow:
        rows = await uow.session.execute(
            select(LedgerEntry.member_id, LedgerEntry.delta, LedgerEntry.idempotency_key)
            .where(LedgerEntry.kind == "referral")
            .order_by(LedgerEntry.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def balances_match_ledger(app: App) -> None:
    async with app.ctx.uow() as uow:
        for member_id, balance in (await uow.session.execute(select(Member.id, Member.balance))).all():
            assert balance == await uow.ledger.sum_for(member_id)


@pytest.fixture
async def capped_app(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    application = await make_app(db_url, standin, clock=clock, program=Program(referrals={"monthly_cap": 2}))
    try:
        yield application
    finally:
        await application.close()


async def test_both_sides_are_rewarded_once_after_the_first_purchase(app: App) -> None:
    alice = (await join(app, 1)).member
    joined = await join(app, 2, alice.code)
    bob = joined.member
    assert joined.created and joined.referral is not None and joined.referral.attribution is Attribution.ATTRIBUTED
    assert bob.referrer_id == alice.id
    assert await referral_entries(app) == []  # nothing before a purchase

    first = await buy(app, bob, "120")
    assert first.balance == 20 + 120 + 50  # signup, purchase, referee bonus
    assert (await fresh(app, alice)).balance == 20 + 100
    await buy(app, bob, "80")
    again = await buy(app, bob, "120", key=f"award:{OWNER}:{buy.counter}")  # type: ignore[attr-defined]
    assert again.duplicate
    assert await referral_entries(app) == [
        (bob.id, 50, f"referral:{bob.id}:referee"),
        (alice.id, 100, f"referral:{bob.id}:referrer"),
    ]
    async with app.ctx.uow() as uow:
        kinds = [k for (k,) in (await uow.session.execute(select(OutboxMessage.kind).order_by(OutboxMessage.id))).all()]
    assert kinds.count("referral_joined") == 1 and kinds.count("referral_reward") == 1
    assert kinds.count("referral_bonus") == 1
    await balances_match_ledger(app)


async def test_no_self_referral(app: App) -> None:
    alice = (await join(app, 1)).member
    again = await join(app, 1, alice.code)
    assert not again.created and again.referral is not None and again.referral.attribution is Attribution.SELF
    assert (await fresh(app, alice)).referrer_id is None
    await buy(app, alice)
    assert await referral_entries(app) == []


async def test_an_existing_member_cannot_be_reattributed(app: App) -> None:
    alice = (await join(app, 1)).member
    carol = (await join(app, 3)).member
    bob = (await join(app, 2)).member  # joined without a link
    late = await join(app, 2, alice.code)
    assert late.referral is not None and late.referral.attribution is Attribution.ALREADY_MEMBER
    assert (await fresh(app, bob)).referrer_id is None
    dave = (await join(app, 4, alice.code)).member
    switch = await join(app, 4, carol.code)  # Dave tries Carol's link after joining through Alice's
    assert switch.referral is not None and switch.referral.attribution is Attribution.ALREADY_MEMBER
    assert (await fresh(app, dave)).referrer_id == alice.id
    await buy(app, bob)
    await buy(app, dave)
    assert [(m, d) for m, d, _ in await referral_entries(app)] == [(dave.id, 50), (alice.id, 100)]


async def test_monthly_cap_per_referrer(capped_app: App, clock: FakeClock) -> None:
    app = capped_app
    alice = (await join(app, 1)).member
    friends = [(await join(app, 10 + i, alice.code)).member for i in range(4)]
    for friend in friends[:3]:
        await buy(app, friend)
    assert (await fresh(app, alice)).balance == 20 + 2 * 100  # the cap is 2 a month
    assert [(await fresh(app, f)).balance for f in friends[:3]] == [170, 170, 170]  # friends are still paid
    async with app.ctx.uow() as uow:
        outcomes = (await uow.session.execute(
            select(ReferralConversion.outcome).order_by(ReferralConversion.converted_at, ReferralConversion.referee_id)
        )).scalars().all()
        capped_notice = await uow.outbox.by_key(f"referral:{friends[2].id}:referrer:notice")
    assert sorted(outcomes) == ["capped", "rewarded", "rewarded"]
    assert capped_notice is not None and capped_notice.payload["capped"] is True
    clock.advance(days=25)  # 4 April: a new month
    await buy(app, friends[3])
    assert (await fresh(app, alice)).balance == 20 + 3 * 100
    await balances_match_ledger(app)


async def test_circular_chains_pay_nothing(app: App) -> None:
    alice = (await join(app, 1)).member
    bob = (await join(app, 2, alice.code)).member
    # Only edited or imported data can close a loop: Alice is made Bob's referee too.
    async with app.ctx.uow() as uow:
        await uow.members.set_fields(alice.id, referrer_id=bob.id)
        await uow.commit()
    award = await buy(app, bob, "100")
    assert award.balance == 20 + 100  # no referee bonus
    await buy(app, alice, "100")  # Alice's own first purchase: her "referrer" Bob is her referee
    assert await referral_entries(app) == []
    async with app.ctx.uow() as uow:
        outcomes = (await uow.session.execute(select(ReferralConversion.outcome))).scalars().all()
    assert outcomes == ["circular", "circular"]


async def test_a_longer_chain_pays_only_the_direct_referrer(app: App) -> None:
    alice = (await join(app, 1)).member
    bob = (await join(app, 2, alice.code)).member
    carol = (await join(app, 3, bob.code)).member
    await buy(app, carol)
    assert [(m, d) for m, d, _ in await referral_entries(app)] == [(carol.id, 50), (bob.id, 100)]
    assert (await fresh(app, alice)).balance == 20


async def test_unknown_and_erased_referrers_are_ignored(app: App, clock: FakeClock) -> None:
    alice = (await join(app, 1)).member
    async with app.ctx.uow() as uow:
        await uow.members.set_fields(alice.id, forgotten_at=clock(), telegram_id=None)
        await uow.commit()
    erased = await join(app, 2, alice.code)
    unknown = await join(app, 3, "ZZZZZZ")
    for joined in (erased, unknown):
        assert joined.created and joined.referral is None and joined.member.referrer_id is None


async def test_a_purchase_too_small_to_earn_points_does_not_count(app: App) -> None:
    alice = (await join(app, 1)).member
    bob = (await join(app, 2, alice.code)).member
    await buy(app, bob, "0.50")  # earns no point: a visit, not a qualifying purchase
    assert await referral_entries(app) == []
    await buy(app, bob, "10")
    assert len(await referral_entries(app)) == 2


async def test_simultaneous_first_purchases_respect_the_cap(capped_app: App) -> None:
    app = capped_app
    alice = (await join(app, 1)).member
    friends = [(await join(app, 10 + i, alice.code)).member for i in range(6)]
    await asyncio.gather(*(buy(app, friend) for friend in friends))
    assert (await fresh(app, alice)).balance == 20 + 2 * 100
    async with app.ctx.uow() as uow:
        rewarded = await uow.session.scalar(
            select(func.count()).where(ReferralConversion.outcome == "rewarded")
        )
    assert rewarded == 2
    await balances_match_ledger(app)
