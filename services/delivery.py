"""The delivery engine: a PostgreSQL queue, Telegram's limits, retries, leadership.

Rows of `notifications` are claimed in batches with FOR UPDATE SKIP LOCKED and a lease, so two
senders never take the same row, and a sender that dies leaves its rows to be claimed again
when the lease runs out. Each message is marked sent right after Telegram accepts it, so a
crash repeats at most the messages that were in flight. SPEC §5 and §7: a global rate limit
(25 messages a second by default) and at most one message a second per chat; on 429 the whole
bot waits `retry_after`; timeouts and 5xx retry with exponential backoff and jitter, then the
message is parked as dead with its error; 403 marks the account inactive and cancels its
pending messages. Without Redis one process sends, elected with an advisory lock; with Redis
every process sends and the limits are shared there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.session import asyncpg_dsn

log = logging.getLogger(__name__)

CHANNEL = "notifications"
# The advisory lock that elects the one sender when there is no Redis.
SENDER_LOCK = 0x6A6F75726E616C  # "journal"


# --- what the transport reports ---------------------------------------------------------------


class DeliveryError(Exception):
    """Raised by the send function; the subclass says what to do with the message."""


class RetryAfter(DeliveryError):
    """429: the whole bot must wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Blocked(DeliveryError):
    """403: the user blocked the bot or deleted the account."""


class Rejected(DeliveryError):
    """400 and the like: sending again will not help."""


class Transient(DeliveryError):
    """Timeouts, network errors, 5xx: try again later."""


class Skip(DeliveryError):
    """Nothing to send any more (the link was revoked, the mark removed)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    account_id: int
    chat_id: int
    student_id: int | None
    category: str
    dedup_key: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


SendFn = Callable[[Outgoing], Awaitable[None]]


# --- limits -------------------------------------------------------------------------------------


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...

    async def pause(self, seconds: float) -> None: ...


class ChatGate(Protocol):
    async def wait_for(self, chat_id: int) -> float:
        """0 when a message may go to the chat now (and takes the slot), else seconds to wait."""
        ...


class LocalRateLimiter:
    """Evenly spaced sends at `rate` a second in this process; a 429 pauses all of them."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next, self._paused_until)
            self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class LocalChatGate:
    def __init__(self, spacing: float = 1.0) -> None:
        self.spacing = spacing
        self._next: dict[int, float] = {}

    async def wait_for(self, chat_id: int) -> float:
        now = time.monotonic()
        ready = self._next.get(chat_id, 0.0)
        if ready > now:
            return ready - now
        self._next[chat_id] = now + self.spacing
        if len(self._next) > 100_000:
            self._next = {c: t for c, t in self._next.items() if t > now}
        return 0.0


# GCRA in one round trip: the theoretical arrival time lives in Redis, shared by every sender.
_GCRA = """
local key = KEYS[1]
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', key) or '0')
local start = math.max(now, tat, pause)
redis.call('SET', key, start + interval, 'PX', math.ceil(interval + 60000))
return tostring(start - now)
"""


class RedisRateLimiter:
    """The same spacing shared by all processes through Redis (times in milliseconds)."""

    def __init__(self, redis: Any, rate: float, *, prefix: str = "journalbot") -> None:
        self.redis = redis
        self.interval_ms = 1000.0 / rate
        self.key = f"{prefix}:rate:tat"
        self.pause_key = f"{prefix}:rate:paused_until"
        self._script = redis.register_script(_GCRA)

    async def reserve(self, now_ms: float) -> float:
        """Take the next free slot; milliseconds to wait for it."""
        return float(
            await self._script(keys=[self.key, self.pause_key], args=[now_ms, self.interval_ms])
        )

    async def acquire(self) -> None:
        wait = await self.reserve(time.time() * 1000)
        if wait > 0:
            await asyncio.sleep(wait / 1000)

    async def pause(self, seconds: float) -> None:
        until = time.time() * 1000 + seconds * 1000
        await self.redis.set(self.pause_key, f"{until:.0f}", px=int(seconds * 1000) + 1000)


class RedisChatGate:
    def __init__(self, redis: Any, spacing: float = 1.0, *, prefix: str = "journalbot") -> None:
        self.redis = redis
        self.spacing_ms = int(spacing * 1000)
        self.prefix = prefix

    async def wait_for(self, chat_id: int) -> float:
        key = f"{self.prefix}:chat:{chat_id}"
        if await self.redis.set(key, "1", nx=True, px=self.spacing_ms):
            return 0.0
        left = await self.redis.pttl(key)
        return max(int(left), 1) / 1000


# --- the queue ----------------------------------------------------------------------------------

_CLAIM = text(
    """
    UPDATE notifications n SET claimed_until = :until
    FROM (
        SELECT id FROM notifications
        WHERE status = 'pending' AND not_before <= :now
          AND (claimed_until IS NULL OR claimed_until < :now)
        ORDER BY not_before, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ) c
    WHERE n.id = c.id
    RETURNING n.id, n.account_id, n.chat_id, n.student_id, n.category, n.dedup_key,
              n.payload, n.attempts, n.created_at
    """
)

# Lists that later events merge into (final grades, digest items) stay open only while
# pending: once sent, the row's key is freed for the next message of the kind.
_SENT = text(
    """
    UPDATE notifications SET status = 'sent', sent_at = :now, claimed_until = NULL,
        attempts = attempts + 1,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id
    """
)

_LATER = text(
    """
    UPDATE notifications SET not_before = :due, claimed_until = NULL,
        attempts = attempts + :counted, last_error = coalesce(:error, last_error)
    WHERE id = :id
    """
)

_DEAD = text(
    """
    UPDATE notifications SET status = 'dead', claimed_until = NULL, attempts = attempts + 1,
        last_error = :error,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id
    """
)

_CANCEL = text(
    """
    UPDATE notifications SET status = 'cancelled', claimed_until = NULL,
        last_error = :error,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id
    """
)

_BLOCKED = text(
    """
    WITH account AS (
        UPDATE tg_accounts SET is_active = false, blocked_at = :now WHERE id = :account
    )
    UPDATE notifications SET status = 'cancelled', claimed_until = NULL,
        last_error = 'blocked by the user',
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE account_id = :account AND status = 'pending'
    """
)


@dataclass(frozen=True, slots=True)
class Retry:
    max_attempts: int = 8
    base: float = 1.0
    max_backoff: float = 600.0

    def backoff(self, attempts: int) -> float:
        """Exponential with full jitter around the middle: 0.5–1.5 × base · 2^(attempts-1)."""
        delay: float = min(self.max_backoff, self.base * 2.0 ** max(0, attempts - 1))
        jitter: float = random.uniform(0.5, 1.5)
        return delay * jitter


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Delivery:
    """Claims due notifications and sends them within the limits."""

    def __init__(
        self,
        engine: AsyncEngine,
        send: SendFn,
        *,
        limiter: RateLimiter,
        gate: ChatGate,
        retry: Retry | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 100,
        concurrency: int = 8,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        # Each outcome is one statement: autocommit makes it one round trip, not three.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.send = send
        self.limiter = limiter
        self.gate = gate
        self.retry = retry or Retry()
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.clock = clock
        self.sent = 0
        # Accounts found blocked during the current batch: their other messages are
        # already cancelled in the table and must not be sent from the batch in hand.
        self._blocked: set[int] = set()

    async def claim(self) -> list[Outgoing]:
        now = self.clock()
        async with self.engine.begin() as connection:
            rows = await connection.execute(
                _CLAIM, {"now": now, "until": now + self.lease, "limit": self.batch}
            )
            return sorted((Outgoing(*row) for row in rows), key=lambda o: o.id)

    async def _update(self, statement: Any, params: dict[str, Any]) -> None:
        async with self._autocommit.connect() as connection:
            await connection.execute(statement, params)

    async def deliver(self, message: Outgoing) -> None:
        """Send one claimed message and record what happened."""
        if message.account_id in self._blocked:
            return
        wait = await self.gate.wait_for(message.chat_id)
        if wait > 0:
            # One message a second per chat: this one goes a little later, others go now.
            due = self.clock() + timedelta(seconds=wait)
            await self._update(_LATER, {"id": message.id, "due": due, "counted": 0, "error": None})
            return
        await self.limiter.acquire()
        try:
            await self.send(message)
        except RetryAfter as exc:
            await self.limiter.pause(exc.seconds)
            due = self.clock() + timedelta(seconds=exc.seconds)
            await self._update(
                _LATER, {"id": message.id, "due": due, "counted": 0, "error": str(exc)}
            )
        except Blocked:
            self._blocked.add(message.account_id)
            await self._update(_BLOCKED, {"account": message.account_id, "now": self.clock()})
        except Skip as exc:
            await self._update(_CANCEL, {"id": message.id, "error": str(exc) or "skipped"})
        except Rejected as exc:
            await self._update(_DEAD, {"id": message.id, "error": str(exc)[:500]})
        except Transient as exc:
            attempts = message.attempts + 1
            if attempts >= self.retry.max_attempts:
                await self._update(_DEAD, {"id": message.id, "error": str(exc)[:500]})
            else:
                due = self.clock() + timedelta(seconds=self.retry.backoff(attempts))
                await self._update(
                    _LATER, {"id": message.id, "due": due, "counted": 1, "error": str(exc)[:500]}
                )
        else:
            await self._update(_SENT, {"id": message.id, "now": self.clock()})
            self.sent += 1

    async def run_once(self) -> int:
        """Claim one batch and deliver it, `concurrency` chats at a time; a chat's own
        messages go one after another, in the order they were queued."""
        messages = await self.claim()
        if not messages:
            return 0
        self._blocked = set()
        by_chat: dict[int, list[Outgoing]] = {}
        for message in messages:
            by_chat.setdefault(message.chat_id, []).append(message)
        prepare = getattr(self.send, "prepare", None)
        if prepare is not None:
            await prepare(messages)
        queue: asyncio.Queue[list[Outgoing]] = asyncio.Queue()
        for group in by_chat.values():
            queue.put_nowait(group)

        async def worker() -> None:
            while not queue.empty():
                for message in queue.get_nowait():
                    await self.deliver(message)

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(by_chat)))))
        return len(messages)

    async def next_due(self) -> float | None:
        """Seconds until the earliest pending message is due (None when the queue is empty)."""
        async with self.engine.connect() as connection:
            due = (
                await connection.execute(
                    text(
                        "SELECT min(greatest(not_before, coalesce(claimed_until, not_before)))"
                        " FROM notifications WHERE status = 'pending'"
                    )
                )
            ).scalar_one()
        if due is None:
            return None
        seconds: float = (due - self.clock()).total_seconds()
        return max(0.0, seconds)

    async def run_forever(
        self, stop: asyncio.Event, wake: Callable[[float], Awaitable[bool]]
    ) -> None:
        """Deliver until `stop`; between batches sleep until the next due message or a wake-up."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
                if handled:
                    continue
                due = await self.next_due()
            except (OSError, DBAPIError, asyncpg.PostgresError) as exc:
                log.warning("delivery: database unavailable (%s)", type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            await wake(min(due, 5.0) if due is not None else 5.0)


class Leadership:
    """Holds PostgreSQL's advisory lock on a connection of its own: the holder is the sender.

    When the holder dies its connection closes and the lock passes to the next process that
    asks.
    """

    def __init__(self, database_url: str, key: int = SENDER_LOCK) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self.key = key
        self._connection: asyncpg.Connection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        try:
            connection = await asyncpg.connect(self._dsn)
        except (OSError, asyncpg.PostgresError):
            return False
        if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._connection.close(timeout=5)
        self._connection = None


# --- operations ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueStatus:
    pending: int
    due: int
    oldest_pending: datetime | None
    dead: int
    sent_last_hour: int
    dead_examples: Sequence[tuple[int, str]]


async def status(engine: AsyncEngine, *, now: datetime | None = None) -> QueueStatus:
    now = now or utc_now()
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
                  AND EXISTS (SELECT 1 FROM tg_accounts a
                              WHERE a.id = notifications.account_id AND a.is_active)
                """
            ),
            {"now": now or utc_now()},
        )
    return int(result.rowcount)
