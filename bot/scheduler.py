"""Scheduled work wired to APScheduler: teachers' reminders, weekly summaries, families' weekly
digest and the daily retention run.

APScheduler 3.11 runs one job in every process, once a minute; only the holder of a PostgreSQL
advisory lock does anything, and another process takes the lock over when the holder dies
(its connection closes). What is due when, and the run keys that make each run happen once,
are services/scheduling.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.settings import Settings
from services import retention, scheduling
from services.db.errors import DatabaseErrors
from services.db.session import Engine
from services.metrics import SCHEDULER_FAILURES, SCHEDULER_RUNS
from services.notifications import leadership
from services.reminders import SchoolRules
from services.scheduling import RETENTION_JOB
from services.zones import DEFAULT_TIMEZONE

__all__ = ["RETENTION_JOB", "Jobs", "Outcome", "start_scheduler"]

log = logging.getLogger(__name__)

SCHEDULER_LOCK = 0x6A62_7363  # "jbsc": a lock of its own, apart from the sender's

# Batches per tick: a large backlog is worked off over several minutes, while reminders and
# digests still run every minute; the day's key is written only when nothing old is left.
RETENTION_BATCHES_PER_TICK = 40

_EVENTS_DAYS: int = Settings.model_fields["retention_events_days"].default
_NOTIFICATIONS_DAYS: int = Settings.model_fields["retention_notifications_days"].default


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
        engine: Engine,
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
            if await scheduling.schedule_digests(
                self.engine, now=now, default_zone=self.default_zone
            ):
                outcome.queued += 1
                SCHEDULER_RUNS.labels(job="weekly_digest").inc()
            schools = await scheduling.schools(self.engine, default_zone=self.default_zone)
            for school in schools:
                try:
                    await self._school(school, now, outcome)
                except DatabaseErrors:
                    raise
                except Exception:
                    # One school's trouble must not stop the others' reminders.
                    SCHEDULER_FAILURES.inc()
                    log.exception("scheduler: school %s failed", school.id)
            if outcome.queued:
                await scheduling.wake_senders(self.engine)
            await self._retention(now, outcome)
        except DatabaseErrors as exc:
            SCHEDULER_FAILURES.inc()
            log.warning("scheduler: database unavailable (%s)", type(exc).__name__)
        except Exception:
            SCHEDULER_FAILURES.inc()
            raise  # a bug: APScheduler logs it, and the next minute's pass tries again
        return outcome

    async def _retention(self, now: datetime, outcome: Outcome) -> None:
        key = scheduling.retention_key(now, self.default_zone)
        if key is None or await scheduling.has_run(self.engine, RETENTION_JOB, key):
            return
        try:
            pruned = await retention.prune(
                self.engine, now=now, ages=self.ages, max_batches=RETENTION_BATCHES_PER_TICK
            )
        except DatabaseErrors:
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
        await scheduling.record_run(self.engine, RETENTION_JOB, key, now)
        SCHEDULER_RUNS.labels(job=RETENTION_JOB).inc()

    async def _school(self, school: SchoolRules, now: datetime, outcome: Outcome) -> None:
        async for run in scheduling.run_due(self.engine, school, now):
            outcome.runs.append(f"{run.job}:{run.key}")
            outcome.queued += run.queued
            SCHEDULER_RUNS.labels(job=run.job).inc()
            log.info("scheduler: %s for school %s queued %s", run.job, school.id, run.queued)

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
