"""The notifications' background tasks of a process, wired and supervised: the change reader
(fan-out), the sender (Telegram transport, texts from `handlers.pushes`) and the scheduler.

The pipeline itself is `services.notifications`; this module only puts it together with the
bot, the settings and the process's supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
from asyncio import FIRST_COMPLETED
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_SHUTDOWN,
    SchedulerEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler import Jobs, start_scheduler
from bot.settings import Settings
from bot.supervisor import Policy, supervise
from handlers.pushes import PushRenderer
from services.accounts import Channel
from services.db.session import Engine, SessionFactory, create_engine, create_sessionmaker
from services.notifications import changes, fanout, limits, queue, worker
from services.notifications.leadership import Leadership
from services.notifications.sender import Sender
from services.notifications.telegram import TelegramTransport


def telegram_sender(
    bot: Bot, sessionmaker: SessionFactory, i18n: I18n, default_locale: str
) -> Sender:
    """The send function for Telegram: content read at sending, texts in the reader's language."""
    return Sender(
        {Channel.TELEGRAM: TelegramTransport(bot)},
        sessionmaker,
        PushRenderer(i18n, default_locale),
    )


async def run_notifications(
    engine: Engine,
    database_url: str,
    *,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    stop: asyncio.Event,
    jobs: Jobs | None = None,
    supervision: Policy | None = None,
) -> None:
    """The outbox consumer, the sender and the scheduler, until `stop`; the caller owns the
    engine and bot (and `jobs`, when it wants to run them itself too).

    Each of the three is supervised (bot/supervisor.py): restarted with backoff when it dies.
    Returns only once `stop` is set; raises SupervisorGaveUp when one cannot be kept alive.
    """
    events = changes.OutboxListener(database_url)
    wakeups = changes.OutboxListener(database_url, channel=queue.CHANNEL)
    await events.start()
    await wakeups.start()
    redis: Any = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        limiter: limits.RateLimiter = limits.RedisRateLimiter(redis, settings.notify_rate)
        gate: limits.ChatGate = limits.RedisChatGate(redis)
    else:
        limiter = limits.LocalRateLimiter(settings.notify_rate)
        gate = limits.LocalChatGate()
    # The queue's own connections: one statement per outcome, without a ping before each
    # (a failed statement after a server restart is retried by the delivery loop).
    queue_engine = create_engine(
        database_url, pool_size=settings.notify_concurrency, pre_ping=False
    )
    engine_delivery = worker.Delivery(
        queue_engine,
        telegram_sender(bot, create_sessionmaker(engine), i18n, settings.default_locale),
        limiter=limiter,
        gate=gate,
        retry=worker.Retry(
            max_attempts=settings.notify_max_attempts,
            max_backoff=settings.notify_max_backoff_seconds,
        ),
        lease=timedelta(seconds=settings.notify_lease_seconds),
        concurrency=settings.notify_concurrency,
        # Larger batches leave fewer idle moments at their ends (680 against 611 messages/s
        # at a 1000/s limit), but a batch must go out well within its lease at the rate limit.
        batch=max(
            settings.notify_concurrency,
            min(256, int(settings.notify_rate * settings.notify_lease_seconds / 2)),
        ),
    )
    # With Redis every process sends; without it, the holder of the lock does.
    leadership = None if redis is not None else Leadership(database_url)

    async def consume() -> None:
        await changes.consume_forever(
            engine,
            lambda connection, batch: fanout.handle_events(
                connection,
                batch,
                hold=timedelta(seconds=settings.notify_hold_seconds),
                default_zone=settings.default_timezone,
            ),
            listener=events,
            stop=stop,
        )

    async def send() -> None:
        await worker.deliver_while_leading(
            engine_delivery, leadership, stop=stop, wake=wakeups.wait
        )

    # Reminders, weekly summaries and digests: APScheduler in every process, the work done
    # by the holder of the scheduler's lock (bot/scheduler.py).
    own_jobs = jobs is None
    jobs = jobs or Jobs(
        engine,
        database_url,
        default_zone=settings.default_timezone,
        retention_events_days=settings.retention_events_days,
        retention_notifications_days=settings.retention_notifications_days,
    )

    async def schedule() -> None:
        await _watch_scheduler(start_scheduler(jobs), stop)

    try:
        await supervise(
            {"consumer": consume, "sender": send, "scheduler": schedule},
            stop=stop,
            policy=supervision,
        )
    finally:
        if own_jobs:
            await jobs.close()
        await queue_engine.dispose()
        await events.stop()
        await wakeups.stop()
        if leadership is not None:
            await leadership.release()
        if redis is not None:
            await redis.aclose()


async def _watch_scheduler(scheduler: AsyncIOScheduler, stop: asyncio.Event) -> None:
    """Live as long as APScheduler runs its job, until `stop`: APScheduler keeps its errors to
    itself, so a scheduler that stopped would otherwise go unnoticed."""
    shut_down = asyncio.Event()
    idle = asyncio.Event()
    idle.set()
    running = 0

    def seen(event: SchedulerEvent) -> None:
        nonlocal running
        if event.code == EVENT_SCHEDULER_SHUTDOWN:
            shut_down.set()
            return
        running = running + 1 if event.code == EVENT_JOB_SUBMITTED else max(0, running - 1)
        if running:
            idle.clear()
        else:
            idle.set()

    scheduler.add_listener(
        seen, EVENT_SCHEDULER_SHUTDOWN | EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
    )
    try:
        while not stop.is_set():
            if not scheduler.running or not scheduler.get_jobs():
                raise SchedulerStopped("the scheduler stopped running its job")
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(shut_down.wait())]
            try:
                await asyncio.wait(waits, timeout=SCHEDULER_WATCH, return_when=FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
    finally:
        if scheduler.running:
            # APScheduler cancels a pass under way when it shuts down: start no new one and
            # let the one under way finish first (each of its runs commits on its own).
            scheduler.pause()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(idle.wait(), 30)
            scheduler.shutdown(wait=False)


class SchedulerStopped(RuntimeError):
    """APScheduler is no longer running the journal's job."""


# How often the scheduler is looked at besides its shutdown event (seconds).
SCHEDULER_WATCH = 5.0
