"""Birthdays: set once by the member, corrected by staff, celebrated by a daily job (SPEC §3, §5)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain import errors
from bot.domain.calendars import (
    AmbiguousCalendar,
    BirthDate,
    BirthdayAlreadySet,
    celebrations_on,
    check_birth_date,
    parse_birth_date,
)
from bot.domain.delivery import REMINDER
from bot.domain.ledger import Kind
from bot.domain.privacy import former_key
from bot.services.gifts import GiftTally, send_gift
from bot.services.members import find_member, refuse_self_service
from bot.services.ports import Context

# A second bonus within this many days is refused, whatever its key: a birthday
# moved to another calendar by staff must not pay twice in one year.
BONUS_GAP_DAYS = 300
CHUNK = 200


def merchant_today(ctx: Context) -> date:
    return ctx.now().astimezone(ctx.zone).date()


def saved_birthday(member: Any) -> BirthDate | None:
    if member is None or member.birth_calendar is None:
        return None
    return BirthDate(member.birth_calendar, member.birth_year, member.birth_month, member.birth_day)


def read_birthday(ctx: Context, text: str) -> list[BirthDate]:
    """Every reading of what the member typed (more than one: ask which calendar)."""
    return parse_birth_date(text, merchant_today(ctx))


def validate(ctx: Context, birth: BirthDate) -> BirthDate:
    """A date that came back from a button: it must still be a possible birthday."""
    return check_birth_date(birth, merchant_today(ctx))


async def set_birthday(ctx: Context, telegram_id: int, birth: BirthDate) -> Any:
    """Save the member's birthday, once (SPEC §3): a second attempt raises BirthdayAlreadySet."""
    check_birth_date(birth, merchant_today(ctx))
    async with ctx.uow() as uow:
        member = await uow.members.by_telegram_id(telegram_id)
        if member is None:
            raise errors.NotAMember()
        if member.birth_calendar is not None:
            raise BirthdayAlreadySet(saved=saved_birthday(member), same=saved_birthday(member) == birth)
        if not await uow.audiences.set_birthday(member.id, birth, only_if_unset=True):
            await uow.members.refresh(member)
            raise BirthdayAlreadySet(saved=saved_birthday(member), same=saved_birthday(member) == birth)
        await uow.members.refresh(member)
        await uow.commit()
        return member


@dataclass(frozen=True)
class Correction:
    member: Any
    before: BirthDate | None
    after: BirthDate


async def correct_birthday(ctx: Context, *, actor_id: int, member_text: str, date_text: str) -> Correction:
    """Staff set or change a member's birthday (`/setbirthday`); audited.

    A year that fits two calendars (1369 is Jalali or Hijri) needs the
    calendar named in the text (`1369/02/27 jalali`, `… شمسی`, `… هـ`).
    """
    readings = parse_birth_date(date_text, merchant_today(ctx))
    if len(readings) > 1:
        raise AmbiguousCalendar(text=date_text, options=[r.calendar for r in readings])
    birth = readings[0]
    now = ctx.now()
    async with ctx.uow() as uow:
        member = await find_member(uow, member_text)
        own = refuse_self_service(ctx, member, actor_id, "birthday")
        before = saved_birthday(member)
        await uow.audiences.set_birthday(member.id, birth, only_if_unset=False)
        uow.audit.record(
            actor_id=actor_id, action="set_birthday", member_id=member.id, now=now,
            before=_describe(before), after=_describe(birth), **({"own_account": True} if own else {}),
        )
        await uow.members.refresh(member)
        await uow.commit()
        return Correction(member, before, birth)


def _describe(birth: BirthDate | None) -> str | None:
    return None if birth is None else f"{birth.calendar}:{birth.year:04d}-{birth.month:02d}-{birth.day:02d}"


# -- the daily job ------------------------------------------------------------------
@dataclass(frozen=True)
class BirthdayRun:
    day: date
    greeted: int  # greetings queued now
    credited: int  # bonuses paid now
    already: int  # celebrated by an earlier run of the same day


async def run_birthdays(ctx: Context, day: date | None = None) -> BirthdayRun:
    """Greet every member whose birthday, in their own calendar, falls on `day`
    (merchant time; default today) with the program's birthday bonus.

    Safe to run twice: the bonus and the greeting share the key
    `birthday:<year in the member's calendar>:<member>`.
    """
    day = day or merchant_today(ctx)
    now = ctx.now()
    celebrations = celebrations_on(day)
    years = {c.calendar: c.year for c in celebrations}
    day_start = datetime.combine(day, time(0), tzinfo=ctx.zone)
    async with ctx.uow(readonly=True) as uow:
        rows = [r for r in await uow.audiences.birthdays(celebrations) if years[r.birth_calendar] > r.birth_year]
    bonus = ctx.program.bonuses.birthday
    tally = GiftTally()
    gap_start = day_start - timedelta(days=BONUS_GAP_DAYS)
    for start in range(0, len(rows), CHUNK):
        async with ctx.uow() as uow:
            chunk = rows[start : start + CHUNK]
            # A membership erased with /forget that already had this year's bonus counts too (SPEC §7).
            secret = ctx.erasure_key
            keys = {
                r.id: former_key(secret, r.telegram_id) for r in chunk if r.telegram_id is not None and secret and bonus
            }
            formers = await uow.privacy.formers(list(keys.values()))
            for row in chunk:
                former = formers.get(keys.get(row.id, ""))
                # One bonus per member per BONUS_GAP_DAYS, whatever the calendars say.
                paid_lately = bonus and (
                    (former is not None and former.birthday_bonus_at is not None and former.birthday_bonus_at >= gap_start)
                    or await uow.audiences.birthday_bonus_since(row.id, gap_start)
                )
                await send_gift(
                    ctx, uow, row, tally, key=f"birthday:{years[row.birth_calendar]}:{row.id}", kind="birthday",
                    ledger_kind=Kind.BIRTHDAY, category=REMINDER, bonus=0 if paid_lately else bonus, now=now,
                )
            await uow.commit()
    return BirthdayRun(day, tally.queued, tally.credited, tally.already)
