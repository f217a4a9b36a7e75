"""Notifications end to end inside the bot process: the outbox consumer, the sender, the texts.

Texts are composed when a message is sent, in the recipient's language (SPEC §5), from the
journal as it is then; a link revoked since the event means nothing is sent (SPEC §3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_SHUTDOWN,
    SchedulerEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.scheduler import Jobs, start_scheduler
from bot.settings import Settings
from bot.supervisor import Policy, supervise
from handlers.render import (
    day_short,
    esc,
    kind_text,
    mark_text,
    period_name,
)
from handlers.teacher.reminders import reminder_keyboard, reminder_text
from handlers.teacher.reports import (
    class_week_text,
    deputy_caption,
    deputy_filename,
    deputy_headers,
)
from services import delivery, notify, outbox
from services.db.session import SessionFactory, create_engine, create_sessionmaker
from services.delivery import Outgoing
from services.notices import (
    AttendanceNotice,
    FinalNotice,
    HomeworkNotice,
    MarkNotice,
    Recipient,
    WeeklyChild,
    load_batch,
    load_notices,
)
from services.reports import deputy_xlsx

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _locale(i18n: I18n, locale: str) -> Iterator[None]:
    """Render with the recipient's catalogue, outside any update's context."""
    with i18n.context(), i18n.use_locale(locale):
        yield


class Composer:
    """Turns a queued notification into the text its recipient reads."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def mark(self, child: str, notice: MarkNotice, *, threshold: int) -> str:
        when = day_short(notice.day)
        kind = kind_text(notice.kind_code, notice.kind_name)
        if notice.action == "removed":
            return _(
                "🗑 {child} — {subject}: the mark {was} of {day} was removed. Reason: {reason}"
            ).format(
                child=esc(child),
                was=mark_text(notice.was or "—"),
                subject=esc(notice.subject),
                day=when,
                reason=esc(notice.reason),
            )
        value = f"<b>{mark_text(notice.value or '')}</b>"
        low = (
            notice.value is not None
            and notice.value.isdigit()
            and int(notice.value) <= max(2, threshold)
        )
        flag = "⚠️ " if low else ""
        if notice.action == "corrected" and notice.was is not None:
            return flag + _(
                "✎ {child} — {subject}: the mark of {day} ({kind}) was corrected: "
                "{was} → {value}. Reason: {reason}"
            ).format(
                child=esc(child),
                subject=esc(notice.subject),
                day=when,
                kind=kind,
                was=mark_text(notice.was),
                value=value,
                reason=esc(notice.reason),
            )
        return flag + _("📘 {child} — {subject}: {value} ({kind}, {day})").format(
            child=esc(child), value=value, subject=esc(notice.subject), kind=kind, day=when
        )

    def attendance(self, child: str, notice: AttendanceNotice) -> str:
        params = {
            "child": esc(child),
            "subject": esc(notice.subject),
            "day": day_short(notice.day),
            "slot": notice.slot,
        }
        if notice.action == "removed":
            return _(
                "🚸 {child}: the absence from lesson {slot} ({subject}, {day}) was removed from "
                "the journal."
            ).format(**params)
        if notice.kind == "late":
            if notice.minutes_late:
                return _(
                    "⏰ {child} was {minutes} min late for lesson {slot} ({subject}, {day})."
                ).format(minutes=notice.minutes_late, **params)
            return _("⏰ {child} was late for lesson {slot} ({subject}, {day}).").format(**params)
        return _("🚸 {child} was absent from lesson {slot} ({subject}, {day}).").format(**params)

    def finals(self, child: str, notices: list[FinalNotice]) -> str:
        by_period: dict[str, list[FinalNotice]] = defaultdict(list)
        for notice in notices:
            by_period[period_name(notice.period)].append(notice)
        lines = []
        for period, grades in by_period.items():
            lines.append(
                _("🏁 {child}: final grades for {period}").format(child=esc(child), period=period)
            )
            for grade in sorted(grades, key=lambda g: g.subject):
                corrected = (
                    " " + _("(corrected from {old})").format(old=mark_text(grade.was))
                    if grade.was
                    else ""
                )
                lines.append(f"• {esc(grade.subject)}: <b>{mark_text(grade.value)}</b>{corrected}")
        return "\n".join(lines)

    def weekly(self, child: WeeklyChild) -> str:
        lines = [f"👤 <b>{esc(child.name)}</b>"]
        if child.marks:
            by_subject: dict[str, list[str]] = defaultdict(list)
            for mark in child.marks:
                by_subject[mark.subject].append(mark_text(mark.value))
            lines.append(
                _("Marks: {marks}").format(
                    marks="; ".join(f"{esc(s)} {' '.join(v)}" for s, v in by_subject.items())
                )
            )
        else:
            lines.append(_("No marks this week."))
        if child.absent or child.late:
            lines.append(
                _("Missed lessons: {n} (without a valid reason: {invalid}); late: {late}.").format(
                    n=child.absent, invalid=child.absent_invalid, late=child.late
                )
            )
        if child.forecasts and child.period is not None:
            lines.append(
                _("Forecast for {period}: {grades}").format(
                    period=period_name(child.period),
                    grades=", ".join(
                        f"{esc(subject)} {mark_text(f.grade or '')}"
                        + (" ⚠️" if (f.grade or "").isdigit() and int(f.grade or 0) <= 3 else "")
                        for subject, f in child.forecasts
                    ),
                )
            )
        return "\n".join(lines)

    def homework_line(self, notice: HomeworkNotice) -> str:
        return _("{subject} for {day}: {text}").format(
            subject=f"<b>{esc(notice.subject)}</b>",
            day=day_short(notice.due),
            text=esc(notice.text),
        )


@dataclass(frozen=True, slots=True)
class Composed:
    """A message as it goes out: text (or a document's caption), buttons, a file."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    document: tuple[str, bytes] | None = None


@dataclass
class Sender:
    """The send function of the delivery engine: compose, send, translate Telegram's errors."""

    bot: Bot
    sessionmaker: SessionFactory
    i18n: I18n
    default_locale: str
    # What a claimed batch says, read in a few queries before the batch is sent.
    _prepared: dict[int, Recipient | None] = field(default_factory=dict)

    async def prepare(self, messages: list[Outgoing]) -> None:
        async with self.sessionmaker() as session:
            self._prepared = await load_batch(session, messages)

    async def __call__(self, message: Outgoing) -> None:
        composed = await self.compose(message)
        try:
            if composed.document is not None:
                name, content = composed.document
                await self.bot.send_document(
                    message.chat_id,
                    BufferedInputFile(content, filename=name),
                    caption=composed.text,
                    request_timeout=30,
                )
            else:
                await self._send_text(message.chat_id, composed)
        except TelegramRetryAfter as exc:
            raise delivery.RetryAfter(exc.retry_after) from None
        except (TelegramForbiddenError, TelegramUnauthorizedError) as exc:
            raise delivery.Blocked(exc.message) from None
        except (TelegramBadRequest, TelegramNotFound) as exc:
            raise delivery.Rejected(exc.message) from None
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            raise delivery.Transient(type(exc).__name__ + ": " + str(exc)[:200]) from None
        except TelegramAPIError as exc:
            # 409, 413, a chat moved to a supergroup, a code never seen before (420): not
            # known to be final, so the message is tried again and in the end parked as dead.
            raise delivery.Transient(f"{type(exc).__name__}: {exc.message[:200]}") from None
        except AiogramError as exc:
            # An answer aiogram could not read.
            raise delivery.Transient(type(exc).__name__) from None

    async def _send_text(self, chat_id: int, composed: Composed) -> None:
        """sendMessage as plain JSON over the bot's own HTTP session and API server.

        The hot path of a quarter's end: aiogram's request and response models cost more
        CPU than the rest of a message's way together, and their answer is not needed here.
        Telegram's errors are told apart the way aiogram does it (by error code).
        """
        default = self.bot.default
        payload: dict[str, Any] = {
            "chat_id": chat_id,
            "text": composed.text,
            "parse_mode": default.parse_mode,
            "protect_content": default.protect_content,
            "link_preview_options": {"is_disabled": bool(default.link_preview_is_disabled)},
        }
        if composed.markup is not None:
            payload["reply_markup"] = composed.markup.model_dump(mode="json", exclude_none=True)
        if not isinstance(self.bot.session, AiohttpSession):
            await self.bot.send_message(
                chat_id, composed.text, reply_markup=composed.markup, request_timeout=15
            )
            return
        session = await self.bot.session.create_session()
        url = self.bot.session.api.api_url(token=self.bot.token, method="sendMessage")
        try:
            async with session.post(
                url,
                json={k: v for k, v in payload.items() if v is not None},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as response:
                status = response.status
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise delivery.Transient(type(exc).__name__ + ": " + str(exc)[:200]) from None
        if isinstance(body, dict) and body.get("ok"):
            return
        answer: dict[str, Any] = body if isinstance(body, dict) else {}
        code = _number(answer.get("error_code"), status)
        description = str(answer.get("description") or f"HTTP {status}")[:500]
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if code == 429 or retry_after is not None:
            raise delivery.RetryAfter(_number(retry_after, 1))
        if code in {401, 403}:
            raise delivery.Blocked(description)
        if code in {400, 404}:
            raise delivery.Rejected(description)
        # 5xx, 409, 413, a chat moved to a supergroup, a code never seen before (420): not
        # known to be final, so the message is tried again and in the end parked as dead.
        raise delivery.Transient(f"{code}: {description}")

    async def compose(self, message: Outgoing) -> Composed:
        if message.id in self._prepared:
            recipient = self._prepared.pop(message.id)
        else:
            async with self.sessionmaker() as session:
                recipient = await load_notices(session, message)
        if recipient is None or not recipient.has_content:
            raise delivery.Skip("nothing to tell any more")
        locale = recipient.language or self.default_locale
        with _locale(self.i18n, locale):
            if recipient.staff is not None:
                return self._staff(recipient.staff)
            return Composed(self._text(Composer(self.i18n), recipient))

    @staticmethod
    def _staff(payload: dict[str, Any]) -> Composed:
        kind = payload.get("kind")
        if kind == "reminder":
            return Composed(reminder_text(payload), reminder_keyboard(payload))
        if kind == "class_week":
            return Composed(class_week_text(payload))
        return Composed(
            deputy_caption(payload),
            document=(deputy_filename(payload), deputy_xlsx(payload, deputy_headers())),
        )

    def _text(self, composer: Composer, recipient: Recipient) -> str:
        parts: list[str] = []
        for child, marks in recipient.marks.items():
            parts.extend(
                composer.mark(child, m, threshold=recipient.low_mark_threshold) for m in marks
            )
        for child, entries in recipient.attendance.items():
            parts.extend(composer.attendance(child, a) for a in entries)
        for child, finals in recipient.finals.items():
            parts.append(composer.finals(child, finals))
        if recipient.homework:
            lines = []
            for child, tasks in recipient.homework.items():
                lines.append(_("📝 Homework for {child}:").format(child=esc(child)))
                lines.extend("• " + composer.homework_line(task) for task in tasks)
            parts.append("\n".join(lines))
        if recipient.week is not None:
            start, end = recipient.week
            parts.append(
                _("📅 The week {start} – {end}").format(start=day_short(start), end=day_short(end))
            )
            parts.extend(composer.weekly(child) for child in recipient.weekly)
        text = "\n\n".join(parts)
        if recipient.is_digest:
            text = _("🌙 Your evening digest") + "\n\n" + text
        return text


def _number(value: object, default: int) -> int:
    """An integer of Telegram's answer, or `default` when it is missing or not a number."""
    if isinstance(value, int | float | str):
        with contextlib.suppress(ValueError, OverflowError):
            return int(value)
    return default


async def fan_out_handler(
    connection: AsyncConnection, events: list[outbox.JournalEvent], *, settings: Settings
) -> None:
    written = await notify.fan_out(
        connection,
        events,
        now=datetime.now(UTC),
        policy=notify.Policy(hold=timedelta(seconds=settings.notify_hold_seconds)),
        default_zone=settings.default_timezone,
    )
    if written:
        await connection.execute(notify.WAKE_SENDERS)


async def run_notifications(
    engine: AsyncEngine,
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
    events = outbox.OutboxListener(database_url)
    wakeups = outbox.OutboxListener(database_url, channel=delivery.CHANNEL)
    await events.start()
    await wakeups.start()
    redis: Any = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        limiter: delivery.RateLimiter = delivery.RedisRateLimiter(redis, settings.notify_rate)
        gate: delivery.ChatGate = delivery.RedisChatGate(redis)
    else:
        limiter = delivery.LocalRateLimiter(settings.notify_rate)
        gate = delivery.LocalChatGate()
    # The queue's own connections: one statement per outcome, without a ping before each
    # (a failed statement after a server restart is retried by the delivery loop).
    queue_engine = create_engine(
        database_url, pool_size=settings.notify_concurrency, pre_ping=False
    )
    engine_delivery = delivery.Delivery(
        queue_engine,
        Sender(bot, create_sessionmaker(engine), i18n, settings.default_locale),
        limiter=limiter,
        gate=gate,
        retry=delivery.Retry(
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
    leadership = None if redis is not None else delivery.Leadership(database_url)

    async def consume() -> None:
        await outbox.consume_forever(
            engine,
            lambda connection, batch: fan_out_handler(connection, batch, settings=settings),
            listener=events,
            stop=stop,
        )

    async def send() -> None:
        await delivery.deliver_while_leading(
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
