"""The win-back job with the fake clock: one message per inactivity spell, to members
who agreed to offers, with the program's incentive credited once."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.domain.program import Program
from bot.jobs import run_job
from standin import BotAPIStandIn
from storage.models import LedgerEntry
from tests.support import EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person, make_app


@pytest.fixture
async def app(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> AsyncIterator[App]:
    program = Program.model_validate({"bonuses": {"winback": 25}, "winback": {"inactive_days": 60}})
    application = await make_app(db_url, standin, clock=clock, program=program)
    try:
        yield application
    finally:
        await application.close()


async def join(chat: Chat, person: Person, *, offers: bool) -> None:
    welcome = (await chat.say(person, "/start"))[0]
    yes, no = (data for _, data in chat.standin.buttons(welcome))
    await chat.press(person, welcome, yes if offers else no)


async def member_id(app: App, person: Person) -> int:
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        return member.id


async def winback_credits(app: App, person: Person) -> list[str]:
    mid = await member_id(app, person)
    async with app.ctx.uow() as uow:
        keys = await uow.session.scalars(
            select(LedgerEntry.idempotency_key).where(LedgerEntry.member_id == mid, LedgerEntry.kind == "winback")
        )
        return list(keys)


async def run_on(chat: Chat, app: App) -> str:
    summary = await run_job(app, "winback", None)
    await chat.deliver_outbox()
    return summary


async def test_one_message_per_inactivity_spell(chat: Chat, app: App, clock: FakeClock) -> None:
    await join(chat, EMMA, offers=True)
    await chat.say(OWNER, "/award @emma_w 50")
    await chat.deliver_outbox()
    start = clock.current
    before = len(chat.standin.messages(EMMA.id))
    clock.set(start + timedelta(days=59))
    assert "0 message(s) queued" in await run_on(chat, app)
    clock.set(start + timedelta(days=60))
    assert "1 message(s) queued, 1 bonus(es) paid" in await run_on(chat, app)
    message = chat.standin.messages(EMMA.id)[-1].text
    assert "We miss you, Emma" in message and "25 points" in message and "95 points" in message  # 20 + 50 + 25
    assert "/notifications" in message  # every offer says how to stop offers
    for days in (60, 61, 75):  # the same spell: never again, however often the job runs
        clock.set(start + timedelta(days=days, hours=3))
        assert "0 message(s) queued" in await run_on(chat, app)
    assert len(chat.standin.messages(EMMA.id)) == before + 1
    # A purchase starts a new spell.
    clock.set(start + timedelta(days=80))
    await chat.say(OWNER, "/award @emma_w 10")
    await chat.deliver_outbox()
    clock.set(start + timedelta(days=140))
    assert "1 message(s) queued" in await run_on(chat, app)
    assert len(await winback_credits(app, EMMA)) == 2


async def test_only_members_who_agreed_to_offers(chat: Chat, app: App, clock: FakeClock) -> None:
    await join(chat, EMMA, offers=True)  # never bought: inactive since joining
    await join(chat, SARA, offers=False)
    await join(chat, LAYLA, offers=True)
    async with app.ctx.uow() as uow:
        await uow.members.set_fields(await member_id(app, LAYLA), blocked_at=clock.current)
        await uow.commit()
    clock.advance(days=60)
    assert "1 message(s) queued" in await run_on(chat, app)
    assert await winback_credits(app, EMMA) and not await winback_credits(app, SARA)
    assert not await winback_credits(app, LAYLA)


async def test_long_lapsed_members_are_not_flooded_when_win_back_starts(chat: Chat, app: App, clock: FakeClock) -> None:
    await join(chat, EMMA, offers=True)
    clock.advance(days=60 + 31)  # the job did not run for a month after Emma's 60th day
    assert "0 message(s) queued" in await run_on(chat, app)
    clock.advance(days=-2)  # within the 30-day catch-up
    assert "1 message(s) queued" in await run_on(chat, app)


async def test_a_member_who_withdrew_consent_before_delivery_gets_nothing(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    await join(chat, EMMA, offers=True)
    clock.advance(days=60)
    await run_job(app, "winback", None)
    await chat.say(EMMA, "/notifications off")
    before = len(chat.standin.messages(EMMA.id))
    report = await chat.deliver_outbox()
    assert report.opted_out == 1 and len(chat.standin.messages(EMMA.id)) == before
