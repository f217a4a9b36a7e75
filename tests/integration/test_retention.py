"""Retention: old processed events, finished messages and scheduler runs go; nothing else does.

Every timestamp is computed from one `now` taken from Python's clock and passed explicitly,
so these tests hold at any date and hour (and under a moved process clock).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import scheduler
from bot.scheduler import Jobs
from services import reminders, retention
from services.db import models as m
from services.db.session import create_sessionmaker
from services.reminders import SchoolRules
from tests.fixtures.factories import add_mark, mini_school

MSK = ZoneInfo("Europe/Moscow")
ACCOUNT = 7001
JOURNAL = ("lessons", "marks", "attendance", "homework", "final_grades", "audit_log")
DAY = timedelta(days=1)


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), MSK)


async def _event(
    engine: AsyncEngine, *, created: datetime, processed: datetime | None, kind: str = "x"
) -> int:
    async with engine.begin() as connection:
        return int(
            (
                await connection.execute(
                    text(
                        "INSERT INTO journal_events (kind, table_name, row_id, created_at,"
                        " processed_at) VALUES (:kind, 'marks', 0, :created, :processed)"
                        " RETURNING id"
                    ),
                    {"kind": kind, "created": created, "processed": processed},
                )
            ).scalar_one()
        )


async def _notification(
    engine: AsyncEngine,
    key: str,
    *,
    status: str,
    created: datetime,
    not_before: datetime | None = None,
    sent: datetime | None = None,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO notifications (account_id, chat_id, category, dedup_key, status,"
                " created_at, not_before, sent_at)"
                " VALUES (:account, :account, 'mark', :key, :status, :created, :due, :sent)"
            ),
            {
                "account": ACCOUNT,
                "key": key,
                "status": status,
                "created": created,
                "due": not_before or created,
                "sent": sent,
            },
        )


async def _run(engine: AsyncEngine, job: str, key: str, *, done: datetime) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO scheduler_runs (job, run_key, done_at) VALUES (:j, :k, :d)"),
            {"j": job, "k": key, "d": done},
        )


async def _column(engine: AsyncEngine, sql: str) -> set[Any]:
    async with engine.connect() as connection:
        return set((await connection.execute(text(sql))).scalars())


async def _counts(engine: AsyncEngine, tables: tuple[str, ...]) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table: int(
                (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            )
            for table in tables
        }


async def _journal_and_account(engine: AsyncEngine, created: datetime) -> None:
    """A school with a mark, an absence, homework, a final grade and an audit row, all old."""
    async with create_sessionmaker(engine)() as session:
        school = await mini_school(session)
        session.add(m.Account(id=ACCOUNT, channel_user_id=ACCOUNT, chat_id=ACCOUNT, language="ru"))
        await add_mark(
            session, student_id=school.student_id, lesson_id=school.lesson_id, value="5"
        )
        session.add_all(
            [
                m.Attendance(student_id=school.student_id, lesson_id=school.lesson_id),
                m.Homework(lesson_id=school.lesson_id, due_date=date(2026, 11, 25), text="№ 1"),
                m.FinalGrade(
                    student_id=school.student_id,
                    subject_id=school.subject_id,
                    period_id=school.period_id,
                    value="4",
                ),
                m.AuditEntry(at=created, action="linked", account_id=ACCOUNT),
            ]
        )
        await session.commit()


async def _api_requests(engine: AsyncEngine, created: dict[str, datetime]) -> None:
    """Answers the ingest API remembers under these Idempotency-Keys, made at these moments."""
    async with engine.begin() as connection:
        token = (
            await connection.execute(
                text(
                    "INSERT INTO api_tokens (school_id, name, token_hash)"
                    " SELECT id, 'journal', sha256(convert_to(id::text, 'UTF8')) FROM schools"
                    " ORDER BY id LIMIT 1 RETURNING id"
                )
            )
        ).scalar_one()
        for key, at in created.items():
            await connection.execute(
                text(
                    "INSERT INTO api_requests"
                    " (token_id, idempotency_key, request_hash, status, body, created_at)"
                    " VALUES (:t, :k, :h, 200, '{}', :at)"
                ),
                {"t": token, "k": key, "h": hashlib.sha256(key.encode()).digest(), "at": at},
            )


async def test_retention_deletes_only_what_is_old_and_finished(
    committing_engine: AsyncEngine,
) -> None:
    now = datetime.now(UTC)
    engine = committing_engine
    await _journal_and_account(engine, now - 400 * DAY)
    journal_before = await _counts(engine, JOURNAL)
    assert all(journal_before.values()), journal_before
    # Change capture stamped the journal's own events; they are not processed yet.
    unprocessed_by_triggers = await _column(
        engine, "SELECT id FROM journal_events WHERE processed_at IS NULL"
    )
    assert unprocessed_by_triggers

    old_processed = await _event(engine, created=now - 9 * DAY, processed=now - 8 * DAY)
    kept_events = {
        await _event(engine, created=now - 60 * DAY, processed=None),  # stuck, never lost
        await _event(engine, created=now - 6 * DAY, processed=now - 6 * DAY),
        await _event(engine, created=now - 10 * DAY, processed=now - DAY),  # processed lately
    }

    await _notification(
        engine, "sent-old", status="sent", created=now - 32 * DAY, sent=now - 31 * DAY
    )
    # Created long ago but sent yesterday (held in quiet hours, retried): its age is the send.
    await _notification(
        engine, "sent-lately", status="sent", created=now - 40 * DAY, sent=now - DAY
    )
    await _notification(
        engine, "dead-old", status="dead", created=now - 40 * DAY, not_before=now - 35 * DAY
    )
    # Its last retry was two days ago.
    await _notification(
        engine, "dead-lately", status="dead", created=now - 40 * DAY, not_before=now - 2 * DAY
    )
    await _notification(engine, "cancelled-old", status="cancelled", created=now - 31 * DAY)
    await _notification(engine, "cancelled-fresh", status="cancelled", created=now - DAY)
    # A digest queued long ago for a moment still ahead, then cancelled.
    await _notification(
        engine, "cancelled-ahead", status="cancelled", created=now - 40 * DAY, not_before=now + DAY
    )
    await _notification(engine, "pending-old", status="pending", created=now - 100 * DAY)

    await _run(engine, "evening", "1:old", done=now - 91 * DAY)
    await _run(engine, "evening", "1:recent", done=now - 89 * DAY)

    await _api_requests(engine, {"key-old": now - 2 * DAY, "key-fresh": now - DAY / 2})

    pruned = await retention.prune(engine, now=now)

    assert pruned == retention.Pruned(
        journal_events=1, notifications=3, scheduler_runs=1, api_requests=1, complete=True
    )
    events = await _column(engine, "SELECT id FROM journal_events")
    assert old_processed not in events
    assert events == kept_events | unprocessed_by_triggers
    assert await _column(engine, "SELECT dedup_key FROM notifications") == {
        "sent-lately",
        "dead-lately",
        "cancelled-fresh",
        "cancelled-ahead",
        "pending-old",
    }
    assert await _column(engine, "SELECT run_key FROM scheduler_runs") == {"1:recent"}
    assert await _column(engine, "SELECT idempotency_key FROM api_requests") == {"key-fresh"}
    assert await _counts(engine, JOURNAL) == journal_before

    # Shorter ages take more, but still never a pending message or an unprocessed event.
    shorter = retention.Ages(events=DAY / 2, notifications=DAY / 2, scheduler_runs=DAY)
    again = await retention.prune(engine, now=now, ages=shorter)
    assert again.journal_events == 2 and again.notifications == 3
    assert await _column(engine, "SELECT dedup_key FROM notifications") == {
        "cancelled-ahead",
        "pending-old",
    }
    assert await _column(engine, "SELECT processed_at FROM journal_events") == {None}
    assert await _counts(engine, JOURNAL) == journal_before


async def test_retention_goes_in_batches_and_resumes_after_its_budget(
    committing_engine: AsyncEngine,
) -> None:
    now = datetime.now(UTC)
    engine = committing_engine
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO accounts (id, channel_user_id, chat_id) VALUES (:a, :a, :a)"),
            {"a": ACCOUNT},
        )
    for n in range(5):
        await _event(engine, created=now - 20 * DAY, processed=now - 20 * DAY + n * DAY / 10)
    for n in range(3):
        await _notification(
            engine, f"sent-{n}", status="sent", created=now - 50 * DAY, sent=now - 40 * DAY
        )
    await _notification(engine, "dead", status="dead", created=now - 50 * DAY)

    first = await retention.prune(engine, now=now, batch=2, max_batches=2)
    assert first == retention.Pruned(journal_events=4, complete=False)
    second = await retention.prune(engine, now=now, batch=2, max_batches=2)
    # The fifth event (a short batch ends the table), then sent, sent: the budget is spent.
    assert second == retention.Pruned(journal_events=1, notifications=2, complete=False)
    third = await retention.prune(engine, now=now, batch=2)
    assert third == retention.Pruned(notifications=2, complete=True)
    assert await _counts(engine, ("journal_events", "notifications")) == {
        "journal_events": 0,
        "notifications": 0,
    }
    with pytest.raises(ValueError, match="batch"):
        await retention.prune(engine, now=now, batch=0)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@asynccontextmanager
async def _jobs(engine: AsyncEngine, **retention_days: Any) -> AsyncIterator[Jobs]:
    """The scheduler's jobs over the engine's database, closed on the way out."""
    jobs = Jobs(engine, engine.url.render_as_string(hide_password=False), **retention_days)
    try:
        yield jobs
    finally:
        await jobs.close()


async def test_the_scheduler_prunes_once_a_day_from_three_at_night(
    committing_engine: AsyncEngine,
) -> None:
    engine = committing_engine
    day = datetime.now(MSK).date()
    runs_before = _sample("journalbot_scheduler_runs_total", job="retention")
    async with _jobs(engine, retention_events_days=2, retention_notifications_days=3) as jobs:
        night = _moment(day, 2, 59)
        await _event(engine, created=night - 5 * DAY, processed=night - 5 * DAY)
        before_three = await jobs.tick(night)
        assert before_three is not None and before_three.pruned is None
        assert len(await _column(engine, "SELECT id FROM journal_events")) == 1

        three = _moment(day, 3, 10)
        first = await jobs.tick(three)
        assert first is not None and first.pruned is not None
        assert first.pruned.journal_events == 1 and first.pruned.complete
        assert first.runs == []  # `runs` are the runs that queue messages
        assert await _column(
            engine, f"SELECT run_key FROM scheduler_runs WHERE job = '{scheduler.RETENTION_JOB}'"
        ) == {day.isoformat()}
        assert _sample("journalbot_scheduler_runs_total", job="retention") == runs_before + 1

        # The day's run has happened: an old row written now waits for tomorrow.
        late = await _event(engine, created=three - 5 * DAY, processed=three - 3 * DAY)
        again = await jobs.tick(three + timedelta(minutes=1))
        evening = await jobs.tick(_moment(day, 22, 0))
        assert again is not None and again.pruned is None
        assert evening is not None and evening.pruned is None
        assert await _column(engine, "SELECT id FROM journal_events") == {late}

        # The next day's first tick after three (even a late one) deletes it.
        tomorrow = await jobs.tick(_moment(day + DAY, 11, 30))
        assert tomorrow is not None and tomorrow.pruned is not None
        assert tomorrow.pruned.journal_events == 1
        assert await _column(engine, "SELECT id FROM journal_events") == set()
        assert _sample("journalbot_scheduler_runs_total", job="retention") == runs_before + 2


async def test_the_scheduler_keeps_its_budget_and_finishes_on_later_ticks(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = committing_engine
    monkeypatch.setattr(scheduler, "RETENTION_BATCHES_PER_TICK", 1)
    monkeypatch.setattr(retention, "BATCH", 1)
    three = _moment(datetime.now(MSK).date(), 3, 5)
    for _ in range(2):
        await _event(engine, created=three - 30 * DAY, processed=three - 30 * DAY)
    async with _jobs(engine) as jobs:
        deleted = []
        for minute in range(4):
            outcome = await jobs.tick(three + timedelta(minutes=minute))
            assert outcome is not None
            deleted.append(outcome.pruned and outcome.pruned.journal_events)
        # One row a tick, then a tick that finds nothing more and writes the day's key.
        assert deleted == [1, 1, 0, None]


async def test_scheduler_failures_are_counted(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = _sample("journalbot_scheduler_failures_total")

    class Broken:
        id = 1

    async def one_school(*_: object, **__: object) -> list[Broken]:
        return [Broken()]

    async def failing_school(*_: object) -> None:
        raise RuntimeError("a bug in one school's run")

    async def database_gone(*_: object, **__: object) -> list[SchoolRules]:
        raise OSError("connection refused")

    monkeypatch.setattr(reminders, "schools", one_school)
    async with _jobs(committing_engine) as jobs:
        monkeypatch.setattr(jobs, "_school", failing_school)
        failed_school = await jobs.tick(_moment(datetime.now(MSK).date(), 1, 0))
        assert failed_school is not None and failed_school.runs == []
        assert _sample("journalbot_scheduler_failures_total") == failures + 1

        monkeypatch.setattr(reminders, "schools", database_gone)
        failed_pass = await jobs.tick(_moment(datetime.now(MSK).date(), 1, 1))
        assert failed_pass is not None
        assert _sample("journalbot_scheduler_failures_total") == failures + 2
