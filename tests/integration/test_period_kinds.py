"""Periods as the school keeps them (seed 004 §5.1–5.2, seed 001 §5.1–5.2): finals reminders,
the class teacher's week and the final-grade push, each by the class's own periods."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from aiogram import Bot
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.i18n import make_i18n
from bot.notifications import telegram_sender
from bot.testing.fake_api import FakeBotAPI
from handlers.pushes.staff import staff_message
from services import reminders, reports
from services.db import models as m
from services.db.session import create_sessionmaker
from services.notifications import changes, fanout
from services.notifications.payloads import Reminder, ReminderRun
from services.reminders import Category, Gap, Run, SchoolRules
from tests.fixtures.factories import mini_school
from tests.fixtures.notifications import fast_delivery
from tests.fixtures.periods import TwoKinds, two_kinds_school
from tests.fixtures.schools import at


async def _rules(connection: AsyncConnection, school_id: int) -> SchoolRules:
    [rules] = await reminders.schools(connection, [school_id])
    return rules


async def _finals(connection: AsyncConnection, school_id: int, day: date) -> list[Gap]:
    gaps = await reminders.school_gaps(
        connection, await _rules(connection, school_id), at(day, 20)
    )
    return sorted((g for g in gaps if g.category is Category.FINALS), key=lambda g: g.class_id)


async def test_each_class_is_reminded_of_its_own_periods_finals(
    session: AsyncSession, two_kinds: TwoKinds
) -> None:
    connection = await session.connection()
    school = two_kinds.school.school_id
    # Before the first quarter ends (24 October; seed 004 §5.4: due two days before), 7Б
    # is reminded of it; 10А, whose half-year goes on until December, of nothing.
    [quarter] = await _finals(connection, school, date(2026, 10, 20))
    assert (quarter.class_label, quarter.period, quarter.missing) == ("7Б", "quarter:1", 1)
    assert quarter.due == at(date(2026, 10, 23), 0)
    # Before the second quarter and the first half-year end (both on 28 December).
    seventh, tenth = await _finals(connection, school, date(2026, 12, 22))
    assert (seventh.class_label, seventh.period) == ("7Б", "quarter:2")
    assert (tenth.class_label, tenth.period) == ("10А", "half_year:1")
    assert seventh.due == tenth.due == at(date(2026, 12, 27), 0)
    rules = await _rules(connection, school)
    chosen = reminders.select_gaps(
        [seventh, tenth], Run.EVENING, at(date(2026, 12, 22), 20), rules
    )
    assert chosen == [seventh, tenth]
    payload = Reminder(
        staff_id=seventh.staff_id,
        run=ReminderRun.EVENING,
        zone="Europe/Moscow",
        gaps=(seventh.entry(), tenth.entry()),
    )
    with make_i18n("ru").context():
        reminder = staff_message(payload).text
    assert "<b>7Б, Алгебра, 2-я четверть</b>: итоговые отметки" in reminder
    assert "<b>10А, Алгебра, 1-е полугодие</b>: итоговые отметки" in reminder
    assert reminder.count("срок сб, 26 дек. 24:00") == 2


async def test_a_seed001_school_whose_year_is_in_quarters_gets_finals_reminders(
    session: AsyncSession,
) -> None:
    school = await mini_school(session)  # its year: the second quarter, 3 Nov – 28 Dec
    await session.execute(
        text("UPDATE schools SET profile = 'seed001' WHERE id = :s"), {"s": school.school_id}
    )
    session.add(
        m.TeachingAssignment(
            staff_id=school.teacher_id, class_id=school.class_id, subject_id=school.subject_id
        )
    )
    await session.flush()
    connection = await session.connection()
    # Seed 001 §5.3: final grades "не позднее 2-х дней после окончания учебного периода".
    [gap] = await _finals(connection, school.school_id, date(2026, 12, 27))
    assert (gap.class_label, gap.period, gap.missing) == ("7Б", "quarter:2", 1)
    assert gap.due == at(date(2026, 12, 31), 0)


async def test_the_class_teachers_week_judges_failing_by_the_classs_period(
    session: AsyncSession, two_kinds: TwoKinds
) -> None:
    connection = await session.connection()
    rules = await _rules(connection, two_kinds.school.school_id)
    monday = date(2026, 11, 23)

    async def failing(class_id: int) -> list[list[str]]:
        week = await reports.class_week(
            connection,
            rules,
            class_id=class_id,
            start=monday,
            end=monday + timedelta(days=4),
            gaps=[],
            now=at(monday + timedelta(days=4), 16),
        )
        return [list(s.failing) for s in week.students if s.failing]

    # Полина's half-year: 5 and 2, a 4 on the way; her second quarter alone would be a 2.
    assert await failing(two_kinds.tenth) == []
    # Миша's second quarter: a 5; his October 2 belongs to the first.
    assert await failing(two_kinds.school.class_id) == []


# --- the final grade of a half-year reaches the family ----------------------------------------

MOTHER = 311
# Friday 25 December 2026, 12:00 in Moscow: the half-year's final grades are being entered.
HALF_YEAR_END_NOON = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def half_year_end_noon() -> Iterator[None]:
    with time_machine.travel(HALF_YEAR_END_NOON, tick=True):
        yield


async def test_a_half_years_final_grade_is_pushed_to_the_family(
    committing_engine: AsyncEngine, fake_api: FakeBotAPI, bot: Bot, half_year_end_noon: None
) -> None:
    async with create_sessionmaker(committing_engine)() as session:
        await session.execute(text("SET LOCAL journal.capture = 'off'"))
        built = await two_kinds_school(session)
        session.add(m.Account(id=MOTHER, channel_user_id=MOTHER, chat_id=MOTHER, language="ru"))
        await session.flush()
        session.add(
            m.AccountLink(account_id=MOTHER, role="guardian", guardian_id=built.school.guardian_id)
        )
        await session.commit()
    # Entered as the school's journal program would: plain SQL, its own transaction.
    async with committing_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO final_grades (student_id, subject_id, period_id, value)"
                " VALUES (:s, :subject, :p, '4')"
            ),
            {"s": built.polina, "subject": built.school.subject_id, "p": built.h1},
        )
    await changes.consume_once(
        committing_engine,
        lambda c, events: fanout.handle_events(
            c, events, hold=timedelta(0), default_zone="Europe/Moscow"
        ),
    )
    sender = telegram_sender(bot, create_sessionmaker(committing_engine), make_i18n(), "ru")
    await fast_delivery(committing_engine, sender).run_once()
    assert [str(r.params["text"]) for r in fake_api.sent_messages(MOTHER)] == [
        "🏁 Полина Иванова: итоговые отметки, 1-е полугодие\n• Алгебра: <b>4</b>"
    ]
