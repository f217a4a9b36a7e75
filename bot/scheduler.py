"""Scheduled work: teachers' reminders, weekly summaries, families' weekly digest.

APScheduler 3.11 runs one job in every process, once a minute; only the holder of a PostgreSQL
advisory lock does anything, and another process takes the lock over when the holder dies
(its connection closes). Every run has a key, written in `scheduler_runs` in the same
transaction as the messages it queues: a restart, a retry or a second leader finds the key and
does nothing, so nothing is sent twice. Times are each school's own (SPEC §4). Once a day,
from 03:00 in the default zone, the leader also deletes old bookkeeping (services/retention.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.settings import Settings
from services import reminders, reports, retention
from services.metrics import SCHEDULER_FAILURES, SCHEDULER_RUNS
from services.notifications import digests, fanout, leadership
from services.reminders import Run, SchoolRules
from services.zones import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

Work = Callable[[AsyncConnection], Awaitable[int]]

SCHEDULER_LOCK = 0x6A62_7363  # "jbsc": a lock of its own, apart from the sender's

# done_at is the pass's `now` (Python's clock), the moment retention measures ages from.
_CLAIM_RUN = text(
    "INSERT INTO scheduler_runs (job, run_key, done_at) VALUES (:job, :key, :now)"
    " ON CONFLICT DO NOTHING RETURNING job"
)

_RUN_DONE = text(
    "SELECT EXISTS (SELECT 1 FROM scheduler_runs WHERE job = :job AND run_key = :key)"
)

RETENTION_JOB = "retention"
# Deletes start at night, when little else runs; a day whose night was missed catches up later.
RETENTION_FROM = time(3, 0)
# Batches per tick: a large backlog is worked off over several minutes, while reminders and
# digests still run every minute; the day's key is written only when nothing old is left.
RETENTION_BATCHES_PER_TICK = 40

_EVENTS_DAYS: int = Settings.model_fields["retention_events_days"].default
_NOTIFICATIONS_DAYS: int = Settings.model_fields["retention_notifications_days"].default

_SCHOOL_DAY = text(
    "SELECT EXISTS (SELECT 1 FROM lessons WHERE school_id = :school AND date = :day)"
)


@dataclass
class Outcome:
    """What one tick did (for tests and the log)."""

    runs: list[str]
    queued: int
    # What the day's retention run deleted in this tick, when it ran (not in `runs`: those
    # are the runs that queue messages).
    pruned: retention.Pruned | None = None


class Jobs:
    """The scheduled jobs; `tick` is what APScheduler calls every minute."""

    def __init__(
        self,
        engine: AsyncEngine,
        database_url: str,
        *,
        default_zone: str = DEFAULT_TIMEZONE,
        retention_events_days: int = _EVENTS_DAYS,
        retention_notifications_days: int = _NOTIFICATIONS_DAYS,
    ) -> None:
        self.engine = engine
        self.default_zone = default_zone
        self.ages = retention.Ages(
            events=timedelta(days=retention_events_days),
            notifications=timedelta(days=retention_notifications_days),
        )
        self.leadership = leadership.Leadership(database_url, key=SCHEDULER_LOCK)
        # Held while a pass runs, so that closing waits for it instead of cutting it off.
        self._running = asyncio.Lock()

    async def tick(self, now: datetime | None = None) -> Outcome | None:
        """One pass over every school; None if another process is the leader."""
        async with self._running:
            return await self._tick(now)

    async def _tick(self, now: datetime | None) -> Outcome | None:
        if not await self.leadership.try_acquire():
            return None
        now = now or datetime.now(UTC)
        outcome = Outcome([], 0)
        try:
            async with self.engine.begin() as connection:
                # Families' Sunday digest; its own key per account and week.
                if await digests.schedule_weekly(
                    connection, now=now, default_zone=self.default_zone
                ):
                    outcome.queued += 1
            if outcome.queued:
                SCHEDULER_RUNS.labels(job="weekly_digest").inc()
            async with self.engine.connect() as connection:
                schools = await reminders.schools(connection, default_zone=self.default_zone)
            for school in schools:
                try:
                    await self._school(school, now, outcome)
                except (OSError, DBAPIError):
                    raise
                except Exception:
                    # One school's trouble must not stop the others' reminders.
                    SCHEDULER_FAILURES.inc()
                    log.exception("scheduler: school %s failed", school.id)
            if outcome.queued:
                async with self.engine.begin() as connection:
                    await connection.execute(fanout.WAKE_SENDERS)
            await self._retention(now, outcome)
        except (OSError, DBAPIError) as exc:
            SCHEDULER_FAILURES.inc()
            log.warning("scheduler: database unavailable (%s)", type(exc).__name__)
        except Exception:
            SCHEDULER_FAILURES.inc()
            raise  # a bug: APScheduler logs it, and the next minute's pass tries again
        return outcome

    async def _retention(self, now: datetime, outcome: Outcome) -> None:
        local = now.astimezone(ZoneInfo(self.default_zone))
        if local.time() < RETENTION_FROM:
            return
        key = local.date().isoformat()
        async with self.engine.connect() as connection:
            done = (
                await connection.execute(_RUN_DONE, {"job": RETENTION_JOB, "key": key})
            ).scalar_one()
        if done:
            return
        try:
            pruned = await retention.prune(
                self.engine, now=now, ages=self.ages, max_batches=RETENTION_BATCHES_PER_TICK
            )
        except (OSError, DBAPIError):
            raise
        except Exception:
            SCHEDULER_FAILURES.inc()
            log.exception("scheduler: retention failed")
            return
        outcome.pruned = pruned
        log.info(
            "scheduler: retention deleted %s events, %s messages, %s runs%s",
            pruned.journal_events,
            pruned.notifications,
            pruned.scheduler_runs,
            "" if pruned.complete else " (more next minute)",
        )
        if not pruned.complete:
            return
        # Deleting again is harmless, so the key is written after the work: a run cut short
        # by a crash or a restart is simply done again.
        async with self.engine.begin() as connection:
            await connection.execute(_CLAIM_RUN, {"job": RETENTION_JOB, "key": key, "now": now})
        SCHEDULER_RUNS.labels(job=RETENTION_JOB).inc()

    async def _school(self, school: SchoolRules, now: datetime, outcome: Outcome) -> None:
        local = now.astimezone(school.zone)
        profile = school.profile
        due: list[tuple[str, Work]] = []
        # A run missed while no process was up happens late, but only in its own part of
        # the day: no "morning" summary in the evening.
        if profile.morning_summary <= local.time() < profile.evening_reminder:
            due.append((Run.MORNING.value, self._reminders(school, Run.MORNING, now)))
        if local.time() >= profile.evening_reminder:
            due.append((Run.EVENING.value, self._reminders(school, Run.EVENING, now)))
        hourly = any(
            rule.hours is not None
            for rule in (profile.topic_due, profile.attendance_due, profile.homework_due)
        )
        if hourly and local.minute % 15 == 0:
            # Deadlines an hour or two after the lessons pass long before the evening.
            due.append((Run.SOON.value, self._reminders(school, Run.SOON, now)))
        if local.weekday() == profile.weekly_report_day and local.time() >= (
            profile.weekly_report_time
        ):
            due.append(("weekly_reports", self._weekly(school, now)))
        for job, work in due:
            key = f"{school.id}:{local.date().isoformat()}"
            if job == Run.SOON.value:
                key += f"T{local:%H:%M}"
            async with self.engine.begin() as connection:
                claimed = (
                    await connection.execute(_CLAIM_RUN, {"job": job, "key": key, "now": now})
                ).first()
                if claimed is None:
                    continue  # this run has happened, here or in another process
                queued = await work(connection)
            outcome.runs.append(f"{job}:{key}")
            outcome.queued += queued
            SCHEDULER_RUNS.labels(job=job).inc()
            log.info("scheduler: %s for school %s queued %s", job, school.id, queued)

    def _reminders(self, school: SchoolRules, run: Run, now: datetime) -> Work:
        async def work(connection: AsyncConnection) -> int:
            if run is Run.MORNING:
                # No morning summary on a day without lessons: weekends and holidays.
                day = now.astimezone(school.zone).date()
                if not (
                    await connection.execute(_SCHOOL_DAY, {"school": school.id, "day": day})
                ).scalar_one():
                    return 0
            planned = await reminders.queue_reminders(connection, school, run, now)
            return planned.messages

        return work

    def _weekly(self, school: SchoolRules, now: datetime) -> Work:
        async def work(connection: AsyncConnection) -> int:
            return await reports.queue_weekly_reports(connection, school, now)

        return work

    async def close(self) -> None:
        """Let a pass under way finish (each run commits on its own), then step down."""
        acquired = False
        with contextlib.suppress(TimeoutError):
            acquired = await asyncio.wait_for(self._running.acquire(), 30)
        try:
            await self.leadership.release()
        finally:
            if acquired:
                self._running.release()


def start_scheduler(jobs: Jobs) -> AsyncIOScheduler:
    """Declare the jobs and start APScheduler on the running event loop."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        jobs.tick,
        IntervalTrigger(minutes=1),
        id="journal-jobs",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
        misfire_grace_time=60,
    )
    scheduler.start()
    return scheduler
