"""Reading captured changes: claim journal events in order, wake on NOTIFY, poll as backup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.db.errors import DatabaseErrors
from services.db.session import asyncpg_dsn
from services.metrics import FAILED_EVENTS

log = logging.getLogger(__name__)

CHANNEL = "journal_events"
# How often a listener that cannot listen looks again (seconds).
UNHEARD_POLL = 0.5


@dataclass(frozen=True, slots=True)
class JournalEvent:
    id: int
    kind: str
    table_name: str
    row_id: int
    student_id: int | None
    lesson_id: int | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    created_at: datetime


_CLAIM = text(
    """
    SELECT id, kind, table_name, row_id, student_id, lesson_id, old, new, created_at
    FROM journal_events
    WHERE processed_at IS NULL
    ORDER BY id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)


async def claim_batch(connection: AsyncConnection, *, limit: int = 500) -> list[JournalEvent]:
    """Lock up to `limit` unprocessed events, oldest first, skipping those another consumer holds.

    Call inside a transaction and call `mark_done` in the same one: if the consumer dies before
    the commit, the locks go with it and the events are claimed again.
    """
    rows = (await connection.execute(_CLAIM, {"limit": limit})).all()
    return [JournalEvent(*row) for row in rows]


async def mark_done(
    connection: AsyncConnection,
    ids: Sequence[int],
    *,
    now: datetime | None = None,
    error: str | None = None,
) -> None:
    """Mark events processed at `now` (Python's clock, which retention measures against);
    `error` says why an event could not be turned into notifications."""
    if ids:
        await connection.execute(
            text(
                "UPDATE journal_events SET processed_at = :now, error = :error"
                " WHERE id = ANY(:ids)"
            ),
            {"ids": list(ids), "now": now or datetime.now(UTC), "error": error},
        )


async def pending_count(connection: AsyncConnection) -> int:
    result = await connection.execute(
        text("SELECT count(*) FROM journal_events WHERE processed_at IS NULL")
    )
    return int(result.scalar_one())


# created_at <= processed_at, so the condition on created_at only lets the scan use its index;
# `= ANY(ARRAY(...))`, not `IN (...)`, which the planner may turn into a scan of the table.
_PURGE = text(
    """
    DELETE FROM journal_events WHERE id = ANY(ARRAY(
        SELECT id FROM journal_events
        WHERE created_at < :before AND processed_at < :before
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ))
    """
)


async def purge_processed(connection: AsyncConnection, *, before: datetime, limit: int) -> int:
    """Delete up to `limit` events processed before `before` (one batch); returns how many went.

    Unprocessed events are never touched, however old. `services.retention` calls this, one
    batch per transaction, with a `before` from the caller's clock.
    """
    result = await connection.execute(_PURGE, {"before": before, "limit": limit})
    return int(result.rowcount)


class OutboxListener:
    """LISTENs on the outbox channel on a dedicated connection and reconnects when it drops."""

    def __init__(self, database_url: str, *, channel: str = CHANNEL) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._channel = channel
        self._connection: asyncpg.Connection | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        await self._connect()

    async def _connect(self) -> None:
        try:
            connection = await asyncpg.connect(self._dsn)
            await connection.add_listener(self._channel, self._notified)
        except (OSError, asyncpg.PostgresError) as exc:
            # The poll fallback keeps events flowing; try to listen again on the next wait.
            log.warning("outbox listener cannot connect: %s", type(exc).__name__)
            self._connection = None
            return
        self._connection = connection
        # Anything committed while we were not listening is found by the next claim.
        self._wake.set()

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a poll interval
        """Wait for a notification or `timeout` seconds; True when notified."""
        if self._connection is None or self._connection.is_closed():
            await self._connect()
        if self._connection is None:
            # Not listening (the database is restarting): look again soon rather than sleep
            # through the whole interval while changes may be waiting.
            timeout = min(timeout, UNHEARD_POLL)
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._wake.clear()
        return True

    async def stop(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._connection.close(timeout=5)
        self._connection = None


Handler = Callable[[AsyncConnection, list[JournalEvent]], Awaitable[None]]


async def consume_once(engine: AsyncEngine, handler: Handler, *, limit: int = 500) -> int:
    """Claim one batch, hand it to `handler` within the same transaction, mark it done.

    An event the handler cannot handle (a bug, a row it does not expect) must not stop every
    later one: when the batch fails, its events are handled one by one, each in a savepoint,
    and the ones that still fail are marked processed with their error, logged by id and
    counted. A lost connection is not such a failure: it ends the batch, which is claimed
    again.
    """
    async with engine.begin() as connection:
        events = await claim_batch(connection, limit=limit)
        if not events:
            return 0
        batch = await connection.begin_nested()
        try:
            await handler(connection, events)
        except Exception as exc:
            await batch.rollback()  # a dead connection raises here and ends the batch
            log.warning(
                "outbox: a batch of %d events failed (%s); handling them one by one",
                len(events),
                type(exc).__name__,
            )
            failed = await _one_by_one(connection, handler, events)
        else:
            await batch.commit()
            failed = {}
        now = datetime.now(UTC)
        await mark_done(connection, [e.id for e in events if e.id not in failed], now=now)
        for event_id, error in failed.items():
            await mark_done(connection, [event_id], now=now, error=error)
    return len(events)


async def _one_by_one(
    connection: AsyncConnection, handler: Handler, events: Sequence[JournalEvent]
) -> dict[int, str]:
    """Handle each event in a savepoint of its own; the errors of those that fail, by id."""
    failed: dict[int, str] = {}
    for event in events:
        savepoint = await connection.begin_nested()
        try:
            await handler(connection, [event])
        except Exception as exc:
            await savepoint.rollback()
            # The kind of error only: its text may quote the row's values.
            failed[event.id] = type(exc).__name__
            FAILED_EVENTS.inc()
            log.error(
                "outbox: event %s (%s) could not be handled: %s",
                event.id,
                event.kind,
                type(exc).__name__,
            )
        else:
            await savepoint.commit()
    return failed


async def consume_forever(
    engine: AsyncEngine,
    handler: Handler,
    *,
    listener: OutboxListener,
    stop: asyncio.Event,
    limit: int = 500,
    poll_interval: float = 5.0,
) -> None:
    """Drain the outbox, then sleep until NOTIFY (or the poll interval) until `stop` is set."""
    while not stop.is_set():
        try:
            handled = await consume_once(engine, handler, limit=limit)
        except DatabaseErrors as exc:
            # The database restarted or the network dropped: nothing is lost, retry shortly.
            log.warning("outbox consumer: database unavailable (%s)", type(exc).__name__)
            handled = 0
            await asyncio.sleep(min(poll_interval, 1.0))
        if handled:
            continue
        await listener.wait(poll_interval)
