"""Which scheduled run is due when, and the run keys that make each run happen once.

Every run has a key, written in `scheduler_runs` in the same transaction as the messages it
queues: a restart, a retry or a second leader finds the key and does nothing, so nothing is
sent twice. Times are each school's own (SPEC §4). Once a day, from 03:00 in the default zone,
old bookkeeping is deleted (services/retention.py); its key is written once nothing is left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import duties, period_documents, reminders, reports
from services.notifications import digests, fanout
from services.reminders import Run, SchoolRules

RETENTION_JOB = "retention"
WEEKLY_REPORTS_JOB = "weekly_reports"
# The class teacher's daily attendance check (seed 001 §4.2.3), where the profile asks for it.
DAILY_ATTENDANCE_JOB = "daily_attendance"
# Too few marks before a period ends (seed 003 §8.4, seed 004 §5.2): looked for once a day from
# the morning summary's hour; each class and period is told once on its own key.
FEW_MARKS_JOB = "few_marks"
# Period-end documents (services/period_documents.py): looked for once a day from the morning
# summary's hour; each class and period is then claimed on its own key.
PERIOD_DOCUMENTS_JOB = "period_documents"
# Deletes start at night, when little else runs; a day whose night was missed catches up later.
RETENTION_FROM = time(3, 0)

# done_at is the pass's `now` (Python's clock), the moment retention measures ages from.
_CLAIM_RUN = text(
    "INSERT INTO scheduler_runs (job, run_key, done_at) VALUES (:job, :key, :now)"
    " ON CONFLICT DO NOTHING RETURNING job"
)

_RUN_DONE = text(
    "SELECT EXISTS (SELECT 1 FROM scheduler_runs WHERE job = :job AND run_key = :key)"
)

_SCHOOL_DAY = text(
    "SELECT EXISTS (SELECT 1 FROM lessons WHERE school_id = :school AND date = :day)"
)

Work = Callable[[AsyncConnection], Awaitable[int]]


@dataclass(frozen=True)
class Due:
    """A run due at a school's local time: its job and its key."""

    job: str
    key: str


@dataclass(frozen=True)
class Done:
    """A run that happened in this pass and how many messages it queued."""

    job: str
    key: str
    queued: int


def due_runs(school: SchoolRules, now: datetime) -> list[Due]:
    """The runs due at `now` in the school's own time, with their keys."""
    local = now.astimezone(school.zone)
    profile = school.profile
    jobs: list[str] = []
    # A run missed while no process was up happens late, but only in its own part of the
    # day: no "morning" summary in the evening.
    if profile.morning_summary <= local.time() < profile.evening_reminder:
        jobs.append(Run.MORNING.value)
    if local.time() >= profile.evening_reminder:
        jobs.append(Run.EVENING.value)
    # Hours after the lessons (seed 002 §2.7) or the end of the shift (seed 000 §5.5).
    hourly = any(
        rule is not None and rule.intraday
        for rule in (profile.topic_due, profile.attendance_due, profile.homework_due)
    )
    if hourly and local.minute % 15 == 0:
        # Deadlines an hour or two after the lessons pass long before the evening.
        jobs.append(Run.SOON.value)
    if local.weekday() == profile.weekly_report_day and local.time() >= (
        profile.weekly_report_time
    ):
        jobs.append(WEEKLY_REPORTS_JOB)
    if profile.daily_attendance_summary and local.time() >= profile.daily_attendance_time:
        jobs.append(DAILY_ATTENDANCE_JOB)
    if profile.few_marks_alert_days is not None and local.time() >= profile.morning_summary:
        jobs.append(FEW_MARKS_JOB)
    if local.time() >= profile.morning_summary:
        jobs.append(PERIOD_DOCUMENTS_JOB)
    due = []
    for job in jobs:
        key = f"{school.id}:{local.date().isoformat()}"
        if job == Run.SOON.value:
            key += f"T{local:%H:%M}"
        due.append(Due(job, key))
    return due


async def run_due(engine: AsyncEngine, school: SchoolRules, now: datetime) -> AsyncIterator[Done]:
    """Claim and perform every run due at the school, each in its own transaction with its
    key, yielding each once committed; a run whose key is taken (here or in another process)
    is skipped."""
    for run in due_runs(school, now):
        async with engine.begin() as connection:
            claimed = (
                await connection.execute(_CLAIM_RUN, {"job": run.job, "key": run.key, "now": now})
            ).first()
            if claimed is None:
                continue  # this run has happened, here or in another process
            queued = await _work(school, run.job, now)(connection)
        if run.job == PERIOD_DOCUMENTS_JOB and not queued:
            continue  # the day's look found no period's documents due: nothing to tell of
        yield Done(run.job, run.key, queued)


# The jobs that queue a school's messages at their hour: each queues and says how many.
_QUEUE: dict[str, Callable[[AsyncConnection, SchoolRules, datetime], Awaitable[int]]] = {
    WEEKLY_REPORTS_JOB: reports.queue_weekly_reports,
    DAILY_ATTENDANCE_JOB: duties.queue_daily_attendance,
    FEW_MARKS_JOB: duties.queue_few_marks,
    PERIOD_DOCUMENTS_JOB: period_documents.queue_period_documents,
}


def _work(school: SchoolRules, job: str, now: datetime) -> Work:
    if (queue := _QUEUE.get(job)) is not None:

        async def queued(connection: AsyncConnection) -> int:
            return await queue(connection, school, now)

        return queued
    run = Run(job)

    async def remind(connection: AsyncConnection) -> int:
        if run is Run.MORNING:
            # No morning summary on a day without lessons: weekends and holidays.
            day = now.astimezone(school.zone).date()
            if not (
                await connection.execute(_SCHOOL_DAY, {"school": school.id, "day": day})
            ).scalar_one():
                return 0
        planned = await reminders.queue_reminders(connection, school, run, now)
        return planned.messages

    return remind


async def schools(engine: AsyncEngine, *, default_zone: str) -> list[SchoolRules]:
    """Every school with its zone and reminder rules."""
    async with engine.connect() as connection:
        return await reminders.schools(connection, default_zone=default_zone)


async def schedule_digests(engine: AsyncEngine, *, now: datetime, default_zone: str) -> int:
    """Families' Sunday digest; its own key per account and week."""
    async with engine.begin() as connection:
        return await digests.schedule_weekly(connection, now=now, default_zone=default_zone)


async def wake_senders(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(fanout.WAKE_SENDERS)


def retention_key(now: datetime, default_zone: str) -> str | None:
    """The key of the day's retention run once it is due (from 03:00 in the default zone)."""
    local = now.astimezone(ZoneInfo(default_zone))
    if local.time() < RETENTION_FROM:
        return None
    return local.date().isoformat()


async def has_run(engine: AsyncEngine, job: str, key: str) -> bool:
    async with engine.connect() as connection:
        return bool((await connection.execute(_RUN_DONE, {"job": job, "key": key})).scalar_one())


async def record_run(engine: AsyncEngine, job: str, key: str, now: datetime) -> None:
    """Write a run's key after its work, for work that is harmless to do again."""
    async with engine.begin() as connection:
        await connection.execute(_CLAIM_RUN, {"job": job, "key": key, "now": now})
