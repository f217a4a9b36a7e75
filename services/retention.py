"""Retention: processed change events, finished messages, old scheduler runs and the ingest
API's remembered answers are deleted.

Only the bot's own bookkeeping goes. The journal (marks, attendance, final grades, lessons,
homework) and the audit log are never touched here. Deletes go in batches, each its own short
transaction, so that neither the writers nor the sender wait behind a long one and autovacuum
can keep up; the moment they are measured from is the caller's (`now`), never the database's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.notifications import changes

log = logging.getLogger(__name__)

BATCH = 5_000


class Step(Protocol):
    """Deletes one batch of a table's old rows; how many it deleted."""

    def __call__(
        self, connection: AsyncConnection, *, before: datetime, limit: int
    ) -> Awaitable[int]: ...


FINISHED = ("sent", "cancelled", "dead")


@dataclass(frozen=True, slots=True)
class Ages:
    """How long each kind of row is kept after it is finished."""

    events: timedelta = timedelta(days=7)
    notifications: timedelta = timedelta(days=30)
    # Run keys only matter on their own day; kept longer to answer "did it run?".
    scheduler_runs: timedelta = timedelta(days=90)
    # A client retries with the same Idempotency-Key within hours, not days.
    api_requests: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pruned:
    """Rows deleted per table; `complete` is False when the batch budget ran out first."""

    journal_events: int = 0
    notifications: int = 0
    scheduler_runs: int = 0
    api_requests: int = 0
    complete: bool = True


# A finished message's age counts from when it finished: `sent_at` for a sent one; a dead or
# cancelled one has no such stamp, so its last due moment (`not_before`, moved by each retry)
# or its creation, whichever is later. All of these are >= created_at, so the condition on
# created_at is implied and only lets the scan use the (status, created_at) index.
# `= ANY(ARRAY(...))`, not `IN (...)`, which the planner may turn into a scan of the table.
_NOTIFICATIONS = text(
    """
    DELETE FROM notifications WHERE id = ANY(ARRAY(
        SELECT id FROM notifications
        WHERE status = :status AND created_at < :before
          AND coalesce(sent_at, greatest(created_at, not_before)) < :before
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ))
    """
)


def _older_than(table: str, column: str) -> TextClause:
    """Delete a batch of a table's rows stamped before `:before`. The rows are never updated
    and locked until the delete, so their ctid is a stable address for the batch; an index on
    the stamp (migrations 0005, 0007) finds them without scanning the table."""
    return text(
        f"""
        DELETE FROM {table} WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM {table}
            WHERE {column} < :before
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        ))
        """
    )


_SCHEDULER_RUNS = _older_than("scheduler_runs", "done_at")
_API_REQUESTS = _older_than("api_requests", "created_at")


async def _notifications(connection: AsyncConnection, *, before: datetime, limit: int) -> int:
    deleted = 0
    for status in FINISHED:
        result = await connection.execute(
            _NOTIFICATIONS, {"status": status, "before": before, "limit": limit - deleted}
        )
        deleted += int(result.rowcount)
        if deleted >= limit:
            break
    return deleted


def _deleting(statement: TextClause) -> Step:
    async def step(connection: AsyncConnection, *, before: datetime, limit: int) -> int:
        result = await connection.execute(statement, {"before": before, "limit": limit})
        return int(result.rowcount)

    return step


async def prune(
    engine: AsyncEngine,
    *,
    now: datetime,
    ages: Ages | None = None,
    batch: int | None = None,
    max_batches: int | None = None,
) -> Pruned:
    """Delete processed events, finished messages, scheduler runs and remembered API answers
    older than their ages.

    Internal bookkeeping, no person's access involved: only the scheduler's leader calls it.
    Pending messages and unprocessed events stay whatever their age. Each batch of at most
    `batch` rows (default `BATCH`) is one transaction. When `max_batches` batches have run and
    the last one came back full, it stops with `complete=False`; a later call goes on.
    """
    batch = BATCH if batch is None else batch
    if batch < 1:
        raise ValueError("batch must be at least 1")
    ages = ages or Ages()
    steps: tuple[tuple[str, Step, datetime], ...] = (
        ("journal_events", changes.purge_processed, now - ages.events),
        ("notifications", _notifications, now - ages.notifications),
        ("scheduler_runs", _deleting(_SCHEDULER_RUNS), now - ages.scheduler_runs),
        ("api_requests", _deleting(_API_REQUESTS), now - ages.api_requests),
    )
    counts = dict.fromkeys((name for name, _, _ in steps), 0)
    batches = 0
    for name, step, before in steps:
        while True:
            async with engine.begin() as connection:
                deleted = await step(connection, before=before, limit=batch)
            batches += 1
            counts[name] += deleted
            if deleted < batch:
                break  # nothing more of this table: a short batch is the last
            if max_batches is not None and batches >= max_batches:
                log.info("retention: batch budget spent, %s so far", counts)
                return _pruned(counts, complete=False)
    return _pruned(counts, complete=True)


def _pruned(counts: dict[str, int], *, complete: bool) -> Pruned:
    return Pruned(
        journal_events=counts["journal_events"],
        notifications=counts["notifications"],
        scheduler_runs=counts["scheduler_runs"],
        api_requests=counts["api_requests"],
        complete=complete,
    )
