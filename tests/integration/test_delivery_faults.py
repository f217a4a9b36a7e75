"""Delivery under faults: answers never seen before, a failing text, tasks that die, a lost
lock, a database that goes away mid-batch, 429s, and the order of the two limits.

Messages are queued with plain SQL and an explicit `not_before` from Python's clock, for
accounts without quiet hours, so these tests pass at any date and hour.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from fakeredis import FakeAsyncRedis
from prometheus_client import REGISTRY as METRICS
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import notifications
from bot.i18n import make_i18n
from bot.notifications import run_notifications
from bot.scheduler import start_scheduler
from bot.settings import Settings
from bot.supervisor import Policy, SupervisorGaveUp, supervise
from bot.testing.fake_api import FakeBotAPI
from services.db.session import asyncpg_dsn, create_engine, create_sessionmaker
from services.health import REGISTRY, Registry
from services.notifications import changes, limits, queue, transport, worker
from services.notifications.leadership import Leadership
from services.notifications.limits import LocalChatGate, LocalRateLimiter, RedisRateLimiter
from services.notifications.payloads import DeputyWeek, MarkChange, NewHomework
from services.notifications.queue import Outgoing
from services.notifications.sender import Sender
from services.notifications.telegram import TelegramTransport
from services.notifications.transport import Composed
from services.notifications.worker import Delivery, Retry
from tests.fixtures.notifications import fast_delivery, write_mark
from tests.fixtures.schools import FATHER, MOTHER, SON, Family

FAST = Policy(base=0.01, cap=0.05, max_failures=5, window=60)


# --- helpers -------------------------------------------------------------------------------------


async def _accounts(engine: AsyncEngine, ids: list[int]) -> None:
    """Accounts without quiet hours (equal bounds), each in a chat of its own."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO accounts"
                " (id, channel_user_id, chat_id, language, quiet_from, quiet_to)"
                " SELECT a, a, a, 'ru', '00:00', '00:00' FROM unnest(CAST(:ids AS bigint[])) a"
            ),
            {"ids": ids},
        )


async def _queue(engine: AsyncEngine, rows: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Due messages (account, payload), in this order; their ids. An empty payload stands for
    any message: a mark's."""
    due = datetime.now(UTC) - timedelta(seconds=1)
    ids = []
    async with engine.begin() as connection:
        for n, (account, payload) in enumerate(rows):
            ids.append(
                (
                    await connection.execute(
                        text(
                            "INSERT INTO notifications (account_id, chat_id, category, dedup_key,"
                            " payload, not_before) VALUES (:a, :a, 'marks', :key,"
                            " CAST(:payload AS jsonb), :due) RETURNING id"
                        ),
                        {
                            "a": account,
                            "key": f"faults:{n}",
                            "payload": json.dumps(payload or {"kind": "mark", "mark_id": 1}),
                            "due": due,
                        },
                    )
                ).scalar_one()
            )
    return ids


async def _rows(engine: AsyncEngine) -> dict[int, tuple[str, int]]:
    """Each message's status and attempts."""
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, status, attempts FROM notifications"))
        return {i: (status, attempts) for i, status, attempts in rows}


async def _drain(worker: Delivery, rounds: int = 50) -> None:
    for _ in range(rounds):
        if not await worker.run_once():
            return
    raise AssertionError("the queue did not drain")


async def _until(condition: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Wait (generously) until `condition` holds: it reads the database or the fake Bot API,
    which have no event to wait for."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def _metric(name: str, **labels: str) -> float:
    return METRICS.get_sample_value(name, labels) or 0.0


async def _terminate(database_url: str, where: str) -> int:
    """Cut connections to the test database the way a restart does (the server stays up)."""
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity a"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND " + where
        )
    finally:
        await admin.close()
    return int(killed)


_ANY = "true"
_LOCK_HOLDERS = "EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory')"


def _url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


# --- 2. a failed message is one failed message ---------------------------------------------------


class _MadeUpTexts(Sender):
    """The real sender over the fake Bot API, with made-up texts: a document for the
    deputy's weekly report, a bug in the text of a homework message (the 'broken' one)."""

    async def prepare(self, messages: list[Outgoing]) -> None:
        pass

    async def compose(self, message: Outgoing) -> Composed:
        if isinstance(message.payload, NewHomework):
            raise ValueError("a bug in the text for Иванов Миша")
        if isinstance(message.payload, DeputyWeek):
            return Composed("Итоги недели", document=("week.xlsx", b"PK\x03\x04 not a real one"))
        return Composed(f"message {message.id}")


async def test_unknown_answers_and_a_failing_text_end_dead_while_the_others_go(
    committing_engine: AsyncEngine,
    fake_api: FakeBotAPI,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _accounts(committing_engine, [301, 302, 303, 304, 305])
    week = DeputyWeek(
        start=date(2026, 11, 23), end=date(2026, 11, 29), school_id=1, teachers=(), overdue=()
    )
    document, plain, broken = (
        payload.model_dump(mode="json")
        for payload in (week, MarkChange(mark_id=1), NewHomework(homework_id=1))
    )
    ids = await _queue(
        committing_engine,
        [
            *((account, document) for account in (301, 302)),
            *((account, plain) for account in (303, 304)),
            *((305, payload) for payload in (document, broken, plain)),
        ],
    )
    fake_api.fail(301, "sendDocument", status=409, description="Conflict", times=None)
    fake_api.fail(302, "sendDocument", status=420, description="Flood", times=None)
    fake_api.fail(303, "sendMessage", status=409, description="Conflict", times=None)
    fake_api.fail(304, "sendMessage", status=420, description="Flood", times=None)
    before = {
        (method, outcome): _metric("journalbot_messages_total", method=method, outcome=outcome)
        for method in ("sendMessage", "sendDocument")
        for outcome in ("sent", "retried", "dead")
    }
    sender = _MadeUpTexts(
        {"telegram": TelegramTransport(bot)},
        create_sessionmaker(committing_engine),
        lambda content: Composed(""),
    )
    worker = fast_delivery(committing_engine, sender, retry=Retry(max_attempts=3, base=0))
    with caplog.at_level(logging.INFO, logger="services.notifications.worker"):
        await _drain(worker)

    rows = await _rows(committing_engine)
    assert [rows[i] for i in ids] == [
        ("dead", 3),
        ("dead", 3),
        ("dead", 3),
        ("dead", 3),
        ("sent", 1),
        ("dead", 3),
        ("sent", 1),
    ]
    failures = Counter(
        (r.method, r.params["chat_id"], r.failed_with)
        for r in fake_api.requests
        if r.failed_with is not None
    )
    assert failures == {
        ("sendDocument", 301, 409): 3,
        ("sendDocument", 302, 420): 3,
        ("sendMessage", 303, 409): 3,
        ("sendMessage", 304, 420): 3,
    }
    assert [r.params["chat_id"] for r in fake_api.of("sendDocument") if not r.failed_with] == [305]
    assert [r.params["text"] for r in fake_api.sent_messages(305)] == [f"message {ids[6]}"]

    # The failure is logged with the message's id, never with its text or its people.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"message {ids[5]} failed with ValueError" in logged
    assert "Иванов" not in logged and "Миша" not in logged

    def moved(method: str, outcome: str) -> float:
        now = _metric("journalbot_messages_total", method=method, outcome=outcome)
        return now - before[method, outcome]

    assert moved("sendDocument", "dead") == 2
    assert moved("sendDocument", "sent") == 1
    assert moved("sendMessage", "dead") == 3
    assert moved("sendMessage", "sent") == 1
    assert moved("sendDocument", "retried") == 4 and moved("sendMessage", "retried") == 6


# --- 2. supervision ------------------------------------------------------------------------------


async def test_a_task_that_dies_is_restarted_and_one_that_keeps_dying_gives_up() -> None:
    registry = Registry()
    stop = asyncio.Event()
    runs = Counter[str]()
    running = asyncio.Event()

    async def flaky() -> None:
        runs["flaky"] += 1
        if runs["flaky"] == 1:
            raise RuntimeError("died")
        running.set()
        await stop.wait()

    async def steady() -> None:
        runs["steady"] += 1
        await stop.wait()

    restarts = _metric("journalbot_task_restarts_total", task="flaky")
    supervisor = asyncio.create_task(
        supervise({"flaky": flaky, "steady": steady}, stop=stop, policy=FAST, registry=registry)
    )
    await asyncio.wait_for(running.wait(), 30)
    assert runs == {"flaky": 2, "steady": 1}
    assert registry.tasks == {"flaky": True, "steady": True}
    assert _metric("journalbot_task_restarts_total", task="flaky") == restarts + 1
    stop.set()
    await asyncio.wait_for(supervisor, 30)
    assert registry.tasks == {} and registry.failed is None

    # A task that dies every time: after max_failures the supervisor stops the others too.
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def doomed() -> None:
        raise RuntimeError("dies again")

    async def bystander() -> None:
        try:
            await stop.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(SupervisorGaveUp, match="doomed"):
        await asyncio.wait_for(
            supervise(
                {"doomed": doomed, "bystander": bystander},
                stop=stop,
                policy=Policy(base=0.01, cap=0.01, max_failures=3, window=60),
                registry=registry,
            ),
            30,
        )
    assert cancelled.is_set()
    assert registry.failed == "doomed"
    assert registry.dead() == ["bystander", "doomed"]


async def test_a_task_that_returns_before_stop_counts_as_dead() -> None:
    registry = Registry()
    stop = asyncio.Event()
    runs = 0

    async def quits() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            stop.set()

    await asyncio.wait_for(
        supervise({"quits": quits}, stop=stop, policy=FAST, registry=registry), 30
    )
    assert runs == 3


@pytest.fixture
def registry() -> Iterator[Registry]:
    """The process's registry, clean before and after."""
    REGISTRY.tasks.clear()
    REGISTRY.failed = None
    yield REGISTRY
    REGISTRY.tasks.clear()
    REGISTRY.failed = None


async def _notifications(
    engine: AsyncEngine, bot: Bot, api: FakeBotAPI, stop: asyncio.Event, supervision: Policy
) -> None:
    """The process's notifications over the fake Bot API, until `stop`."""
    await run_notifications(
        engine,
        _url(engine),
        bot=bot,
        i18n=make_i18n(),
        settings=Settings(default_locale="ru", telegram_api_url=api.url),
        stop=stop,
        supervision=supervision,
    )


@pytest.mark.usefixtures("registry")
async def test_run_notifications_restarts_the_consumer_the_sender_and_the_scheduler(
    committing_engine: AsyncEngine,
    family: Family,
    fake_api: FakeBotAPI,
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with committing_engine.begin() as connection:
        await connection.execute(text("UPDATE accounts SET quiet_from = quiet_to"))
    runs = Counter[str]()
    consume_forever = changes.consume_forever
    run_forever = Delivery.run_forever

    async def consume_dying_once(*args: Any, **kwargs: Any) -> None:
        runs["consumer"] += 1
        if runs["consumer"] == 1:
            raise RuntimeError("the consumer died")
        await consume_forever(*args, **kwargs)

    async def send_dying_once(self: Delivery, *args: Any, **kwargs: Any) -> None:
        runs["sender"] += 1
        if runs["sender"] == 1:
            raise RuntimeError("the sender died")
        await run_forever(self, *args, **kwargs)

    schedulers = []
    ticked = asyncio.Event()

    def start(jobs: Any) -> Any:
        schedulers.append(start_scheduler(jobs))
        schedulers[-1].add_listener(lambda _: ticked.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        return schedulers[-1]

    monkeypatch.setattr(changes, "consume_forever", consume_dying_once)
    monkeypatch.setattr(Delivery, "run_forever", send_dying_once)
    monkeypatch.setattr(notifications, "start_scheduler", start)
    restarts = {
        task: _metric("journalbot_task_restarts_total", task=task)
        for task in ("consumer", "sender", "scheduler")
    }
    stop = asyncio.Event()
    task = asyncio.create_task(_notifications(committing_engine, bot, fake_api, stop, FAST))
    try:

        async def restarted() -> bool:
            return runs["consumer"] >= 2 and runs["sender"] >= 2 and len(schedulers) >= 1

        await _until(restarted)
        # APScheduler stops by itself (between two passes: a pass under way would be
        # cancelled): the watch notices and starts it again.
        await asyncio.wait_for(ticked.wait(), 30)
        schedulers[0].shutdown(wait=False)

        async def rescheduled() -> bool:
            return len(schedulers) >= 2 and REGISTRY.tasks.get("scheduler") is True

        await _until(rescheduled)
        await write_mark(committing_engine, family, "5")

        async def delivered() -> bool:
            return all(
                any("<b>5</b>" in str(r.params["text"]) for r in fake_api.sent_messages(chat))
                for chat in (MOTHER, FATHER, SON)
            )

        await _until(delivered)
        assert REGISTRY.tasks == {"consumer": True, "sender": True, "scheduler": True}
        for name, count in restarts.items():
            assert _metric("journalbot_task_restarts_total", task=name) == count + 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert task.result() is None
    assert REGISTRY.tasks == {} and REGISTRY.failed is None


@pytest.mark.usefixtures("registry")
async def test_run_notifications_raises_when_a_task_cannot_be_kept_alive(
    committing_engine: AsyncEngine,
    fake_api: FakeBotAPI,
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def consume_never(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the consumer cannot start")

    monkeypatch.setattr(changes, "consume_forever", consume_never)
    stop = asyncio.Event()
    with pytest.raises(SupervisorGaveUp):
        await asyncio.wait_for(
            _notifications(
                committing_engine,
                bot,
                fake_api,
                stop,
                Policy(base=0.01, cap=0.01, max_failures=3, window=60),
            ),
            60,
        )
    assert not stop.is_set()
    assert REGISTRY.failed == "consumer"
    assert "consumer" in REGISTRY.dead()


# --- 3. one sender at a time ---------------------------------------------------------------------


async def test_a_lost_lock_connection_is_noticed_and_the_lock_won_again(
    committing_engine: AsyncEngine,
) -> None:
    url = _url(committing_engine)
    first, second = Leadership(url), Leadership(url)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await _terminate(url, _LOCK_HOLDERS) >= 1
        # A round trip on the lock's connection tells, whatever the socket says yet.
        assert not await first.check()
        assert not first.held
        assert await second.try_acquire()
        assert not await first.try_acquire()
        assert await second.try_acquire()  # still held: the check passes
    finally:
        await first.release()
        await second.release()


async def test_two_senders_without_redis_never_send_at_once_across_a_restart(
    committing_engine: AsyncEngine,
    fake_api: FakeBotAPI,
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rate, chats, each = 10.0, 6, 10
    accounts = list(range(501, 501 + chats))
    await _accounts(committing_engine, accounts)
    ids = await _queue(committing_engine, [(a, {}) for _ in range(each) for a in accounts])
    url = _url(committing_engine)
    started: list[tuple[str, int]] = []
    stop = asyncio.Event()

    def send_as(label: str) -> queue.SendFn:
        async def send(message: Outgoing) -> None:
            started.append((label, message.id))
            await bot.send_message(message.chat_id, f"{label} {message.id}")

        return send

    async def nap(seconds: float) -> bool:
        await asyncio.sleep(min(seconds, 0.1))
        return False

    engines = [create_engine(url, pool_size=2, pre_ping=False) for _ in range(2)]
    leaders = [Leadership(url), Leadership(url)]
    workers = [
        Delivery(
            engine,
            send_as(label),
            limiter=LocalRateLimiter(rate),
            gate=LocalChatGate(spacing=0),
            concurrency=2,
            record_backoff=0.05,
        )
        for engine, label in zip(engines, "AB", strict=True)
    ]

    def run(n: int) -> asyncio.Task[None]:
        return asyncio.create_task(
            worker.deliver_while_leading(workers[n], leaders[n], stop=stop, wake=nap, standby=0.1)
        )

    tasks = [run(0)]
    try:

        async def leading() -> bool:
            return leaders[0].held

        await _until(leading)
        tasks.append(run(1))

        async def some_sent() -> bool:
            return len(started) >= 10

        await _until(some_sent)
        # After a restart either may win the lock; here the old holder comes back only once
        # the standby has taken over, to show the hand-over.
        comeback = leaders[0].try_acquire

        async def after_the_standby() -> bool:
            return leaders[1].held and await comeback()

        monkeypatch.setattr(leaders[0], "try_acquire", after_the_standby)
        # The database "restarts": every connection to it is cut, the lock's among them.
        assert await _terminate(url, _ANY) >= 1

        async def all_sent() -> bool:
            return Counter(s for s, _ in (await _rows(committing_engine)).values()) == {
                "sent": len(ids)
            }

        await _until(all_sent, within=120)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        for leader in leaders:
            await leader.release()
        for engine in engines:
            await engine.dispose()

    labels = [label for label, _ in started]
    # The old holder stopped before the new one began: one switch, from A to B.
    assert labels[0] == "A" and labels[-1] == "B"
    assert sum(1 for a, b in itertools.pairwise(labels) if a != b) == 1
    # Each message went once.
    assert sorted(i for _, i in started) == sorted(ids)
    # Never two senders' worth in a second at the fake Bot API (both at once would be 2 × 10).
    times = sorted(r.at for r in fake_api.sent_messages())
    busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    assert busiest <= rate * 1.5


# --- 4. a database that goes away during a batch -------------------------------------------------


async def test_outcomes_are_kept_until_the_database_is_back_and_nothing_goes_twice(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = list(range(601, 606))
    await _accounts(committing_engine, accounts)
    ids = await _queue(committing_engine, [(a, {}) for _ in range(4) for a in accounts])
    sent: list[int] = []

    async def send(message: Outgoing) -> None:
        await asyncio.sleep(0)
        sent.append(message.id)

    worker = fast_delivery(committing_engine, send, concurrency=4, record_backoff=0.01)
    update = worker._update
    outage = 5

    async def flaky_update(statement: Any, params: dict[str, Any]) -> None:
        nonlocal outage
        if statement is queue.SENT and outage:
            outage -= 1
            raise ConnectionRefusedError("the database system is starting up")
        await update(statement, params)

    monkeypatch.setattr(worker, "_update", flaky_update)
    handled = await worker.run_once()
    assert handled == len(ids)
    # The batch stopped at the outage: only the messages in flight went, and were recorded.
    assert 1 <= len(sent) <= worker.concurrency
    rows = await _rows(committing_engine)
    assert sorted(i for i, (status, _) in rows.items() if status == "sent") == sorted(sent)
    # The rest is back in the queue at once, not after the lease.
    await _drain(worker)
    assert sorted(sent) == sorted(ids)
    assert {status for status, _ in (await _rows(committing_engine)).values()} == {"sent"}


async def test_cut_connections_mid_batch_send_nothing_twice(
    committing_engine: AsyncEngine,
) -> None:
    accounts = list(range(651, 655))
    await _accounts(committing_engine, accounts)
    ids = await _queue(committing_engine, [(a, {}) for _ in range(5) for a in accounts])
    url = _url(committing_engine)
    queue_engine = create_engine(url, pool_size=4, pre_ping=False)
    sent: list[int] = []

    async def send(message: Outgoing) -> None:
        sent.append(message.id)
        if len(sent) == 6:
            # A restart between the send and its outcome: the queue's connections are gone.
            await _terminate(url, "application_name = 'journalbot'")

    worker = Delivery(
        queue_engine,
        send,
        limiter=LocalRateLimiter(1000),
        gate=LocalChatGate(spacing=0),
        concurrency=2,
        record_backoff=0.01,
    )
    try:
        await _drain(worker)
    finally:
        await queue_engine.dispose()
    assert sorted(sent) == sorted(ids)
    assert {status for status, _ in (await _rows(committing_engine)).values()} == {"sent"}


# --- 5. limits after faults ----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["local", "redis"])
async def test_after_a_pause_one_probe_goes_and_the_others_wait_for_it(where: str) -> None:
    redis = FakeAsyncRedis()
    limiter: limits.RateLimiter = (
        LocalRateLimiter(1000) if where == "local" else RedisRateLimiter(redis, 1000, poll=0.01)
    )
    await limiter.pause(0.05)
    waiting = [asyncio.create_task(limiter.acquire()) for _ in range(3)]
    done, pending = await asyncio.wait(waiting, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    assert [task.result() for task in done] == [True]  # the probe
    await asyncio.sleep(0.2)
    assert not any(task.done() for task in pending)  # nobody else until the probe answers
    # The probe did not go after all (its chat was busy): the next one probes instead.
    await limiter.probe_skipped()
    done, pending = await asyncio.wait(pending, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    assert [task.result() for task in done] == [True]
    await asyncio.sleep(0.2)
    assert not any(task.done() for task in pending)
    await limiter.probe_succeeded()
    assert await asyncio.wait_for(asyncio.gather(*pending), 30) == [False]
    # And the next 429 again: one probe.
    await limiter.pause(0.01)
    assert await asyncio.wait_for(limiter.acquire(), 30) is True
    await redis.aclose()


async def test_after_a_429_the_probe_goes_first_and_the_rest_after_it(
    committing_engine: AsyncEngine, fake_api: FakeBotAPI, bot: Bot
) -> None:
    accounts = list(range(701, 731))
    await _accounts(committing_engine, accounts)
    ids = await _queue(committing_engine, [(a, {}) for a in accounts])
    fake_api.latency = 0.05  # the probe's answer takes a while: the others must wait for it
    fake_api.fail(None, "sendMessage", status=429, retry_after=1)
    events: list[tuple[str, int]] = []

    async def send(message: Outgoing) -> None:
        events.append(("start", message.id))
        try:
            await bot.send_message(message.chat_id, f"message {message.id}")
        except TelegramRetryAfter as exc:
            events.append(("429", message.id))
            raise transport.RetryAfter(exc.retry_after) from None
        finally:
            events.append(("end", message.id))

    worker = fast_delivery(committing_engine, send, concurrency=4)

    async def all_sent() -> bool:
        await worker.run_once()
        return len(fake_api.sent_messages()) == len(ids)

    await _until(all_sent, within=60)
    [limited] = [i for event, i in events if event == "429"]
    after = events[events.index(("429", limited)) + 1 :]
    starts = [(n, i) for n, (event, i) in enumerate(after) if event == "start"]
    probe = starts[0][1]
    answered = after.index(("end", probe))
    assert all(n > answered for n, _ in starts[1:])
    assert len(starts) >= 2
    assert [status for status, _ in (await _rows(committing_engine)).values()] == ["sent"] * 30


async def test_the_chat_slot_is_taken_after_the_limiter_lets_the_message_go(
    committing_engine: AsyncEngine,
) -> None:
    order: list[str] = []

    class Limiter(LocalRateLimiter):
        async def acquire(self) -> bool:
            order.append("limiter asked")
            probe = await super().acquire()
            order.append("limiter let go")
            return probe

    class Gate(LocalChatGate):
        async def wait_for(self, chat_id: int) -> float:
            order.append("chat slot")
            return await super().wait_for(chat_id)

    async def send(message: Outgoing) -> None:
        order.append("sent")

    await _accounts(committing_engine, [801])
    await _queue(committing_engine, [(801, {})])
    limiter, gate = Limiter(1000), Gate(spacing=1.0)
    await limiter.pause(0.2)
    worker = Delivery(committing_engine, send, limiter=limiter, gate=gate)
    assert await worker.run_once() == 1
    assert order == ["limiter asked", "limiter let go", "chat slot", "sent"]
    # The chat's second is counted from when the message went, not from before the wait.
    assert gate._next[801] - gate.spacing >= limiter._paused_until


async def test_limits_that_fail_stop_the_batch_and_send_nothing(
    committing_engine: AsyncEngine,
) -> None:
    class Unreachable(LocalRateLimiter):
        async def acquire(self) -> bool:
            raise ConnectionError("Redis is away")

    await _accounts(committing_engine, [901, 902])
    ids = await _queue(committing_engine, [(901, {}), (902, {})])
    sent: list[int] = []

    async def send(message: Outgoing) -> None:
        sent.append(message.id)

    worker = Delivery(
        committing_engine, send, limiter=Unreachable(1000), gate=LocalChatGate(spacing=0)
    )
    assert await worker.run_once() == 2
    assert sent == []
    assert await _rows(committing_engine) == {i: ("pending", 0) for i in ids}
    # Back in the queue at once, and sent once the limits answer again.
    worker.limiter = LocalRateLimiter(1000)
    await _drain(worker)
    assert sorted(sent) == ids


async def test_a_text_that_needs_the_database_while_it_is_away_waits_without_an_attempt(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _accounts(committing_engine, [951])
    [first, second] = await _queue(committing_engine, [(951, {}), (951, {})])
    sent: list[int] = []
    away = True

    async def send(message: Outgoing) -> None:
        if away:
            raise ConnectionRefusedError("composing: the database is away")
        sent.append(message.id)

    worker = fast_delivery(committing_engine, send)

    async def database_alive() -> bool:
        return not away

    monkeypatch.setattr(worker, "_database_alive", database_alive)
    await worker.run_once()
    # Not a failed attempt of the message: nothing was sent, the batch stopped.
    assert await _rows(committing_engine) == {first: ("pending", 0), second: ("pending", 0)}
    away = False
    await _drain(worker)
    assert sent == [first, second]


# --- an event the fan-out cannot handle ---------------------------------------------------------


async def test_an_event_that_cannot_be_handled_is_set_aside_and_the_others_go_on(
    committing_engine: AsyncEngine, family: Family
) -> None:
    first = await write_mark(committing_engine, family, "5")
    poison = await write_mark(committing_engine, family, "4")
    third = await write_mark(committing_engine, family, "3")
    handled: list[int] = []

    async def handler(connection: Any, events: list[changes.JournalEvent]) -> None:
        marks = [e.row_id for e in events if e.table_name == "marks"]
        if poison in marks:
            raise ValueError("a row the fan-out does not expect")
        await connection.execute(text("SELECT 1"))
        handled.extend(marks)

    failed_before = METRICS.get_sample_value("journalbot_outbox_failed_events_total") or 0.0
    # The family's lesson was captured too: the batch holds the three marks and more.
    assert await changes.consume_once(committing_engine, handler) >= 3
    assert sorted(handled) == [first, third]
    async with committing_engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT row_id, processed_at IS NOT NULL, error FROM journal_events"
                    " WHERE table_name = 'marks' ORDER BY id"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (first, True, None),
        (poison, True, "ValueError"),
        (third, True, None),
    ]
    after = METRICS.get_sample_value("journalbot_outbox_failed_events_total") or 0.0
    assert after == failed_before + 1
    # Nothing is left to claim: the consumer is not stuck on the event.
    assert await changes.consume_once(committing_engine, handler) == 0
