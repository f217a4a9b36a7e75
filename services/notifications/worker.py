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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.errors import DatabaseErrors, database_gone
from services.metrics import MESSAGES
from services.notifications.leadership import Leadership
from services.notifications.limits import ChatGate, RateLimiter
from services.notifications.queue import (
    BLOCKED,
    CANCEL,
    CLAIM,
    DEAD,
    LATER,
    PING,
    RELEASE,
    SENT,
    Outgoing,
    SendFn,
    decode_claimed,
)
from services.notifications.transport import Blocked, Rejected, RetryAfter, Skip, Transient
from services.tracing import frames

log = logging.getLogger(__name__)


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
                CLAIM, {"now": now, "until": until, "limit": self.batch}
            )
            messages, unreadable = decode_claimed(rows)
            for notification_id in unreadable:
                log.error("delivery: message %s has a payload of no known kind", notification_id)
                await connection.execute(DEAD, {"id": notification_id, "error": "bad payload"})
        self._claimed_until = until
        return messages

    async def _update(self, statement: Any, params: dict[str, Any]) -> None:
        async with self._autocommit.connect() as connection:
            await connection.execute(statement, params)

    async def _database_alive(self) -> bool:
        try:
            async with asyncio.timeout(5):
                await self._update(PING, {})
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
            return _Outcome("dead", DEAD, {"id": message.id, "error": error[:500]})
        due = self.clock() + timedelta(seconds=self.retry.backoff(attempts))
        return _Outcome(
            "retried",
            LATER,
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
                await self._record(message, LATER, params)
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
            outcome = _Outcome("rate_limited", LATER, params)
        except Blocked:
            self._blocked.add(message.account_id)
            params = {"account": message.account_id, "now": self.clock()}
            outcome = _Outcome("blocked", BLOCKED, params)
        except Skip as exc:
            params = {"id": message.id, "error": str(exc) or "skipped"}
            outcome = _Outcome("cancelled", CANCEL, params)
        except Rejected as exc:
            outcome = _Outcome("dead", DEAD, {"id": message.id, "error": str(exc)[:500]})
        except Transient as exc:
            outcome = self._failed(message, str(exc))
        except Exception as exc:
            outcome = await self._unexpected(message, exc)
        else:
            self.sent += 1
            outcome = _Outcome("sent", SENT, {"id": message.id, "now": self.clock()})
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
            frames(exc),
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
                    frames(exc),
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
        await self._write(RELEASE, params, what=f"the release of {len(ids)} unsent messages")

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
    unreachable: float = 0.5,
) -> None:
    """Send until `stop`: every process when `leadership` is None (limits shared in Redis),
    else only while this process holds the lock; a standby asks for it every `standby` s,
    and every `unreachable` s while the database cannot be reached (a restart frees the
    lock: the first to ask when it is back sends, with no standby's wait in between)."""
    while not stop.is_set():
        if leadership is None or await leadership.try_acquire():
            await delivery.run_forever(stop, wake, leader=leadership)
            continue
        pause = standby if leadership.reachable else min(standby, unreachable)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
