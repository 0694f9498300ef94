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


@dataclass(frozen=True)
class Job:
    run: Callable[[Any, date | None], Awaitable[str]]
    schedule: dict[str, Any] | None
    description: str


async def deliver_outbox(app: Any, day: date | None) -> str:
    """Send what is due in the outbox now (needs BOT_TOKEN)."""
    await app.sender.recover()
    report = await app.sender.drain()
    return (
        f"sent {report.sent}, blocked {report.blocked}, opted out {report.opted_out}, "
        f"failed {report.failed}, unknown {report.unknown}, retrying later {report.retried}"
    )


async def survey_followups(app: Any, day: date | None) -> str:
    """Post-purchase NPS surveys, and detractor alerts whose comment step lapsed."""
    from bot.services.surveys import run_followups

    report = await run_followups(app.ctx, day)
    return f"asked {report.asked}, alerts {report.alerts}, comment steps closed {report.closed}"


JOBS: dict[str, Job] = {
    "outbox": Job(deliver_outbox, None, "send what is due in the outbox"),
    "surveys": Job(survey_followups, {"minute": "*/15"}, "ask for NPS a few hours after a purchase; overdue alerts"),
}


async def run_job(app: Any, name: str, day: date | None) -> str:
    return await JOBS[name].run(app, day)
