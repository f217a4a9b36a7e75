"""The delivery engine: a PostgreSQL queue, Telegram's limits, retries, leadership.

Rows of `notifications` are claimed in batches with FOR UPDATE SKIP LOCKED and a lease, so two
senders never take the same row, and a sender that dies leaves its rows to be claimed again
when the lease runs out. Each message is marked sent right after Telegram accepts it, so a
crash repeats at most the messages that were in flight. SPEC §5 and §7: a global rate limit
(25 messages a second by default) and at most one message a second per chat; on 429 the whole
bot waits `retry_after`, then one probe goes before the others; timeouts, 5xx, answers never
seen before and errors in composing a text retry with exponential backoff and jitter, then the
message is parked as dead with its error; 403 marks the account inactive and cancels its
pending messages. An outcome that cannot be written because the database is away is kept and
written when it is back, and the rest of the batch waits. Without Redis one process sends,
elected with an advisory lock checked before every batch; with Redis every process sends and
the limits are shared there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.session import asyncpg_dsn
from services.metrics import MESSAGES

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

    @property
    def method(self) -> str:
        """The Bot API method it goes by: the deputy's weekly report is an XLSX document."""
        return "sendDocument" if self.payload.get("kind") == "deputy_week" else "sendMessage"


SendFn = Callable[[Outgoing], Awaitable[None]]


# --- limits -------------------------------------------------------------------------------------


class RateLimiter(Protocol):
    """Telegram's global limit, shared by the sends of this process (or of every process).

    After a 429 and its `retry_after`, the first send is a probe that goes alone: `acquire`
    returns True for it, and its sender reports with `probe_succeeded` (any answer but 429),
    `pause` (429 again) or `probe_skipped` (it did not go out after all).
    """

    async def acquire(self) -> bool: ...

    async def pause(self, seconds: float) -> None: ...

    async def probe_succeeded(self) -> None: ...

    async def probe_skipped(self) -> None: ...


class ChatGate(Protocol):
    async def wait_for(self, chat_id: int) -> float:
        """0 when a message may go to the chat now (and takes the slot), else seconds to wait."""
        ...


class LocalRateLimiter:
    """Evenly spaced sends at `rate` a second in this process; a 429 pauses all of them, and
    the first send after the pause goes alone."""

    def __init__(self, rate: float, *, probe_timeout: float = 30.0) -> None:
        self.interval = 1.0 / rate
        # A probe that never reports (its task was cancelled) stops holding the others then.
        self.probe_timeout = probe_timeout
        self._next = 0.0
        self._paused_until = 0.0
        self._probe_due = False
        self._probe_out_until = 0.0
        self._answered = asyncio.Event()
        self._lock = asyncio.Lock()

    async def acquire(self) -> bool:
        while True:
            async with self._lock:
                now = time.monotonic()
                probing = self._probe_out_until > now
                if not probing:
                    if self._probe_out_until:
                        # The probe went unanswered: the next send probes again.
                        self._probe_out_until = 0.0
                        self._probe_due = True
                    slot = max(now, self._next, self._paused_until)
                    self._next = slot + self.interval
                    probe = self._probe_due
                    if probe:
                        self._probe_due = False
                        self._probe_out_until = slot + self.probe_timeout
                        self._answered.clear()
            if probing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._answered.wait(), self._probe_out_until - now)
                continue
            if slot > now:
                await asyncio.sleep(slot - now)
                if self._paused_until > slot:
                    continue  # a 429 came while this send waited for its slot
            return probe

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._probe_due = True
        self._probe_out_until = 0.0
        self._answered.set()

    async def probe_succeeded(self) -> None:
        self._probe_out_until = 0.0
        self._answered.set()

    async def probe_skipped(self) -> None:
        self._probe_out_until = 0.0
        self._probe_due = True
        self._answered.set()


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
# While a probe is out nobody gets a slot ({-1, ms left}); the first slot after a pause is
# the probe ({wait, 1}), marked with its holder's token.
_GCRA = """
if redis.call('EXISTS', KEYS[3]) == 1 then
    return {'-1', tostring(redis.call('PTTL', KEYS[3]))}
end
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, tat, pause)
redis.call('SET', KEYS[1], start + interval, 'PX', math.ceil(start - now + interval + 60000))
local probe = 0
if redis.call('DEL', KEYS[4]) == 1 then
    probe = 1
    redis.call('SET', KEYS[3], ARGV[4], 'PX', math.ceil(start - now + tonumber(ARGV[3])))
end
return {tostring(start - now), tostring(probe)}
"""

# A 429: every process waits until `until`, then one probe goes (any probe out has failed).
_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
return 1
"""

# The probe's answer: the holder lets the others go (and, when it did not send, hands the
# probe on to the next send).
_PROBE_DONE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
if ARGV[2] == '1' then
    redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
end
return 1
"""


class RedisRateLimiter:
    """The same spacing shared by all processes through Redis (times in milliseconds)."""

    def __init__(
        self,
        redis: Any,
        rate: float,
        *,
        prefix: str = "journalbot",
        probe_timeout: float = 30.0,
        poll: float = 0.05,
    ) -> None:
        self.redis = redis
        self.interval_ms = 1000.0 / rate
        self.probe_ms = probe_timeout * 1000
        self.poll = poll
        self.key = f"{prefix}:rate:tat"
        self.pause_key = f"{prefix}:rate:paused_until"
        self.probe_key = f"{prefix}:rate:probe"
        self.probe_due_key = f"{prefix}:rate:probe_due"
        self._token = uuid.uuid4().hex
        self._script = redis.register_script(_GCRA)
        self._pause_script = redis.register_script(_PAUSE)
        self._probe_done_script = redis.register_script(_PROBE_DONE)

    async def _reserve(self, now_ms: float) -> tuple[float, bool | None]:
        """Milliseconds to wait and whether the slot is the probe; None while a probe is out
        (nothing reserved, ask again later)."""
        wait, probe = await self._script(
            keys=[self.key, self.pause_key, self.probe_key, self.probe_due_key],
            args=[now_ms, self.interval_ms, self.probe_ms, self._token],
        )
        if float(wait) < 0:
            return float(probe), None
        return float(wait), probe in (b"1", "1")

    async def reserve(self, now_ms: float) -> float:
        """Take the next free slot; milliseconds to wait for it (or to ask again, while a
        probe is out)."""
        wait, probe = await self._reserve(now_ms)
        return min(wait, self.poll * 1000) if probe is None else wait

    async def acquire(self) -> bool:
        while True:
            now_ms = time.time() * 1000
            wait, probe = await self._reserve(now_ms)
            if probe is None:
                await asyncio.sleep(self.poll)
                continue
            if wait <= 0:
                return probe
            await asyncio.sleep(wait / 1000)
            paused_until = float(await self.redis.get(self.pause_key) or 0)
            if paused_until <= now_ms + wait:
                return probe
            # A 429 came while this send waited for its slot: take a slot after the pause.

    async def pause(self, seconds: float) -> None:
        until = time.time() * 1000 + seconds * 1000
        await self._pause_script(
            keys=[self.pause_key, self.probe_key, self.probe_due_key],
            args=[f"{until:.0f}", int(seconds * 1000) + 1000, int(seconds * 1000) + 600_000],
        )

    async def _probe_done(self, *, hand_on: bool) -> None:
        await self._probe_done_script(
            keys=[self.probe_key, self.probe_due_key],
            args=[self._token, "1" if hand_on else "0", 600_000],
        )

    async def probe_succeeded(self) -> None:
        await self._probe_done(hand_on=False)

    async def probe_skipped(self) -> None:
        await self._probe_done(hand_on=True)


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
# pending: once sent, the row's key is freed for the next message of the kind. Every outcome
# applies once (to a pending row; a retry to a claimed one), so that writing it again after a
# lost connection, not knowing whether it was committed, changes nothing.
_SENT = text(
    """
    UPDATE notifications SET status = 'sent', sent_at = :now, claimed_until = NULL,
        attempts = attempts + 1,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id AND status = 'pending'
    """
)

_LATER = text(
    """
    UPDATE notifications SET not_before = :due, claimed_until = NULL,
        attempts = attempts + :counted, last_error = coalesce(:error, last_error)
    WHERE id = :id AND status = 'pending' AND claimed_until IS NOT NULL
    """
)

_DEAD = text(
    """
    UPDATE notifications SET status = 'dead', claimed_until = NULL, attempts = attempts + 1,
        last_error = :error,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id AND status = 'pending'
    """
)

_CANCEL = text(
    """
    UPDATE notifications SET status = 'cancelled', claimed_until = NULL,
        last_error = :error,
        dedup_key = CASE WHEN payload ? 'grades' OR payload ? 'items'
                         THEN dedup_key || ':' || id ELSE dedup_key END
    WHERE id = :id AND status = 'pending'
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


# Messages of a batch that were not sent (the batch stopped): back to the queue at once, unless
# the lease has passed and another sender has claimed them since (their lease is not ours).
_RELEASE = text(
    """
    UPDATE notifications SET claimed_until = NULL
    WHERE id = ANY(:ids) AND status = 'pending' AND claimed_until = :until
    """
)

_PING = text("SELECT 1")


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


# What a statement raises when the database or the connection to it fails. A connection cut
# while a query runs can also leave asyncpg's protocol confused (InternalClientError).
DatabaseErrors = (
    OSError,
    DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def database_gone(exc: BaseException) -> bool:
    """Whether an error says the connection to the database is lost (a restart, the network),
    as opposed to a statement that failed on a working connection."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig.__cause__ or exc.orig if exc.orig is not None else exc
    return isinstance(
        exc,
        OSError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError
        | asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError,
    )


def _where(exc: BaseException) -> str:
    """Where an error came from, frame by frame: no source lines, no values (a line of a text
    or the error's message may hold a name)."""
    return "".join(
        f"\n  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    )


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What to record for a message that was handed to the send function."""

    label: str  # the metric's outcome
    statement: Any
    params: dict[str, Any]


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
        record_backoff: float = 0.2,
        record_max_backoff: float = 5.0,
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
        self.record_backoff = record_backoff
        self.record_max_backoff = record_max_backoff
        self.sent = 0
        # Set by run_forever: without the lock nothing more goes out; after `stop` an outcome
        # that cannot be written is given up (the lease returns its message).
        self.leader: Leadership | None = None
        self.stop: asyncio.Event | None = None
        # The batch in hand. Accounts found blocked: their other messages are already
        # cancelled in the table and must not be sent from the batch. `halted` says why the
        # rest of the batch is not sent; `untouched` are the messages not handed out yet.
        self._blocked: set[int] = set()
        self._halted: str | None = None
        self._untouched: set[int] = set()
        self._claimed_until: datetime | None = None

    async def claim(self) -> list[Outgoing]:
        now = self.clock()
        until = now + self.lease
        async with self.engine.begin() as connection:
            rows = await connection.execute(
                _CLAIM, {"now": now, "until": until, "limit": self.batch}
            )
            messages = sorted((Outgoing(*row) for row in rows), key=lambda o: o.id)
        self._claimed_until = until
        return messages

    async def _update(self, statement: Any, params: dict[str, Any]) -> None:
        async with self._autocommit.connect() as connection:
            await connection.execute(statement, params)

    async def _database_alive(self) -> bool:
        try:
            async with asyncio.timeout(5):
                await self._update(_PING, {})
        except (*DatabaseErrors, TimeoutError):
            return False
        return True

    async def _record(self, message: Outgoing, statement: Any, params: dict[str, Any]) -> None:
        """Write a message's outcome; while the database is away keep it and try again (the
        write is idempotent), so that a message sent is not sent again when its lease ends."""
        await self._write(statement, params, what=f"the outcome of message {message.id}")

    async def _write(self, statement: Any, params: dict[str, Any], *, what: str) -> bool:
        """Run an idempotent statement, again and again while the database is away (until
        `stop`); nothing more of the batch goes out meanwhile. False when it was given up."""
        delay = self.record_backoff
        while True:
            try:
                await self._update(statement, params)
            except DatabaseErrors as exc:
                if not database_gone(exc) and await self._database_alive():
                    # The statement itself failed: trying again will not help. (The error's
                    # text would show the statement's values: only its kind is logged.)
                    log.error("delivery: cannot write %s (%s)", what, type(exc).__name__)
                    return False
                self._halt("the database is unavailable")
                if self.stop is not None and self.stop.is_set():
                    log.warning("delivery: stopping without writing %s", what)
                    return False
                log.warning(
                    "delivery: %s is not written yet (%s); again in %.1f s",
                    what,
                    type(exc).__name__,
                    delay,
                )
                await self._sleep(delay)
                delay = min(self.record_max_backoff, delay * 2)
            else:
                return True

    async def _sleep(self, seconds: float) -> None:
        if self.stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    def _halt(self, reason: str) -> None:
        if self._halted is None:
            log.warning("delivery: the rest of the batch waits: %s", reason)
            self._halted = reason

    def _may_send(self) -> bool:
        if self._halted is not None:
            return False
        if self.leader is not None and not self.leader.held:
            self._halt("the sender's lock is lost")
            return False
        return True

    def _failed(self, message: Outgoing, error: str) -> _Outcome:
        """A failed attempt: again after a backoff, dead after the last attempt."""
        attempts = message.attempts + 1
        if attempts >= self.retry.max_attempts:
            return _Outcome("dead", _DEAD, {"id": message.id, "error": error[:500]})
        due = self.clock() + timedelta(seconds=self.retry.backoff(attempts))
        return _Outcome(
            "retried",
            _LATER,
            {"id": message.id, "due": due, "counted": 1, "error": error[:500]},
        )

    async def deliver(self, message: Outgoing) -> None:
        """Send one claimed message and record what happened."""
        if message.account_id in self._blocked or not self._may_send():
            return
        # The global limit first, then the chat's slot: a slot taken before a long wait for
        # the limiter would have expired by the time the message goes.
        try:
            probe = await self.limiter.acquire()
        except Exception as exc:
            self._limits_failed(exc)
            return
        went = False
        try:
            if message.account_id in self._blocked or not self._may_send():
                return
            try:
                wait = await self.gate.wait_for(message.chat_id)
            except Exception as exc:
                self._limits_failed(exc)
                return
            self._untouched.discard(message.id)
            if wait > 0:
                # One message a second per chat: this one goes a little later, others go now.
                due = self.clock() + timedelta(seconds=wait)
                params = {"id": message.id, "due": due, "counted": 0, "error": None}
                await self._record(message, _LATER, params)
                return
            outcome = await self._attempt(message)
            if outcome is None:
                return
            went = True
            MESSAGES.labels(method=message.method, outcome=outcome.label).inc()
            if probe:
                probe = False
                if outcome.label != "rate_limited":
                    await self._report_probe(self.limiter.probe_succeeded)
            await self._record(message, outcome.statement, outcome.params)
        finally:
            if probe and not went:
                await self._report_probe(self.limiter.probe_skipped)

    def _limits_failed(self, exc: Exception) -> None:
        """The limiter or the chat gate (Redis) failed: nothing goes out without them."""
        log.warning("delivery: the rate limits are unavailable (%s)", type(exc).__name__)
        self._halt("the rate limits are unavailable")

    @staticmethod
    async def _report_probe(report: Callable[[], Awaitable[None]]) -> None:
        try:
            await report()
        except Exception as exc:
            # The probe then ends when its timeout does.
            log.warning("delivery: cannot report the probe (%s)", type(exc).__name__)

    async def _attempt(self, message: Outgoing) -> _Outcome | None:
        """Compose and send; what to record (None: nothing went out, record nothing)."""
        outcome: _Outcome | None
        try:
            await self.send(message)
        except RetryAfter as exc:
            await self.limiter.pause(exc.seconds)
            due = self.clock() + timedelta(seconds=exc.seconds)
            params = {"id": message.id, "due": due, "counted": 0, "error": str(exc)}
            outcome = _Outcome("rate_limited", _LATER, params)
        except Blocked:
            self._blocked.add(message.account_id)
            params = {"account": message.account_id, "now": self.clock()}
            outcome = _Outcome("blocked", _BLOCKED, params)
        except Skip as exc:
            params = {"id": message.id, "error": str(exc) or "skipped"}
            outcome = _Outcome("cancelled", _CANCEL, params)
        except Rejected as exc:
            outcome = _Outcome("dead", _DEAD, {"id": message.id, "error": str(exc)[:500]})
        except Transient as exc:
            outcome = self._failed(message, str(exc))
        except Exception as exc:
            outcome = await self._unexpected(message, exc)
        else:
            self.sent += 1
            outcome = _Outcome("sent", _SENT, {"id": message.id, "now": self.clock()})
        return outcome

    async def _unexpected(self, message: Outgoing, exc: Exception) -> _Outcome | None:
        if database_gone(exc) and not await self._database_alive():
            # Composing reads the journal: nothing went out, and nothing more will until the
            # database is back (the message returns to the queue).
            self._halt("the database is unavailable")
            self._untouched.add(message.id)
            return None
        # A bug in a text or an answer never seen before: a failed attempt of this message
        # only. The log names the message, never its text or recipient (nor the error's words).
        log.error(
            "delivery: message %s failed with %s%s",
            message.id,
            type(exc).__name__,
            _where(exc),
        )
        return self._failed(message, f"unexpected {type(exc).__name__}")

    async def run_once(self) -> int:
        """Claim one batch and deliver it, `concurrency` chats at a time; a chat's own
        messages go one after another, in the order they were queued."""
        self._halted = None
        if self.leader is not None and not self.leader.held:
            return 0
        messages = await self.claim()
        if not messages:
            return 0
        self._blocked = set()
        self._untouched = {message.id for message in messages}
        by_chat: dict[int, list[Outgoing]] = {}
        for message in messages:
            by_chat.setdefault(message.chat_id, []).append(message)
        prepare = getattr(self.send, "prepare", None)
        if prepare is not None:
            try:
                await prepare(messages)
            except Exception as exc:
                # Each message is then composed on its own, and fails on its own.
                log.error(
                    "delivery: preparing a batch of %s failed with %s%s",
                    len(messages),
                    type(exc).__name__,
                    _where(exc),
                )
        queue: asyncio.Queue[list[Outgoing]] = asyncio.Queue()
        for group in by_chat.values():
            queue.put_nowait(group)

        async def worker() -> None:
            while not queue.empty() and self._halted is None:
                for message in queue.get_nowait():
                    await self.deliver(message)

        try:
            async with asyncio.TaskGroup() as workers:
                for _ in range(min(self.concurrency, len(by_chat))):
                    workers.create_task(worker())
        except BaseExceptionGroup as failed:
            # One worker's error ends the batch (the others are cancelled): report it as is.
            raise failed.exceptions[0] from None
        if self._halted is not None and self._untouched:
            await self._release(sorted(self._untouched))
        return len(messages)

    async def _release(self, ids: list[int]) -> None:
        params = {"ids": ids, "until": self._claimed_until}
        await self._write(_RELEASE, params, what=f"the release of {len(ids)} unsent messages")

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
        self,
        stop: asyncio.Event,
        wake: Callable[[float], Awaitable[bool]],
        *,
        leader: Leadership | None = None,
    ) -> None:
        """Deliver until `stop`; between batches sleep until the next due message or a wake-up.

        With `leader`, return as soon as its lock is lost: checked on the lock's connection
        before every batch, and between messages as far as the connection tells.
        """
        self.stop = stop
        self.leader = leader
        try:
            while not stop.is_set():
                if leader is not None and not await leader.check():
                    log.warning("delivery: the sender's lock is lost; stepping down")
                    return
                try:
                    handled = await self.run_once()
                    if handled and self._halted is not None:
                        # The batch stopped (the database, the limits or the lock): a breath
                        # before the next one, which checks again.
                        await self._sleep(1.0)
                        continue
                    if handled:
                        continue
                    due = await self.next_due()
                except DatabaseErrors as exc:
                    log.warning("delivery: database unavailable (%s)", type(exc).__name__)
                    await self._sleep(1.0)
                    continue
                await wake(min(due, 5.0) if due is not None else 5.0)
        finally:
            self.leader = None


async def deliver_while_leading(
    delivery: Delivery,
    leadership: Leadership | None,
    *,
    stop: asyncio.Event,
    wake: Callable[[float], Awaitable[bool]],
    standby: float = 5.0,
) -> None:
    """Send until `stop`: every process when `leadership` is None (limits shared in Redis),
    else only while this process holds the lock; a standby asks for it every `standby` s."""
    while not stop.is_set():
        if leadership is None or await leadership.try_acquire():
            await delivery.run_forever(stop, wake, leader=leadership)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), standby)


class Leadership:
    """Holds PostgreSQL's advisory lock on a connection of its own: the holder is the sender.

    When the holder dies its connection closes and the lock passes to the next process that
    asks. The lock lasts as long as its connection: after a database restart the server has
    forgotten it, so the holder checks the connection before it acts (`check`, and
    `try_acquire` does it too) and competes again once it is lost.
    """

    def __init__(
        self,
        database_url: str,
        key: int = SENDER_LOCK,
        *,
        check_timeout: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self.key = key
        self.check_timeout = check_timeout
        self.connect_timeout = connect_timeout
        self._connection: asyncpg.Connection | None = None

    @property
    def held(self) -> bool:
        """The lock's connection is open as far as this process knows (no round trip)."""
        return self._connection is not None and not self._connection.is_closed()

    async def check(self) -> bool:
        """Whether the lock is still ours: a round trip on its connection, with a timeout."""
        connection = self._connection
        if connection is None:
            return False
        if not connection.is_closed():
            try:
                await connection.fetchval("SELECT 1", timeout=self.check_timeout)
            except Exception:
                pass  # whatever failed, the lock is not known to be ours any more
            else:
                return True
        log.warning("leadership: the connection holding lock %#x is lost", self.key)
        self._connection = None
        connection.terminate()
        return False

    async def try_acquire(self) -> bool:
        if self._connection is not None and await self.check():
            return True
        try:
            connection = await asyncpg.connect(self._dsn, timeout=self.connect_timeout)
        except (*DatabaseErrors, TimeoutError):
            return False
        try:
            locked = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.check_timeout
            )
        except (*DatabaseErrors, TimeoutError):
            connection.terminate()
            return False
        if locked:
            self._connection = connection
            return True
        await self._close(connection)
        return False

    @staticmethod
    async def _close(connection: asyncpg.Connection) -> None:
        try:
            await connection.close(timeout=5)
        except (*DatabaseErrors, TimeoutError):
            connection.terminate()

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            await self._close(connection)


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
