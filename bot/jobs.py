"""Scheduled jobs by name, runnable by hand: `wafa run-job NAME [--date YYYY-MM-DD]`.

Every job is safe to run twice: what it changes carries an idempotency key
built from the job name, the date and the member (SPEC §7). A job's
`schedule` is APScheduler cron fields in merchant time (`TIMEZONE`), e.g.
`{"hour": 10, "minute": 0}`; None means it only runs by hand (or, like the
outbox, continuously in its own loop).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.services.birthdays import run_birthdays
from bot.services.winback import run_winback


@dataclass(frozen=True)
class Job:
    run: Callable[[Any, date | None], Awaitable[str]]
    schedule: dict[str, Any] | None
    description: str


async def deliver_outbox(app: Any, day: date | None) -> str:
    """Send what is due in the outbox now (needs BOT_TOKEN).

    While a running bot holds the sender lease this does nothing: that bot
    delivers, and two senders would break the rate limits.
    """
    sender = app.sender
    held_before = sender.holds_lease  # the demo's own loop: keep its lease
    if not await sender.hold_lease():
        return f"nothing sent: the running bot ({await sender.lease_holder()}) is delivering"
    try:
        await sender.recover()
        report = await sender.drain()
    finally:
        if not held_before:
            await sender.release_lease()
    return (
        f"sent {report.sent}, blocked {report.blocked}, opted out {report.opted_out}, "
        f"failed {report.failed}, unknown {report.unknown}, retrying later {report.retried}, "
        f"waiting for the end of quiet hours {report.deferred}"
    )


def _wake_sender(app: Any) -> None:
    # Only a sender that already exists (a job run from the CLI has no bot token to make one).
    sender = app.__dict__.get("sender")
    if sender is not None:
        sender.wake.set()


async def greet_birthdays(app: Any, day: date | None) -> str:
    """Greet members whose birthday (in their own calendar) is today, with the bonus."""
    result = await run_birthdays(app.ctx, day)
    _wake_sender(app)
    return (
        f"{result.day.isoformat()}: {result.greeted} greeting(s) queued, {result.credited} bonus(es) paid, "
        f"{result.already} already celebrated"
    )


async def win_back(app: Any, day: date | None) -> str:
    """Message members whose inactivity reached `winback.inactive_days`, once per spell."""
    result = await run_winback(app.ctx, day)
    _wake_sender(app)
    return (
        f"{result.day.isoformat()}: {result.messaged} message(s) queued, {result.credited} bonus(es) paid, "
        f"{result.already} already messaged"
    )


async def expiry(app: Any, day: date | None) -> str:
    """Lapsed vouchers (refunds), expired points, expiry reminders, tier periods."""
    from bot.services.claims import expire_claims
    from bot.services.expiry import run_expiry

    report = str(await run_expiry(app.ctx, day))
    expired = await expire_claims(app.ctx)
    return f"{report}; {expired} claim(s) for a phone expired" if expired else report


async def survey_followups(app: Any, day: date | None) -> str:
    """Post-purchase NPS surveys, and detractor alerts whose comment step lapsed."""
    from bot.services.surveys import run_followups

    report = await run_followups(app.ctx, day)
    return f"asked {report.asked}, alerts {report.alerts}, comment steps closed {report.closed}"


async def lapse_stamps(app: Any, day: date | None) -> str:
    """Stamps older than `stamps.expiry_days` leave the card."""
    from bot.services.stamps import expire_stamps

    report = await expire_stamps(app.ctx, day)
    _wake_sender(app)
    return str(report)


async def anniversaries(app: Any, day: date | None) -> str:
    """Membership anniversary milestones (`anniversary_years`), with their points or voucher."""
    from bot.services.recognition import run_anniversaries

    report = await run_anniversaries(app.ctx, day)
    _wake_sender(app)
    return f"{report.day.isoformat()}: {report.granted} anniversary milestone(s) given, {report.already} already given"


async def recovery_followups(app: Any, day: date | None) -> str:
    """Ask members whose alert was acted on `recovery.followup_days` ago whether it was made right."""
    from bot.services.recovery import run_followups

    asked = await run_followups(app.ctx, day)
    _wake_sender(app)
    return f"asked {asked} member(s) whether we made it right"


async def prize_draws(app: Any, day: date | None) -> str:
    """Announce prize draws whose window started; close those whose window ended and draw winners."""
    from bot.services.draws import run_draws

    report = await run_draws(app.ctx, day)
    _wake_sender(app)
    return str(report)


JOBS: dict[str, Job] = {
    "outbox": Job(deliver_outbox, None, "send what is due in the outbox"),
    "expiry": Job(expiry, {"hour": 9, "minute": 30}, "expire vouchers and points, remind, review tiers"),
    "birthdays": Job(greet_birthdays, {"hour": 10, "minute": 0}, "birthday greetings and bonuses, 10:00"),
    "winback": Job(win_back, {"hour": 11, "minute": 0}, "win-back messages to inactive members, 11:00"),
    "surveys": Job(survey_followups, {"minute": "*/15"}, "ask for NPS a few hours after a purchase; overdue alerts"),
    "stamps": Job(lapse_stamps, {"hour": 9, "minute": 40}, "stamps older than stamps.expiry_days lapse"),
    "anniversaries": Job(anniversaries, {"hour": 10, "minute": 30}, "membership anniversary milestones, 10:30"),
    "recovery": Job(recovery_followups, {"minute": 20}, "ask \"did we make it right?\" a week after a recovery"),
    "draws": Job(prize_draws, {"minute": "*/5"}, "open and close prize draws, draw the winners"),
}


async def run_job(app: Any, name: str, day: date | None) -> str:
    return await JOBS[name].run(app, day)
