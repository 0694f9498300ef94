"""Win-back (SPEC §5): one message, with an incentive, per inactivity spell."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.delivery import MARKETING
from bot.domain.ledger import Kind
from bot.services.birthdays import merchant_today
from bot.services.gifts import GiftTally, send_gift
from bot.services.ports import Context

# Members whose inactivity crossed the line this long ago and were missed
# (the bot was down) still get their message; older lapses are left alone,
# so switching win-back on never floods members who left years ago.
CATCH_UP_DAYS = 30
CHUNK = 200


@dataclass(frozen=True)
class WinbackRun:
    day: date
    messaged: int
    credited: int
    already: int


async def run_winback(ctx: Context, day: date | None = None) -> WinbackRun:
    """Message opted-in members whose last purchase (or joining, if they never
    bought) is `winback.inactive_days` old by the end of `day` (merchant time).

    The spell is named by the moment it began, so the key
    `winback:<member>:<spell start>` makes it once per spell: a new purchase
    starts a new spell, running the job twice changes nothing.
    """
    day = day or merchant_today(ctx)
    now = ctx.now()
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.zone)
    until = day_end - timedelta(days=ctx.program.winback.inactive_days)
    since = until - timedelta(days=CATCH_UP_DAYS)
    async with ctx.uow(readonly=True) as uow:
        rows = await uow.audiences.lapsed(since=since, until=until)
    bonus = ctx.program.bonuses.winback
    tally = GiftTally()
    for start in range(0, len(rows), CHUNK):
        async with ctx.uow() as uow:
            for row in rows[start : start + CHUNK]:
                spell = row.last_purchase_at or row.joined_at
                await send_gift(
                    ctx, uow, row, tally, key=f"winback:{row.id}:{int(spell.timestamp())}", kind="winback",
                    ledger_kind=Kind.WINBACK, category=MARKETING, bonus=bonus, now=now,
                    extra={"since": spell.isoformat()},
                )
            await uow.commit()
    return WinbackRun(day, tally.queued, tally.credited, tally.already)
