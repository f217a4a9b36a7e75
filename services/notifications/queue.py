"""The delivery queue, `notifications`: a queued message, the statements that claim messages
and record what became of them, and the operators' view (status, retry-dead).

Rows are claimed in batches with FOR UPDATE SKIP LOCKED and a lease, so two senders never
take the same row, and a sender that dies leaves its rows to be claimed again when the lease
runs out. Every outcome statement is guarded by the row's state, so writing it twice (after
the database came back) changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.notifications.payloads import DocumentPayload, Payload, decode

CHANNEL = "notifications"
# Where the stored payload stands in a claimed row (and in `Outgoing`'s fields).
_PAYLOAD = 7


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    account_id: int
    # The account's messenger: which transport sends it.
    channel: str
    chat_id: int
    student_id: int | None
    category: str
    dedup_key: str
    payload: Payload
    attempts: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Outgoing:
        """A claimed row (as CLAIM returns it), its payload decoded: pydantic's
        ValidationError for a payload of no known kind."""
        values = list(row)
        values[_PAYLOAD] = decode(values[_PAYLOAD])
        return cls(*values)

    @property
    def method(self) -> str:
        """The Bot API method it goes by: the deputy's weekly report and the period's summary
        sheets are documents (XLSX, PDF)."""
        return "sendDocument" if isinstance(self.payload, DocumentPayload) else "sendMessage"


def decode_claimed(rows: Iterable[Sequence[Any]]) -> tuple[list[Outgoing], list[int]]:
    """Claimed rows as messages, in the order queued, and the ids of those whose payload
    reads as no known kind (a bug or a row of another version): they can only go dead."""
    messages: list[Outgoing] = []
    unreadable: list[int] = []
    for row in rows:
        try:
            messages.append(Outgoing.from_row(row))
        except ValidationError:
            unreadable.append(int(row[0]))
    return sorted(messages, key=lambda o: o.id), unreadable


SendFn = Callable[[Outgoing], Awaitable[None]]


CLAIM = text(
    """
    UPDATE notifications n SET claimed_until = :until
    FROM (
        SELECT id FROM notifications
        WHERE status = 'pending' AND not_before <= :now
          AND (claimed_until IS NULL OR claimed_until < :now)
        ORDER BY not_before, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ) c, accounts a
    WHERE n.id = c.id AND a.id = n.account_id
    RETURNING n.id, n.account_id, a.channel, n.chat_id, n.student_id, n.category, n.dedup_key,
              n.payload, n.attempts, n.created_at
    """
)

# Lists that later events merge into (final grades, digest items) stay open only while
# pending: once sent, the row's key is freed for the next message of the kind. Every outcome
# applies once (to a pending row; a retry to a claimed one), so that writing it again after a
# lost connection, not knowing whether it was committed, changes nothing.
SENT = text(
    """
    UPDATE notifications SET status = 'sent', sent_at = :now, claimed_until = NULL,
        attempts = attempts + 1,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id AND status = 'pending'
    """
)

LATER = text(
    """
    UPDATE notifications SET not_before = :due, claimed_until = NULL,
        attempts = attempts + :counted, last_error = coalesce(:error, last_error)
    WHERE id = :id AND status = 'pending' AND claimed_until IS NOT NULL
    """
)

DEAD = text(
    """
    UPDATE notifications SET status = 'dead', claimed_until = NULL, attempts = attempts + 1,
        last_error = :error,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id AND status = 'pending'
    """
)

CANCEL = text(
    """
    UPDATE notifications SET status = 'cancelled', claimed_until = NULL,
        last_error = :error,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id AND status = 'pending'
    """
)

BLOCKED = text(
    """
    WITH account AS (
        UPDATE accounts SET is_active = false, blocked_at = :now WHERE id = :account
    )
    UPDATE notifications SET status = 'cancelled', claimed_until = NULL,
        last_error = 'blocked by the user',
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE account_id = :account AND status = 'pending'
    """
)


# Messages of a batch that were not sent (the batch stopped): back to the queue at once, unless
# the lease has passed and another sender has claimed them since (their lease is not ours).
RELEASE = text(
    """
    UPDATE notifications SET claimed_until = NULL
    WHERE id = ANY(:ids) AND status = 'pending' AND claimed_until = :until
    """
)

PING = text("SELECT 1")

# Messages that the account's quiet hours held (due exactly when they ended), released when
# the quiet hours are turned off or narrowed: due at `due` instead, and the senders woken.
# A retry's backoff, a digest's evening and a mark's correction hold are not quiet hours and
# keep their time.
_RELEASE_HELD = text(
    """
    UPDATE notifications SET not_before = :due
    WHERE account_id = :account AND status = 'pending' AND attempts = 0
      AND claimed_until IS NULL
      AND not_before > :due
      AND not_before BETWEEN CAST(:held AS timestamptz) - interval '1 second' AND :held
      AND payload ->> 'kind' <> 'digest'
    """
)


async def release_held(
    connection: AsyncConnection, account_id: int, *, held_until: datetime, due: datetime
) -> int:
    """Bring forward to `due` what waits for the end of quiet hours at `held_until`; how many
    messages. In the caller's transaction; the senders hear of it when it commits."""
    result = await connection.execute(
        _RELEASE_HELD, {"account": account_id, "held": held_until, "due": due}
    )
    if result.rowcount:
        await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class QueueStatus:
    pending: int
    due: int
    oldest_pending: datetime | None
    dead: int
    sent_last_hour: int
    dead_examples: Sequence[tuple[int, str]]


async def status(engine: AsyncEngine, *, now: datetime | None = None) -> QueueStatus:
    now = now or datetime.now(UTC)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    """
                    SELECT count(*) FILTER (WHERE status = 'pending'),
                           count(*) FILTER (WHERE status = 'pending' AND not_before <= :now),
                           min(created_at) FILTER (WHERE status = 'pending'),
                           count(*) FILTER (WHERE status = 'dead'),
                           count(*) FILTER (WHERE status = 'sent'
                                            AND sent_at > CAST(:now AS timestamptz)
                                                          - interval '1 hour')
                    FROM notifications
                    """
                ),
                {"now": now},
            )
        ).one()
        examples = (
            await connection.execute(
                text(
                    "SELECT id, coalesce(last_error, '') FROM notifications"
                    " WHERE status = 'dead' ORDER BY id DESC LIMIT 5"
                )
            )
        ).all()
    return QueueStatus(row[0], row[1], row[2], row[3], row[4], [(i, e) for i, e in examples])


async def retry_dead(engine: AsyncEngine, *, now: datetime | None = None) -> int:
    """Put every dead message back in the queue with its attempts reset."""
    async with engine.begin() as connection:
        result = await connection.execute(
            text(
                """
                UPDATE notifications SET status = 'pending', attempts = 0, not_before = :now,
                    claimed_until = NULL
                WHERE status = 'dead'
                  AND EXISTS (SELECT 1 FROM accounts a
                              WHERE a.id = notifications.account_id AND a.is_active)
                """
            ),
            {"now": now or datetime.now(UTC)},
        )
    return int(result.rowcount)
