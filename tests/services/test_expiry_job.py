"""The `expiry` job with a fake clock: points expire oldest first and exactly, vouchers
that lapse give their points back (or not, per the program), members are reminded once
per batch, tiers rise at once and fall only when their period ends. Every run is safe
to repeat."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from bot.domain.expiry import reminder_batch
from bot.domain.ledger import Kind
from bot.domain.program import Expiry, Program
from bot.jobs import JOBS, run_job
from bot.services import members, points, rewards
from bot.services.ledger import debit
from standin import BotAPIStandIn
from storage.models import LedgerEntry, OutboxMessage, PointLot, TierEvent, Voucher
from tests.handlers.rewards_support import add_reward
from tests.support import FakeClock, make_app

pytestmark = pytest.mark.usefixtures("db_url")


async def join(app: App, telegram_id: int, lang: str = "en") -> int:
    return (await members.enrol(app.ctx, members.TelegramProfile(telegram_id, "T", None, None, lang))).member.id


async def buy(app: App, member_id: int, amount: int, key: str) -> points.Award:
    async with app.ctx.uow() as uow:
        code = (await uow.members.by_id(member_id)).code
    return await points.award_purchase(app.ctx, actor_id=999, member_text=code, amount_text=str(amount), note=None, key=key)


async def spend(app: App, member_id: int, amount: int, key: str) -> None:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_id(member_id)
        await debit(app.ctx, uow, member, amount, Kind.ADJUST, key=key, now=app.ctx.now(), note="test")
        await uow.commit()


async def balance(app: App, member_id: int) -> int:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_id(member_id)
        assert member.balance == await uow.ledger.sum_for(member_id) >= 0
        return member.balance


async def rows(app: App, model: type, **where: object) -> list:  # type: ignore[type-arg]
    async with app.ctx.uow() as uow:
        stmt = select(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return list(await uow.session.scalars(stmt))


def test_the_job_is_registered_to_run_daily_in_merchant_time() -> None:
    job = JOBS["expiry"]
    assert job.schedule == {"hour": 9, "minute": 30}


async def test_points_expire_oldest_first_and_exactly(app: App, clock: FakeClock) -> None:
    member_id = await join(app, 1)  # 20 signup points, expire 2027-03-10
    clock.advance(days=60)
    await buy(app, member_id, 100, "a:1")  # 100 points, expire 2027-05-09
    await spend(app, member_id, 50, "s:1")  # the 20 oldest first, then 30 of the purchase
    assert [lot.remaining for lot in await rows(app, PointLot, member_id=member_id)] == [70]

    first = await run_job(app, "expiry", date(2027, 3, 12))  # the signup lot's date has passed: already spent
    assert "0 points expired" in first and await balance(app, member_id) == 70
    await run_job(app, "expiry", date(2027, 5, 10))
    assert await balance(app, member_id) == 0
    [expired] = await rows(app, LedgerEntry, member_id=member_id, kind="expire")
    assert expired.delta == -70 and expired.idempotency_key == f"expire:2027-05-10:{member_id}"
    again = await run_job(app, "expiry", date(2027, 5, 10))
    assert "0 points expired" in again and await balance(app, member_id) == 0
    assert await rows(app, PointLot, member_id=member_id) == []


async def test_points_that_never_expire_survive_and_spending_spares_them(app: App, clock: FakeClock) -> None:
    member_id = await join(app, 2)
    adjusted = await points.adjust_points(
        app.ctx, actor_id=1, member_text=str(2), points_text="+40", reason="goodwill", key="adj:1"
    )
    assert adjusted.balance == 60
    await spend(app, member_id, 10, "s:2")  # from the expiring 20, not the adjustment
    clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    await run_job(app, "expiry", None)
    assert await balance(app, member_id) == 40


async def test_vouchers_that_lapse_give_back_their_points_and_stock(app: App, clock: FakeClock) -> None:
    member_id = await join(app, 3)
    await buy(app, member_id, 200, "a:3")
    reward = await add_reward(app, cost=150, stock=5, valid_days=10)
    offer = await rewards.offer(app.ctx, 3, reward.id)
    done = await rewards.redeem(app.ctx, 3, offer.token)
    assert await balance(app, member_id) == 70
    await run_job(app, "expiry", date(2026, 3, 20))  # the voucher's last day: still valid
    assert (await rows(app, Voucher, id=done.voucher.id))[0].status == "active"
    report = await run_job(app, "expiry", date(2026, 3, 21))
    assert "1 vouchers expired (150 points refunded)" in report
    [voucher] = await rows(app, Voucher, id=done.voucher.id)
    assert (voucher.status, voucher.refunded_points) == ("expired", 150)
    [refund] = await rows(app, LedgerEntry, kind="refund")
    assert refund.delta == 150 and refund.expires_at is None and refund.note == voucher.code
    assert await balance(app, member_id) == 220
    async with app.ctx.uow() as uow:
        assert (await uow.rewards.get(reward.id)).stock == 5
    await run_job(app, "expiry", date(2026, 3, 21))
    assert await balance(app, member_id) == 220  # safe to run twice
    [notice] = await rows(app, OutboxMessage, kind="voucher_expired")
    assert notice.payload["refunded"] == 150 and notice.category == "service"


async def test_without_refunds_a_lapsed_voucher_is_simply_gone(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> None:
    program = Program(expiry=Expiry(refund_unused_vouchers=False))
    app = await make_app(db_url, standin, clock=clock, program=program)
    try:
        member_id = await join(app, 4)
        reward = await add_reward(app, cost=20, valid_days=1)
        offer = await rewards.offer(app.ctx, 4, reward.id)
        await rewards.redeem(app.ctx, 4, offer.token)
        await run_job(app, "expiry", date(2026, 3, 20))
        [voucher] = await rows(app, Voucher, member_id=member_id)
        assert (voucher.status, voucher.refunded_points) == ("expired", 0)
        assert await rows(app, LedgerEntry, kind="refund") == [] and await balance(app, member_id) == 0
    finally:
        await app.close()


async def test_members_are_reminded_once_per_batch_in_their_language(
    app: App, clock: FakeClock, standin: BotAPIStandIn
) -> None:
    standin.user(5, "سارا", language_code="fa")
    standin.send_text(5, "/start")  # the chat exists, so the bot may write to it
    member_id = await join(app, 5, "fa")  # 20 points, expire 2027-03-10
    clock.advance(days=3)
    await buy(app, member_id, 30, "a:5")  # 30 points, expire 2027-03-13
    await run_job(app, "expiry", date(2027, 2, 20))  # 18 days before: not yet
    assert await rows(app, OutboxMessage, kind="points_expiring") == []
    await run_job(app, "expiry", date(2027, 2, 25))
    await run_job(app, "expiry", date(2027, 2, 25))
    await run_job(app, "expiry", date(2027, 2, 27))
    [reminder] = await rows(app, OutboxMessage, kind="points_expiring")  # once, for both lots of the batch
    assert reminder.payload["points"] == 50 and reminder.category == "reminder"  # waits out quiet hours
    assert reminder_batch(date(2027, 3, 10), 14) == reminder_batch(date(2027, 3, 13), 14)
    await run_job(app, "expiry", date(2027, 3, 11))  # the signup points expire; the 30 were announced already
    assert len(await rows(app, OutboxMessage, kind="points_expiring")) == 1
    assert await balance(app, member_id) == 30
    clock.advance(days=20)
    await buy(app, member_id, 40, "a:5b")  # expire 2027-04-02: a later batch, a new reminder
    await run_job(app, "expiry", date(2027, 3, 20))
    later = [r for r in await rows(app, OutboxMessage, kind="points_expiring") if r.id != reminder.id]
    assert [r.payload["points"] for r in later] == [40]
    clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    await app.sender.drain()
    texts = [m.text for m in standin.messages(5)]
    assert any("۵۰ امتیاز" in t and "منقضی" in t for t in texts), texts


async def test_a_promotion_is_immediate_recorded_and_congratulated(app: App, clock: FakeClock) -> None:
    member_id = await join(app, 6)
    award = await buy(app, member_id, 480, "a:6")
    assert award.member.tier == 1
    [event] = await rows(app, TierEvent, member_id=member_id)
    assert (event.from_tier, event.to_tier, event.reason, event.earned) == (0, 1, "promotion", 500)
    assert event.held_until == datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    [notice] = await rows(app, OutboxMessage, kind="tier_promoted")
    assert notice.payload["tier"] == 1 and notice.category == "service"
    await buy(app, member_id, 10, "a:6b")  # still Gold: no second congratulation
    assert len(await rows(app, OutboxMessage, kind="tier_promoted")) == 1


async def test_a_tier_falls_only_when_its_period_ends(app: App, clock: FakeClock) -> None:
    member_id = await join(app, 7)
    await buy(app, member_id, 480, "a:7")  # Gold until 2027-03-10
    clock.advance(days=200)
    await run_job(app, "expiry", None)
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member_id)).tier == 1  # held, although nothing new was earned
    report = await run_job(app, "expiry", date(2027, 3, 11))
    assert "1 lowered" in report
    async with app.ctx.uow() as uow:
        assert (await uow.members.by_id(member_id)).tier == 0
    events = await rows(app, TierEvent, member_id=member_id)
    assert [e.reason for e in events] == ["promotion", "demotion"] and events[-1].held_until is None
    [notice] = await rows(app, OutboxMessage, kind="tier_demoted")
    assert notice.payload == {"tier": 0, "from": 1, "earned": 0, "event": events[-1].id}
    assert "0 lowered" in await run_job(app, "expiry", date(2027, 3, 11))


async def test_a_member_who_keeps_earning_keeps_the_tier(app: App, clock: FakeClock) -> None:
    member_id = await join(app, 8)
    await buy(app, member_id, 480, "a:8")
    clock.advance(days=300)
    await buy(app, member_id, 500, "a:8b")
    report = await run_job(app, "expiry", date(2027, 3, 11))
    assert "1 renewed" in report
    events = await rows(app, TierEvent, member_id=member_id)
    assert [e.reason for e in events] == ["promotion", "renewal"]
    assert events[-1].held_until == datetime(2028, 3, 11, tzinfo=app.ctx.zone).astimezone(UTC).replace(
        hour=events[-1].held_until.hour
    )
    assert await rows(app, OutboxMessage, kind="tier_demoted") == []
