"""Notifications: a journal row written with bare SQL reaches each linked person's chat."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from aiogram import Bot
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import make_i18n
from bot.notifications import run_notifications, telegram_sender
from bot.settings import Settings
from bot.testing.fake_api import FakeBotAPI
from services.db.session import create_sessionmaker
from services.notifications import changes, digests, fanout, leadership, limits, queue
from services.notifications.limits import LocalRateLimiter
from services.notifications.queue import Outgoing
from services.notifications.sender import Sender
from services.notifications.worker import Delivery, Retry
from tests.fixtures.notifications import fast_delivery, write_mark
from tests.fixtures.schools import FATHER, MOTHER, SON, Family

# Monday 23 November 2026, 12:00 in Moscow: the lesson's day, outside the default quiet hours
# (21:00–08:00) and not a Sunday (the weekly digest). Every test here starts at this moment,
# whatever the hour the suite runs at; a test that needs another moment travels there itself.
SCHOOL_DAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def school_day_noon() -> Iterator[None]:
    """Python's clock at SCHOOL_DAY_NOON, ticking. The database's own clock is used only
    against itself here (a link's creation against an event's), never against Python's."""
    with time_machine.travel(SCHOOL_DAY_NOON, tick=True):
        yield


SETTINGS = Settings(default_locale="ru")


@pytest.fixture
async def sender(committing_engine: AsyncEngine, bot: Bot) -> Sender:
    return telegram_sender(bot, create_sessionmaker(committing_engine), make_i18n(), "ru")


async def _fan_out(engine: AsyncEngine, settings: Settings = SETTINGS) -> int:
    return await changes.consume_once(
        engine,
        lambda c, events: fanout.handle_events(
            c,
            events,
            hold=timedelta(seconds=settings.notify_hold_seconds),
            default_zone=settings.default_timezone,
        ),
    )


def _texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [str(r.params["text"]) for r in api.sent_messages(chat)]


async def _account_state(engine: AsyncEngine, account: int) -> tuple[bool, list[str]]:
    """Whether the account is active, and the statuses of its messages."""
    async with engine.connect() as connection:
        active = (
            await connection.execute(
                text("SELECT is_active FROM accounts WHERE id = :a"), {"a": account}
            )
        ).scalar_one()
        statuses = (
            await connection.execute(
                text("SELECT status FROM notifications WHERE account_id = :a"), {"a": account}
            )
        ).scalars()
        return bool(active), list(statuses)


async def test_a_mark_inserted_with_bare_sql_reaches_every_linked_person(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, bot: Bot
) -> None:
    stop = asyncio.Event()
    settings = Settings(default_locale="ru", telegram_api_url=fake_api.url)
    database_url = committing_engine.url.render_as_string(hide_password=False)
    task = asyncio.create_task(
        run_notifications(
            committing_engine,
            database_url,
            bot=bot,
            i18n=make_i18n(),
            settings=settings,
            stop=stop,
        )
    )
    try:
        await asyncio.sleep(0.2)  # listening
        await write_mark(committing_engine, family, "5", kind=family.control)
        await fake_api.wait_for("sendMessage", 3, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert _texts(fake_api, MOTHER) == [
        "📘 Миша Иванов — Алгебра: <b>5</b> (контрольная работа, пн, 23 нояб.)"
    ]
    assert _texts(fake_api, FATHER) == [
        "📘 Миша Иванов — Алгебра: <b>5</b> (control work, Mon, 23 Nov)"
    ]
    [son] = _texts(fake_api, SON)
    assert "Миша Иванов" in son and "<b>5</b>" in son and "Алгебра" in son
    assert "контроль эш" in son
    # Never twice: the queue holds one row per person and event, all sent.
    async with committing_engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT account_id, status FROM notifications"))
        ).all()
    assert sorted(rows) == [(MOTHER, "sent"), (FATHER, "sent"), (SON, "sent")]


async def test_low_marks_are_flagged_and_old_marks_are_not_sent(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    await write_mark(committing_engine, family, "2")
    async with committing_engine.begin() as connection:
        # Linked after that mark: the new account hears only what comes later.
        await connection.execute(
            text(
                "INSERT INTO accounts (id, channel_user_id, chat_id, language)"
                " VALUES (204, 204, 204, 'ru')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO account_links (account_id, role, student_id)"
                " VALUES (204, 'student', :s)"
            ),
            {"s": family.student_id},
        )
        await connection.execute(
            text("UPDATE accounts SET low_mark_threshold = 3 WHERE id = :a"), {"a": MOTHER}
        )
    await write_mark(committing_engine, family, "3")
    await _fan_out(committing_engine)
    async with committing_engine.connect() as connection:
        queued = (await connection.execute(text("SELECT count(*) FROM notifications"))).scalar()
    assert queued == 3 + 4
    await fast_delivery(committing_engine, sender).run_once()
    mother = _texts(fake_api, MOTHER)
    assert mother[0].startswith("⚠️ 📘 Миша Иванов — Алгебра: <b>2</b>")
    # Her threshold is 3; the father's is the default 2.
    assert mother[1].startswith("⚠️ 📘 Миша Иванов — Алгебра: <b>3</b>")
    assert _texts(fake_api, FATHER)[1].startswith("📘 Миша Иванов — Алгебра: <b>3</b>")
    assert len(_texts(fake_api, 204)) == 1


async def test_quiet_hours_hold_messages_until_morning(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    # 22:30 in Moscow: inside the default 21:00–08:00.
    with time_machine.travel(datetime(2026, 11, 23, 19, 30, tzinfo=UTC), tick=False):
        await write_mark(committing_engine, family, "4")
        await _fan_out(committing_engine)
        assert await fast_delivery(committing_engine, sender).run_once() == 0
    assert fake_api.sent_messages() == []
    with time_machine.travel(datetime(2026, 11, 24, 4, 59, tzinfo=UTC), tick=False):
        assert await fast_delivery(committing_engine, sender).run_once() == 0
    with time_machine.travel(datetime(2026, 11, 24, 5, 0, 1, tzinfo=UTC), tick=False):
        assert await fast_delivery(committing_engine, sender).run_once() == 3
    assert len(fake_api.sent_messages()) == 3


@time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), tick=False)
async def test_a_mark_corrected_before_it_went_out_is_sent_once_as_a_correction(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    held = Settings(default_locale="ru", notify_hold_seconds=30)
    first = await write_mark(committing_engine, family, "2")
    await _fan_out(committing_engine, held)
    second = await write_mark(committing_engine, family, "3", replaces=first, reason="пересдал")
    await _fan_out(committing_engine, held)
    # A second mark, removed within the hold: the family never hears of it.
    other = await write_mark(committing_engine, family, "4")
    await _fan_out(committing_engine, held)
    await write_mark(committing_engine, family, None, replaces=other, reason="ошибка")
    await _fan_out(committing_engine, held)
    assert await fast_delivery(committing_engine, sender).run_once() == 0
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, 31, tzinfo=UTC), tick=False):
        await fast_delivery(committing_engine, sender).run_once()
    # Never silent (seed 003 §8.6): one message, the value never sent against the latest.
    assert _texts(fake_api, MOTHER) == [
        "✎ Миша Иванов — Алгебра: отметка за пн, 23 нояб. (устный ответ) исправлена: "
        "2 → <b>3</b>. Причина: пересдал"
    ]
    # Corrected again after it was sent: now the family is told, with the value they saw.
    await write_mark(committing_engine, family, "4", replaces=second, reason="апелляция")
    await _fan_out(committing_engine, held)
    with time_machine.travel(datetime(2026, 11, 23, 9, 2, tzinfo=UTC), tick=False):
        await fast_delivery(committing_engine, sender).run_once()
    assert _texts(fake_api, MOTHER)[1] == (
        "✎ Миша Иванов — Алгебра: отметка за пн, 23 нояб. (устный ответ) исправлена: "
        "3 → <b>4</b>. Причина: апелляция"
    )


async def test_final_grades_of_a_period_arrive_as_one_message_per_child(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    async with committing_engine.begin() as connection:
        school = (
            await connection.execute(
                text("SELECT school_id FROM students WHERE id = :s"), {"s": family.student_id}
            )
        ).scalar_one()
        period = (
            await connection.execute(
                text(
                    "SELECT p.id FROM periods p JOIN academic_years y ON y.id ="
                    " p.academic_year_id WHERE y.school_id = :school"
                ),
                {"school": school},
            )
        ).scalar_one()
        await connection.execute(
            text(
                "INSERT INTO subjects (school_id, name) VALUES (:school, 'Физика'),"
                " (:school, 'Химия')"
            ),
            {"school": school},
        )
        # The whole quarter in one statement, as an import would write it.
        await connection.execute(
            text(
                "INSERT INTO final_grades (student_id, subject_id, period_id, value)"
                " SELECT :s, id, :p, CASE name WHEN 'Химия' THEN '4' ELSE '5' END"
                " FROM subjects WHERE school_id = :school"
            ),
            {"s": family.student_id, "p": period, "school": school},
        )
    await _fan_out(committing_engine)
    await fast_delivery(committing_engine, sender).run_once()
    assert _texts(fake_api, MOTHER) == [
        "🏁 Миша Иванов: итоговые отметки, 2-я четверть\n"
        "• Алгебра: <b>5</b>\n• Физика: <b>5</b>\n• Химия: <b>4</b>"
    ]
    assert len(fake_api.sent_messages()) == 3


async def test_429_makes_the_bot_wait_then_send(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    fake_api.fail(MOTHER, "sendMessage", status=429, retry_after=1)
    limiter = LocalRateLimiter(1000)
    engine = fast_delivery(committing_engine, sender)
    engine.limiter = limiter
    await write_mark(committing_engine, family, "5")
    await _fan_out(committing_engine)
    await engine.run_once()
    assert [
        r.failed_with for r in fake_api.of("sendMessage") if r.params["chat_id"] == MOTHER
    ] == [429]
    # The whole bot waits: the limiter hands out no slot before retry_after has passed.
    assert limiter._paused_until > 0
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=2), tick=False):
        await engine.run_once()
    assert len(_texts(fake_api, MOTHER)) == 1


async def test_403_marks_the_account_inactive_and_cancels_what_waits(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    fake_api.fail(FATHER, "sendMessage", status=403, description="Forbidden: bot was blocked")
    await write_mark(committing_engine, family, "5")
    await write_mark(committing_engine, family, "4")
    await _fan_out(committing_engine)
    engine = fast_delivery(committing_engine, sender, concurrency=1)
    await engine.run_once()
    active, states = await _account_state(committing_engine, FATHER)
    assert not active
    assert sorted(states) == ["cancelled", "cancelled"]
    assert _texts(fake_api, FATHER) == []
    assert len(_texts(fake_api, MOTHER)) == 2
    # Nothing new is queued for an inactive account.
    await write_mark(committing_engine, family, "3")
    await _fan_out(committing_engine)
    async with committing_engine.connect() as connection:
        count = (
            await connection.execute(
                text("SELECT count(*) FROM notifications WHERE account_id = :a"), {"a": FATHER}
            )
        ).scalar_one()
    assert count == 2


async def test_5xx_backs_off_then_parks_the_message_as_dead(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    fake_api.fail(SON, "sendMessage", status=502, description="Bad Gateway", times=None)
    engine = fast_delivery(committing_engine, sender, retry=Retry(max_attempts=3, base=10))
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        await write_mark(committing_engine, family, "5")
        await _fan_out(committing_engine)
        await engine.run_once()
    dues = []
    for minutes in (1, 2, 3):
        async with committing_engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT status, attempts, not_before, last_error FROM notifications"
                        " WHERE account_id = :a"
                    ),
                    {"a": SON},
                )
            ).one()
        dues.append(row)
        if row.status == "dead":
            break
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            await engine.run_once()
    assert [(d.status, d.attempts) for d in dues] == [
        ("pending", 1),
        ("pending", 2),
        ("dead", 3),
    ]
    # Backoff doubles, with jitter of ±50 %: 10 s, then 20 s.
    assert timedelta(seconds=5) <= dues[0].not_before - start <= timedelta(seconds=15)
    assert "Bad Gateway" in dues[2].last_error
    state = await queue.status(committing_engine)
    assert state.dead == 1
    assert await queue.retry_dead(committing_engine) == 1


async def test_two_workers_racing_never_send_twice(
    committing_engine: AsyncEngine, family: Family
) -> None:
    async with committing_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO notifications (account_id, chat_id, student_id, category,"
                " dedup_key, payload, not_before)"
                " SELECT :a, :a, :s, 'marks', 'test:' || n,"
                """ '{"kind": "mark", "mark_id": 1}'::jsonb, :due"""
                " FROM generate_series(1, 300) n"
            ),
            {"a": MOTHER, "s": family.student_id, "due": datetime.now(UTC) - timedelta(seconds=1)},
        )
    seen: list[int] = []

    async def record(message: Outgoing) -> None:
        await asyncio.sleep(0)
        seen.append(message.id)

    workers = [fast_delivery(committing_engine, record, batch=7) for _ in range(2)]

    async def drain(worker: Delivery) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    assert len(seen) == 300 == len(set(seen))
    assert all(w.sent > 0 for w in workers)


@pytest.fixture
async def leader_url(committing_engine: AsyncEngine) -> AsyncIterator[str]:
    yield committing_engine.url.render_as_string(hide_password=False)


async def test_one_sender_holds_the_lock_and_another_takes_over(leader_url: str) -> None:
    first = leadership.Leadership(leader_url)
    second = leadership.Leadership(leader_url)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        await first.release()
        assert await second.try_acquire()
    finally:
        with contextlib.suppress(Exception):
            await first.release()
        await second.release()


async def test_evening_digest_and_weekly_digest_are_composed_when_sent(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, sender: Sender
) -> None:
    async with committing_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO notification_prefs (account_id, category, mode)"
                " VALUES (:a, 'marks', 'digest')"
            ),
            {"a": MOTHER},
        )
    monday_noon = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(monday_noon, tick=False):
        await write_mark(committing_engine, family, "5")
        async with committing_engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO homework (lesson_id, due_date, text)"
                    " VALUES (:l, '2026-11-24', '№ 5, 6')"
                ),
                {"l": family.lesson_id},
            )
        await _fan_out(committing_engine)
        await fast_delivery(committing_engine, sender).run_once()
    # The father and the son hear of the mark at once; the mother waits for her digest.
    assert _texts(fake_api, MOTHER) == []
    assert len(_texts(fake_api, FATHER)) == 1 and len(_texts(fake_api, SON)) == 1
    with time_machine.travel(datetime(2026, 11, 23, 15, 59, tzinfo=UTC), tick=False):
        assert await fast_delivery(committing_engine, sender).run_once() == 0
    with time_machine.travel(datetime(2026, 11, 23, 16, 0, 1, tzinfo=UTC), tick=False):
        assert await fast_delivery(committing_engine, sender).run_once() == 2
    assert _texts(fake_api, MOTHER) == [
        "🌙 Вечерняя сводка\n\n📘 Миша Иванов — Алгебра: <b>5</b> (устный ответ, пн, 23 нояб.)"
    ]
    son = _texts(fake_api, SON)[1]
    assert son.startswith("🌙 Кичке җыентык") and "№ 5, 6" in son and "Алгебра" in son
    # Sunday at 19:00 in Moscow: the weekly digest, once.
    sunday = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    async with committing_engine.begin() as connection:
        saturday = await digests.schedule_weekly(connection, now=sunday - timedelta(days=1))
        assert saturday == 0
        assert await digests.schedule_weekly(connection, now=sunday) == 3
        assert await digests.schedule_weekly(connection, now=sunday + timedelta(hours=1)) == 0
    with time_machine.travel(sunday, tick=False):
        assert await fast_delivery(committing_engine, sender).run_once() == 3
    weekly = _texts(fake_api, MOTHER)[-1]
    assert weekly.startswith("📅 Итоги недели пн, 23 нояб. – вс, 29 нояб.")
    assert "👤 <b>Миша Иванов</b>\nОтметки: Алгебра 5" in weekly
    assert "Прогноз, 2-я четверть: Алгебра 5" in weekly


async def test_redis_shares_the_rate_limit_and_the_chat_gate_between_processes() -> None:
    from fakeredis import FakeAsyncRedis

    redis = FakeAsyncRedis()
    first = limits.RedisRateLimiter(redis, 50)  # one slot every 20 ms
    second = limits.RedisRateLimiter(redis, 50)
    now = 1_000_000.0
    waits = [await limiter.reserve(now) for limiter in (first, second, first, second)]
    assert waits == [0.0, 20.0, 40.0, 60.0]
    # A 429 seen by one process holds back every process.
    await second.pause(1.0)
    assert await first.reserve(time.time() * 1000) >= 900
    gates = [limits.RedisChatGate(redis), limits.RedisChatGate(redis)]
    assert await gates[0].wait_for(42) == 0.0
    assert 0 < await gates[1].wait_for(42) <= 1.0
    assert await gates[1].wait_for(43) == 0.0
    await redis.aclose()


async def test_blocking_and_unblocking_the_bot_through_updates(
    committing_engine: AsyncEngine, family: Family, bot: Bot
) -> None:
    from aiogram.types import Update

    from bot.dispatcher import create_dispatcher
    from tests.fixtures.bot import CODE_SECRET

    dispatcher = create_dispatcher(
        sessionmaker=create_sessionmaker(committing_engine),
        i18n=make_i18n(),
        code_secret=CODE_SECRET,
    )
    await write_mark(committing_engine, family, "5")
    await _fan_out(committing_engine)

    def member(status: str) -> dict[str, object]:
        bot_user = {"id": 1, "is_bot": True, "first_name": "Journal"}
        return {"status": status, "user": bot_user} | (
            {"until_date": 0} if status == "kicked" else {}
        )

    def member_update(old: str, new: str) -> Update:
        user = {"id": MOTHER, "is_bot": False, "first_name": "Ольга"}
        return Update.model_validate(
            {
                "update_id": 1,
                "my_chat_member": {
                    "chat": {"id": MOTHER, "type": "private", "first_name": "Ольга"},
                    "from": user,
                    "date": 0,
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                },
            },
            context={"bot": bot},
        )

    await dispatcher.feed_update(bot, member_update("member", "kicked"))
    assert await _account_state(committing_engine, MOTHER) == (False, ["cancelled"])
    await dispatcher.feed_update(bot, member_update("kicked", "member"))
    assert (await _account_state(committing_engine, MOTHER))[0] is True
