"""The birthdays job, travelling in time with the fake clock: each member is greeted on
their birthday in their own calendar, in their language, with the bonus, once a year."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import jdatetime
from hijridate import Hijri
from sqlalchemy import func, select

from bot.app import App
from bot.domain.calendars import BirthDate
from bot.jobs import run_job
from storage.models import LedgerEntry, OutboxMessage
from tests.support import CASHIER, EMMA, LAYLA, OWNER, SARA, Chat, FakeClock, Person

TEHRAN_10AM_IN_UTC = timedelta(hours=6, minutes=30)  # Asia/Tehran is UTC+03:30


def ten_am(day: date) -> datetime:
    """10:00 merchant time (the tests' TIMEZONE is Asia/Tehran) on `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + TEHRAN_10AM_IN_UTC


def gregorian(value: object) -> date:
    return date(value.year, value.month, value.day)  # type: ignore[attr-defined]


async def join_with_birthday(chat: Chat, app: App, person: Person, birth: BirthDate) -> int:
    await chat.say(person, "/start")
    async with app.ctx.uow() as uow:
        member = await uow.members.by_telegram_id(person.id)
        assert member is not None
        await uow.audiences.set_birthday(member.id, birth, only_if_unset=False)
        await uow.commit()
        return member.id


async def birthday_credits(app: App, member_id: int) -> list[tuple[str, int]]:
    async with app.ctx.uow() as uow:
        rows = await uow.session.execute(
            select(LedgerEntry.idempotency_key, LedgerEntry.delta)
            .where(LedgerEntry.member_id == member_id, LedgerEntry.kind == "birthday")
            .order_by(LedgerEntry.id)
        )
        return [(key, delta) for key, delta in rows.all()]


async def celebrate(chat: Chat, app: App, clock: FakeClock, day: date) -> str:
    clock.set(ten_am(day))
    summary = await run_job(app, "birthdays", None)
    await chat.deliver_outbox()
    return summary


async def test_a_jalali_birthday_is_greeted_in_persian_on_its_jalali_date_every_year(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    sara = await join_with_birthday(chat, app, SARA, BirthDate("j", 1369, 2, 27))
    before = len(chat.standin.messages(SARA.id))
    await celebrate(chat, app, clock, date(2026, 5, 16))  # the day before: nothing
    assert len(chat.standin.messages(SARA.id)) == before
    summary = await celebrate(chat, app, clock, date(2026, 5, 17))  # 27 Ordibehesht 1405
    assert "1 greeting(s) queued, 1 bonus(es) paid" in summary
    greeting = chat.standin.messages(SARA.id)[-1].text
    assert "تولدتان مبارک" in greeting and "سارا" in greeting
    assert "۱۰۰ امتیاز" in greeting and "۱۲۰ امتیاز" in greeting  # bonus, and 20 + 100 balance
    assert await birthday_credits(app, sara) == [(f"birthday:1405:{sara}", 100)]
    # Safe to run twice: same day, later, nothing more.
    clock.advance(hours=3)
    again = await run_job(app, "birthdays", None)
    assert "0 greeting(s) queued" in again and "1 already celebrated" in again
    await chat.deliver_outbox()
    assert len(chat.standin.messages(SARA.id)) == before + 1
    # Next Jalali year: 27 Ordibehesht 1406 is 17 May 2027 again, computed by jdatetime.
    next_year = jdatetime.date(1406, 2, 27).togregorian()
    await celebrate(chat, app, clock, next_year)
    assert [key for key, _ in await birthday_credits(app, sara)] == [f"birthday:1405:{sara}", f"birthday:1406:{sara}"]
    assert len(chat.standin.messages(SARA.id)) == before + 2


async def test_29_february_is_celebrated_on_28_february_in_common_years(chat: Chat, app: App, clock: FakeClock) -> None:
    emma = await join_with_birthday(chat, app, EMMA, BirthDate("g", 1992, 2, 29))
    await celebrate(chat, app, clock, date(2027, 2, 28))
    assert "Happy birthday, Emma" in chat.standin.messages(EMMA.id)[-1].text
    await celebrate(chat, app, clock, date(2028, 2, 28))  # a leap year: not yet
    await celebrate(chat, app, clock, date(2028, 2, 29))
    assert [key for key, _ in await birthday_credits(app, emma)] == [f"birthday:2027:{emma}", f"birthday:2028:{emma}"]


async def test_a_hijri_birthday_is_greeted_in_arabic_on_its_hijri_date(chat: Chat, app: App, clock: FakeClock) -> None:
    layla = await join_with_birthday(chat, app, LAYLA, BirthDate("h", 1410, 10, 21))
    day = gregorian(Hijri(1447, 10, 21).to_gregorian())
    await celebrate(chat, app, clock, day - timedelta(days=1))
    assert await birthday_credits(app, layla) == []
    await celebrate(chat, app, clock, day)
    greeting = chat.standin.messages(LAYLA.id)[-1].text
    assert "عيد ميلاد سعيد يا ليلى" in greeting and "١٠٠" in greeting
    assert await birthday_credits(app, layla) == [(f"birthday:1447:{layla}", 100)]
    # A lunar year later is about eleven days earlier in the Gregorian year.
    later = gregorian(Hijri(1448, 10, 21).to_gregorian())
    assert later - day < timedelta(days=360)
    await celebrate(chat, app, clock, later)
    assert len(await birthday_credits(app, layla)) == 2


async def test_30_esfand_and_the_30th_of_a_short_hijri_month(chat: Chat, app: App, clock: FakeClock) -> None:
    esfand = await join_with_birthday(chat, app, SARA, BirthDate("j", 1375, 12, 30))
    hijri = await join_with_birthday(chat, app, LAYLA, BirthDate("h", 1400, 9, 30))
    # 1404 is a common Jalali year: 29 Esfand is its last day.
    await celebrate(chat, app, clock, jdatetime.date(1404, 12, 29).togregorian())
    assert await birthday_credits(app, esfand) == [(f"birthday:1404:{esfand}", 100)]
    short = next(y for y in range(1447, 1470) if Hijri(y, 9, 1).month_length() == 29)
    await celebrate(chat, app, clock, gregorian(Hijri(short, 9, 29).to_gregorian()))
    assert await birthday_credits(app, hijri) == [(f"birthday:{short}:{hijri}", 100)]


async def test_members_without_offers_are_greeted_blocked_and_erased_ones_are_not_messaged(
    chat: Chat, app: App, clock: FakeClock
) -> None:
    emma = await join_with_birthday(chat, app, EMMA, BirthDate("g", 1990, 5, 17))
    sara = await join_with_birthday(chat, app, SARA, BirthDate("g", 1985, 5, 17))
    layla = await join_with_birthday(chat, app, LAYLA, BirthDate("g", 1979, 5, 17))
    async with app.ctx.uow() as uow:  # Emma never agreed to offers: a birthday greeting is not an offer
        await uow.members.set_fields(sara, blocked_at=app.ctx.now())
        await uow.members.set_fields(layla, forgotten_at=app.ctx.now(), telegram_id=None)
        await uow.commit()
    before = {p.id: len(chat.standin.messages(p.id)) for p in (EMMA, SARA, LAYLA)}
    await celebrate(chat, app, clock, date(2026, 5, 17))
    assert len(chat.standin.messages(EMMA.id)) == before[EMMA.id] + 1
    assert len(chat.standin.messages(SARA.id)) == before[SARA.id]
    assert len(chat.standin.messages(LAYLA.id)) == before[LAYLA.id]
    assert len(await birthday_credits(app, emma)) == 1 and len(await birthday_credits(app, sara)) == 1
    assert await birthday_credits(app, layla) == []
    async with app.ctx.uow() as uow:
        assert (await uow.outbox.by_key(f"birthday:2026:{sara}")).status == "blocked"  # type: ignore[union-attr]


async def test_a_birthday_moved_to_another_calendar_pays_once_a_year(chat: Chat, app: App, clock: FakeClock) -> None:
    sara = await join_with_birthday(chat, app, SARA, BirthDate("g", 1990, 5, 17))
    await celebrate(chat, app, clock, date(2026, 5, 17))
    async with app.ctx.uow() as uow:  # staff move it to the Jalali calendar, a month later
        await uow.audiences.set_birthday(sara, BirthDate("j", 1369, 3, 27), only_if_unset=False)
        await uow.commit()
    june = jdatetime.date(1405, 3, 27).togregorian()
    await celebrate(chat, app, clock, june)
    assert await birthday_credits(app, sara) == [(f"birthday:2026:{sara}", 100)]
    assert "تولدتان مبارک" in chat.standin.messages(SARA.id)[-1].text  # still greeted, without points
    assert "امتیاز" not in chat.standin.messages(SARA.id)[-1].text


async def test_greetings_wait_for_the_end_of_quiet_hours(chat: Chat, app: App, clock: FakeClock) -> None:
    await join_with_birthday(chat, app, EMMA, BirthDate("g", 1990, 5, 17))
    # An operator runs the job by hand late in the evening (23:00 merchant time).
    clock.set(datetime(2026, 5, 17, 19, 30, tzinfo=UTC))
    await run_job(app, "birthdays", date(2026, 5, 17))
    before = len(chat.standin.messages(EMMA.id))
    report = await chat.deliver_outbox()
    assert report.sent == 0 and report.deferred == 1
    assert len(chat.standin.messages(EMMA.id)) == before
    clock.set(datetime(2026, 5, 18, 5, 29, tzinfo=UTC))  # 08:59 in Tehran
    assert (await chat.deliver_outbox()).sent == 0
    clock.set(datetime(2026, 5, 18, 5, 30, tzinfo=UTC))  # 09:00
    assert (await chat.deliver_outbox()).sent == 1
    assert "Happy birthday" in chat.standin.messages(EMMA.id)[-1].text


async def test_members_without_a_birthday_get_nothing(app: App, chat: Chat) -> None:
    for person in (OWNER, CASHIER):
        await chat.say(person, "/start")
    assert "0 greeting(s) queued" in await run_job(app, "birthdays", date(2026, 5, 17))
    async with app.ctx.uow() as uow:
        assert await uow.session.scalar(select(func.count(OutboxMessage.id))) == 0
