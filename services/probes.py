"""What the health server reads from the database: the delivery queue's and the outbox's state.

One short query, run at each `/readyz` and `/metrics`; counts and ages only, never a row's
content. Ages are measured from the caller's `now`, not the database's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_STATE = text(
    """
    SELECT
        (SELECT count(*) FROM notifications WHERE status = 'pending'),
        (SELECT count(*) FROM notifications WHERE status = 'pending' AND not_before <= :now),
        (SELECT min(not_before) FROM notifications
            WHERE status = 'pending' AND not_before <= :now),
        (SELECT created_at FROM journal_events WHERE processed_at IS NULL ORDER BY id LIMIT 1)
    """
)


@dataclass(frozen=True, slots=True)
class QueueState:
    pending: int
    due: int
    # How long the oldest due message has waited; 0 when none is due.
    oldest_due_seconds: float
    # Age of the oldest journal event not yet turned into messages; 0 when none waits.
    outbox_lag_seconds: float


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


async def queue_state(engine: AsyncEngine, *, now: datetime) -> QueueState:
    """The queue's depth and ages; raises what the driver raises when the database is away."""
    async with engine.connect() as connection:
        pending, due, oldest_due, oldest_event = (
            await connection.execute(_STATE, {"now": now})
        ).one()
    return QueueState(
        pending=pending,
        due=due,
        oldest_due_seconds=_age(oldest_due, now),
        outbox_lag_seconds=_age(oldest_event, now),
    )
