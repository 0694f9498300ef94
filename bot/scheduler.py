"""Runs the scheduled jobs (`bot.jobs.JOBS`) in the bot process at merchant time.

Every `JOBS` entry with a `schedule` becomes an APScheduler cron job in
`TIMEZONE`. A job whose time already passed today when the process starts
runs once at start (jobs are idempotent): a restart at 10:05 still greets
today's birthdays. Every replica runs the scheduler; running a job twice
changes nothing, and the outbox lease makes sure one sender delivers.
Stopping waits for jobs in progress.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.jobs import JOBS, Job

log = logging.getLogger(__name__)
# APScheduler narrates every start, add and stop at INFO; our own lines say what ran.
logging.getLogger("apscheduler").setLevel(logging.WARNING)
STOP_TIMEOUT = 60.0


class JobScheduler:
    def __init__(self, app: Any, jobs: Mapping[str, Job] | None = None) -> None:
        self.app = app
        self.jobs = dict(JOBS if jobs is None else jobs)
        self.zone = app.ctx.zone
        self.scheduler = AsyncIOScheduler(timezone=self.zone)
        self._running: set[asyncio.Task[None]] = set()

    def triggers(self) -> dict[str, CronTrigger]:
        return {
            name: CronTrigger(timezone=self.zone, **job.schedule)
            for name, job in self.jobs.items()
            if job.schedule is not None
        }

    def missed_today(self, now: datetime) -> list[str]:
        """Daily jobs whose time came earlier today (merchant time): run them at start.

        A job without a fixed hour (e.g. every 15 minutes) is left to its next
        turn, which comes soon anyway.
        """
        local = now.astimezone(self.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        missed = []
        for name, trigger in self.triggers().items():
            if "hour" not in (self.jobs[name].schedule or {}):
                continue
            fire = trigger.get_next_fire_time(None, midnight - timedelta(microseconds=1))
            if fire is not None and midnight <= fire <= local:
                missed.append(name)
        return missed

    def start(self, now: datetime | None = None) -> None:
        for name, trigger in self.triggers().items():
            self.scheduler.add_job(
                self.execute, trigger, args=[name], id=name, name=name,
                misfire_grace_time=3600, coalesce=True, max_instances=1,
            )
        self.scheduler.start()
        for name in self.missed_today(now or self.app.ctx.now()):
            log.info("job %s: its time passed today before the bot started; running it now", name)
            self._spawn(name)

    def _spawn(self, name: str) -> None:
        task = asyncio.get_running_loop().create_task(self.execute(name), name=f"job:{name}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def execute(self, name: str) -> None:
        """Run one job (APScheduler calls this as a task on the bot's event loop)."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            summary = await self.jobs[name].run(self.app, None)
        except Exception:
            log.exception("job %s failed", name)
        else:
            log.info("job %s: %s", name, summary)
        finally:
            if task is not None:
                self._running.discard(task)

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._running:
            await asyncio.wait(set(self._running), timeout=STOP_TIMEOUT)

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)
