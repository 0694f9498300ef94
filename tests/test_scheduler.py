"""The scheduler runs every job that has a schedule, at merchant time, in the bot process."""
from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.app import App
from bot.jobs import JOBS, Job
from bot.scheduler import JobScheduler

TEHRAN = ZoneInfo("Asia/Tehran")  # the tests' TIMEZONE


def local_jobs(calls: list[tuple[str, date | None]]) -> dict[str, Job]:
    async def dummy(app: object, day: date | None) -> str:
        calls.append(("dummy", day))
        return "ran"

    async def never(app: object, day: date | None) -> str:
        calls.append(("never", day))
        return "ran"

    # A copy: other features add their jobs to JOBS; the scheduler takes whatever has a schedule.
    return {**JOBS, "dummy": Job(dummy, {"hour": 7, "minute": 15}, "test"), "manual": Job(never, None, "test")}


def test_every_job_with_a_schedule_runs_at_merchant_time(app: App) -> None:
    scheduler = JobScheduler(app, local_jobs([]))
    triggers = scheduler.triggers()
    assert set(triggers) == {name for name, job in JOBS.items() if job.schedule} | {"dummy"}
    assert {"birthdays", "winback"} <= set(triggers) and "outbox" not in triggers and "manual" not in triggers
    morning = datetime(2026, 3, 10, 9, 0, tzinfo=TEHRAN)
    assert triggers["birthdays"].get_next_fire_time(None, morning) == datetime(2026, 3, 10, 10, 0, tzinfo=TEHRAN)
    assert triggers["dummy"].get_next_fire_time(None, morning) == datetime(2026, 3, 11, 7, 15, tzinfo=TEHRAN)


def test_jobs_whose_time_passed_today_run_at_start(app: App) -> None:
    scheduler = JobScheduler(app, local_jobs([]))
    at_1030 = datetime(2026, 3, 10, 10, 30, tzinfo=TEHRAN)
    due_by_1030 = {
        name
        for name, job in JOBS.items()
        if job.schedule and "hour" in job.schedule and (job.schedule["hour"], job.schedule["minute"]) <= (10, 30)
    }  # a job without an hour (e.g. every 15 minutes) just waits for its next turn
    assert "birthdays" in due_by_1030 and "winback" not in due_by_1030  # 10:00 passed, 11:00 not yet
    assert set(scheduler.missed_today(at_1030)) == {"dummy"} | due_by_1030
    assert scheduler.missed_today(datetime(2026, 3, 10, 7, 0, tzinfo=TEHRAN)) == []


async def test_start_runs_missed_jobs_and_stop_waits_for_them(app: App) -> None:
    calls: list[tuple[str, date | None]] = []
    scheduler = JobScheduler(app, local_jobs(calls))
    scheduler.start(now=datetime(2026, 3, 10, 8, 0, tzinfo=TEHRAN))  # 07:15 passed, 10:00 not yet
    assert scheduler.running
    assert {job.id for job in scheduler.scheduler.get_jobs()} == set(scheduler.triggers())
    await scheduler.stop()
    assert not scheduler.running
    assert calls == [("dummy", None)]  # once, as the scheduler would: "today" in merchant time


async def test_the_bot_process_starts_and_stops_the_scheduler(app: App) -> None:
    stop = asyncio.Event()
    tasks = app.start_background(stop)
    try:
        assert app.scheduler.running
        scheduled = {job.id for job in app.scheduler.scheduler.get_jobs()}
        assert scheduled == {name for name, job in JOBS.items() if job.schedule}
    finally:
        stop.set()
        await app.stop_background(tasks)
    assert not app.scheduler.running and all(task.done() for task in tasks)
