"""Teachers' reminders, weekly summaries and the scheduler (SPEC §4)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from aiogram import Bot
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.i18n import make_i18n
from bot.scheduler import Jobs
from bot.testing.chat import Chat
from bot.testing.fake_api import FakeBotAPI
from handlers.pushes.staff import deputy_headers, deputy_xlsx
from services import reminders, reports
from services.db import models as m
from services.db.session import create_sessionmaker
from services.notifications.payloads import ClassWeek, DeputyWeek, Reminder
from services.notifications.queue import Outgoing
from services.reminders import Category, Run, SchoolRules
from tests.fixtures.schools import (
    CLASS_TEACHER_ACCOUNT,
    MONDAY,
    SUBSTITUTE_ACCOUNT,
    TEACHER_ACCOUNT,
    Staffroom,
    at,
    staffroom,
)


async def _rules(connection: AsyncConnection, room: Staffroom) -> SchoolRules:
    [rules] = await reminders.schools(connection, [room.school.school_id])
    return rules


def _summary(gaps: list[reminders.Gap]) -> set[tuple[str, int, int, int]]:
    return {(str(g.category), g.staff_id, g.slot, g.missing) for g in gaps}


async def test_gaps_follow_the_rules_substitutes_subgroups_and_grade_one(
    session: AsyncSession,
) -> None:
    room = await staffroom(session)
    connection = await session.connection()
    gaps = await reminders.school_gaps(connection, await _rules(connection, room), at(MONDAY, 20))
    assert _summary(gaps) == {
        # the untouched lesson: everything, for its teacher
        ("topic", room.teacher, 2, 0),
        ("attendance", room.teacher, 2, 0),
        ("homework", room.teacher, 2, 0),
        # the substitute who taught lesson 3 is the one reminded
        ("topic", room.substitute, 3, 0),
        # the control work: one of two students is without a mark
        ("marks", room.teacher, 4, 1),
        # grade 1: its topic is due, but no homework and no marks are expected
        ("topic", room.teacher, 1, 0),
    }
    # The subgroup lesson is complete: only Миша is in the group and he has his mark.
    due = {(g.category, g.slot): g.due for g in gaps}
    assert due[Category.TOPIC, 2] == at(MONDAY + timedelta(1), 0)
    assert due[Category.MARKS, 4] == at(MONDAY + timedelta(8), 0)  # a week after


async def test_seed002_homework_is_due_an_hour_and_a_half_after_the_class_ends(
    session: AsyncSession,
) -> None:
    room = await staffroom(session, "seed002")
    connection = await session.connection()
    gaps = await reminders.school_gaps(connection, await _rules(connection, room), at(MONDAY, 20))
    homework = next(g for g in gaps if g.category is Category.HOMEWORK)
    # 7Б's last lesson that day ends at 14:45 (lesson 6): due at 16:15.
    assert homework.due == at(MONDAY, 16, 15)
    marks = next(g for g in gaps if g.category is Category.MARKS)
    # an ordinary control work: a week (§2.12); internal monitoring's 3 days (§2.11) are
    # tests/integration/test_profile_rules.py's
    assert marks.due == at(MONDAY + timedelta(8), 0)


async def test_evening_reminder_names_class_subject_date_and_what_is_missing(
    session: AsyncSession, fake_api: FakeBotAPI, bot: Bot
) -> None:
    room = await staffroom(session)
    connection = await session.connection()
    rules = await _rules(connection, room)
    planned = await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 20))
    # Due by tomorrow morning: the teacher's lesson 1, 2 gaps; the substitute's topic.
    assert planned == reminders.Planned(teachers=2, gaps=5, messages=2)
    rows = (
        await connection.execute(
            text("SELECT account_id, payload FROM notifications WHERE category = 'reminder'")
        )
    ).all()
    payloads = {account: payload for account, payload in rows}
    assert set(payloads) == {TEACHER_ACCOUNT, SUBSTITUTE_ACCOUNT}
    from handlers.pushes.staff import staff_message

    with make_i18n("ru").context():
        composed = staff_message(Reminder.model_validate(payloads[TEACHER_ACCOUNT]))
    assert composed.text.startswith("⏰")
    assert "7Б, Алгебра" in composed.text and "(урок 2)" in composed.text
    assert "нет темы" in composed.text and "посещаемость не отмечена" in composed.text
    assert "нет домашнего задания" in composed.text
    assert "1А, Алгебра" in composed.text
    assert "срок пн, 23 нояб. 24:00" in composed.text
    buttons = [b.text for row in composed.buttons for b in row]
    assert any("темы урока" in b for b in buttons)
    # Said once a day: the same run again tells nothing new.
    again = await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 21))
    assert again == reminders.Planned(0, 0, 0)


async def test_morning_summary_lists_what_is_overdue(session: AsyncSession) -> None:
    room = await staffroom(session)
    connection = await session.connection()
    rules = await _rules(connection, room)
    tuesday = MONDAY + timedelta(1)
    planned = await reminders.queue_reminders(connection, rules, Run.MORNING, at(tuesday, 7, 30))
    assert planned.gaps == 5  # yesterday's topics, attendance, homework; not the control work
    payload = (
        await connection.execute(
            text("SELECT payload FROM notifications WHERE account_id = :a"),
            {"a": SUBSTITUTE_ACCOUNT},
        )
    ).scalar_one()
    assert payload["run"] == "morning"
    assert [g["category"] for g in payload["gaps"]] == ["topic"]


async def test_snooze_and_off_from_the_reminder_buttons(
    session: AsyncSession, chat: Callable[..., Chat]
) -> None:
    room = await staffroom(session)
    connection = await session.connection()
    rules = await _rules(connection, room)
    teacher = chat(TEACHER_ACCOUNT)
    # The buttons are pressed on Monday evening, under the reminder they came with.
    with time_machine.travel(at(MONDAY, 19, 50), tick=False):
        replies = await teacher.press("rem:s:topic:r")
        assert "до завтра" in replies[-1].params["text"]
        replies = await teacher.press("rem:o:homework:r")
        assert "отключены" in replies[-1].params["text"]
    planned = await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 20))
    payload = (
        await connection.execute(
            text("SELECT payload FROM notifications WHERE account_id = :a"),
            {"a": TEACHER_ACCOUNT},
        )
    ).scalar_one()
    assert {g["category"] for g in payload["gaps"]} == {"attendance"}
    assert planned.teachers == 2
    # The snooze ends at midnight.
    tuesday = MONDAY + timedelta(1)
    await reminders.queue_reminders(connection, rules, Run.MORNING, at(tuesday, 7, 30))
    payload = (
        await connection.execute(
            text(
                "SELECT payload FROM notifications WHERE account_id = :a"
                " AND dedup_key LIKE 'reminder:morning:%'"
            ),
            {"a": TEACHER_ACCOUNT},
        )
    ).scalar_one()
    # A new day: what is still overdue is told again, topics included; homework stays off.
    assert {g["category"] for g in payload["gaps"]} == {"topic", "attendance"}
    # /reminders shows the state and turns homework on again.
    with time_machine.travel(at(tuesday, 7, 40), tick=False):
        screen = await teacher.send("/reminders")
        assert "домашние задания: выкл." in screen[-1].params["text"]
        assert "темы урока: включены" in screen[-1].params["text"]  # the snooze has ended
        await teacher.press("rem:n:homework:p")
    assert not (await reminders.mutes(connection, TEACHER_ACCOUNT, at(tuesday, 8))).get(
        Category.HOMEWORK
    )


async def test_forged_reminder_buttons_change_nothing(
    session: AsyncSession, chat: Callable[..., Chat]
) -> None:
    await staffroom(session)
    connection = await session.connection()
    parent = chat(777)
    for data in ("rem:o:topic:r", "rem:x:topic:r", "rem:o:everything:r"):
        replies = await parent.press(data)
        assert replies[-1].method == "answerCallbackQuery"
    teacher = chat(TEACHER_ACCOUNT)
    await teacher.press("rem:o:nonsense:r")
    assert await reminders.mutes(connection, TEACHER_ACCOUNT, at(MONDAY, 20)) == {}
    assert await reminders.mutes(connection, 777, at(MONDAY, 20)) == {}


async def test_final_grades_are_reminded_as_the_deadline_approaches(
    session: AsyncSession,
) -> None:
    room = await staffroom(session, "seed004")
    session.add(
        m.TeachingAssignment(
            staff_id=room.teacher, class_id=room.school.class_id, subject_id=room.school.subject_id
        )
    )
    session.add(
        m.FinalGrade(
            student_id=room.students[0],
            subject_id=room.school.subject_id,
            period_id=room.school.period_id,
            value="5",
        )
    )
    await session.flush()
    connection = await session.connection()
    rules = await _rules(connection, room)
    # The quarter ends on 28 December; seed 004 §5.4: two days before, so due by 26.12 24:00.
    early = await reminders.school_gaps(connection, rules, at(date(2026, 12, 10), 20))
    assert not [g for g in early if g.category is Category.FINALS]
    near = await reminders.school_gaps(connection, rules, at(date(2026, 12, 22), 20))
    [finals] = [g for g in near if g.category is Category.FINALS]
    assert finals.missing == 1 and finals.due == at(date(2026, 12, 27), 0)
    chosen = reminders.select_gaps(near, Run.EVENING, at(date(2026, 12, 22), 20), rules)
    assert finals in chosen


async def test_weekly_summaries_for_class_teacher_and_deputy_with_xlsx(
    session: AsyncSession,
) -> None:
    room = await staffroom(session)
    session.add(
        m.Account(
            id=CLASS_TEACHER_ACCOUNT,
            channel_user_id=CLASS_TEACHER_ACCOUNT,
            chat_id=CLASS_TEACHER_ACCOUNT,
        )
    )
    session.add_all(
        [
            m.Attendance(
                student_id=room.students[1],
                lesson_id=room.kept_lesson,
                kind="absent",
                reason="unknown",
                is_valid=False,
            ),
            m.Mark(student_id=room.students[0], lesson_id=room.kept_lesson, value="2"),
        ]
    )
    await session.flush()
    connection = await session.connection()
    rules = await _rules(connection, room)
    friday = at(MONDAY + timedelta(4), 16, 30)
    queued = await reports.queue_weekly_reports(connection, rules, friday)
    assert queued == 2  # the class teacher (the teacher's own account) and the deputy
    rows: dict[str, dict[str, Any]] = dict(
        (
            await connection.execute(
                text("SELECT category, payload FROM notifications ORDER BY id")
            )
        ).all()
    )
    week = rows["class_week"]
    assert week["class"] == "7Б"
    students = {s["name"]: s for s in week["students"]}
    assert students["Иванов Петя"]["invalid"] == 1
    assert students["Иванов Миша"]["twos"] == ["Алгебра"]
    assert week["behind"] == [["Алгебра", 4]]  # lesson 2's three gaps and lesson 3's topic
    from handlers.pushes.staff import class_week_text, deputy_caption

    with make_i18n("ru").context():
        text_ru = class_week_text(ClassWeek.model_validate(week))
        caption = deputy_caption(DeputyWeek.model_validate(rows["deputy_week"]))
        headers = deputy_headers()
    assert "Иванов Петя: 0 / <b>1</b>" in text_ru
    assert "Иванов Миша: двойки — Алгебра" in text_ru
    assert "Уроков: 6" in caption
    report = DeputyWeek.model_validate(rows["deputy_week"])
    book = load_workbook(io.BytesIO(deputy_xlsx(report, headers)))
    teachers = list(book.worksheets[0].iter_rows(values_only=True))
    assert teachers[0][:3] == ("Учитель", "Уроков", "Тема вовремя, %")
    by_name = {row[0]: row for row in teachers[1:]}
    # Петрова: lessons 1, 2, 4, 5, 6; topics on time in 4, 5, 6 (entered at once): 60 %.
    assert by_name["Петрова Анна"][1:3] == (5, 60)
    assert by_name["Сидоров Олег"][1:3] == (1, 0)
    overdue = list(book.worksheets[1].iter_rows(values_only=True))
    # The header and every overdue gap: lesson 2's three, lesson 3's and 1А's topics.
    assert len(overdue) == 1 + 5
    assert {row[4] for row in overdue[1:]} >= {"темы урока", "посещаемость", "домашние задания"}
    _ = json.dumps(rows["deputy_week"])  # the payload is plain JSON


# --- the scheduler -----------------------------------------------------------------------


@pytest.fixture
async def committed_room(committing_engine: AsyncEngine) -> Staffroom:
    async with create_sessionmaker(committing_engine)() as session:
        room = await staffroom(session)
        # Tuesday is a school day too: its one lesson is complete.
        session.add(
            m.Lesson(
                school_id=room.school.school_id,
                class_id=room.school.class_id,
                subject_id=room.school.subject_id,
                teacher_id=room.teacher,
                date=MONDAY + timedelta(1),
                slot=1,
                starts_at=time(8, 30),
                ends_at=time(9, 15),
                topic="Повторение",
                attendance_taken_at=at(MONDAY + timedelta(1), 9),
            )
        )
        await session.commit()
    return room


async def test_scheduler_runs_each_job_once_and_another_process_takes_over(
    committing_engine: AsyncEngine, committed_room: Staffroom, database_url: str
) -> None:
    url = committing_engine.url.render_as_string(hide_password=False)
    first = Jobs(committing_engine, url)
    second = Jobs(committing_engine, url)
    try:
        with time_machine.travel(at(MONDAY, 20, 5), tick=False):
            outcome = await first.tick()
            assert outcome is not None
            assert outcome.runs == [f"evening:{committed_room.school.school_id}:2026-11-23"]
            assert await second.tick() is None  # not the leader
            again = await first.tick()
            assert again is not None and again.runs == []  # the run key holds
        await first.close()  # the leader dies: its connection closes, the lock is free
        with time_machine.travel(at(MONDAY + timedelta(1), 7, 31), tick=False):
            taken_over = await second.tick()
            assert taken_over is not None
            assert taken_over.runs == [f"morning:{committed_room.school.school_id}:2026-11-24"]
        async with committing_engine.connect() as connection:
            counts: dict[str, int] = dict(
                (
                    await connection.execute(
                        text(
                            "SELECT split_part(dedup_key, ':', 2), count(*) FROM notifications"
                            " WHERE category = 'reminder' GROUP BY 1"
                        )
                    )
                ).all()
            )
        assert counts == {"evening": 2, "morning": 2}
        # Sunday: no lessons, no morning summary; Saturday before the weekly time: nothing.
        with time_machine.travel(at(MONDAY + timedelta(6), 7, 45), tick=False):
            sunday = await second.tick()
            assert sunday is not None and sunday.queued == 0
    finally:
        await first.close()
        await second.close()


async def test_school_profile_and_overrides_from_the_command_line(
    committed_room: Staffroom, database_url: str, tmp_path: Path
) -> None:
    from tests.fixtures.cli import run_journalbot

    school = str(committed_room.school.school_id)
    code, out, _ = await run_journalbot(
        database_url, tmp_path, "school", "set-profile", "--school", school, "seed002"
    )
    assert code == 0 and "profile seed002" in out
    assert "homework_due           1.5h       seed 002 §2.7" in out
    code, out, _ = await run_journalbot(
        database_url,
        tmp_path,
        "school",
        "set",
        "--school",
        school,
        "written_due=day+5",
        "evening_reminder=19:00",
    )
    assert code == 0
    assert "written_due            day+5      the school's override (profile seed002: day+7" in out
    assert "evening_reminder       19:00      the school's override" in out
    # A bad value changes nothing and says why.
    code, _, err = await run_journalbot(
        database_url,
        tmp_path,
        "school",
        "set",
        "--school",
        school,
        "control_due=soon",
        "written_due=day+9",
    )
    assert code == 1 and "control_due: 'soon' is not a valid value" in err
    code, out, _ = await run_journalbot(
        database_url, tmp_path, "school", "show", "--school", school
    )
    assert "written_due            day+5      the school's override" in out
    code, _, err = await run_journalbot(
        database_url, tmp_path, "school", "set-profile", "--school", school, "seed999"
    )
    assert code == 1 and "unknown profile" in err


async def test_a_reminder_for_a_revoked_link_is_not_sent(session: AsyncSession) -> None:
    room = await staffroom(session)
    connection = await session.connection()
    rules = await _rules(connection, room)
    await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 20))
    rows = (
        await connection.execute(
            text(
                "SELECT n.id, n.account_id, a.channel, n.chat_id, n.student_id, n.category,"
                " n.dedup_key, n.payload, n.attempts, n.created_at"
                " FROM notifications n JOIN accounts a ON a.id = n.account_id"
                " WHERE n.account_id = :a"
            ),
            {"a": SUBSTITUTE_ACCOUNT},
        )
    ).all()
    [message] = [Outgoing.from_row(row) for row in rows]
    from services.notifications.content import load_batch

    assert (await load_batch(session, [message]))[message.id].has_content  # type: ignore[union-attr]
    # The substitute leaves the school's journal: the queued reminder says nothing any more.
    await connection.execute(
        text("UPDATE account_links SET revoked_at = now() WHERE account_id = :a"),
        {"a": SUBSTITUTE_ACCOUNT},
    )
    recipient = (await load_batch(session, [message]))[message.id]
    assert recipient is not None and not recipient.has_content


async def test_a_failing_average_is_flagged_in_the_class_teachers_week(
    session: AsyncSession,
) -> None:
    room = await staffroom(session)
    # 2 and 3 with weights 2 and 1: 2.33, rounds to 2 under half-up rounding.
    session.add_all(
        [
            m.Mark(
                student_id=room.students[1],
                lesson_id=room.control_lesson,
                value="2",
                weight=Decimal(2),
            ),
            m.Mark(student_id=room.students[1], lesson_id=room.kept_lesson, value="3"),
        ]
    )
    await session.flush()
    connection = await session.connection()
    rules = await _rules(connection, room)
    week = (
        await reports.class_week(
            connection,
            rules,
            class_id=room.school.class_id,
            start=MONDAY,
            end=MONDAY + timedelta(4),
            gaps=[],
            now=at(MONDAY + timedelta(4), 16),
        )
    ).model_dump(mode="json")
    petya = next(s for s in week["students"] if s["name"] == "Иванов Петя")
    assert petya["failing"] == ["Алгебра"] and petya["twos"] == ["Алгебра"]


async def test_a_deadline_in_hours_is_reminded_within_the_hour(session: AsyncSession) -> None:
    """Seed 002 §2.7: homework 1.5 hours after the class's lessons, due at 16:15 here."""
    room = await staffroom(session, "seed002")
    connection = await session.connection()
    rules = await _rules(connection, room)
    early = await reminders.queue_reminders(connection, rules, Run.SOON, at(MONDAY, 15, 0))
    assert early.gaps == 0  # more than an hour before
    soon = await reminders.queue_reminders(connection, rules, Run.SOON, at(MONDAY, 15, 30))
    assert soon == reminders.Planned(teachers=1, gaps=1, messages=1)
    payload = (
        await connection.execute(
            text("SELECT payload FROM notifications WHERE dedup_key LIKE 'reminder:soon:%'")
        )
    ).scalar_one()
    assert [g["category"] for g in payload["gaps"]] == ["homework"]
    again = await reminders.queue_reminders(connection, rules, Run.SOON, at(MONDAY, 15, 45))
    assert again.gaps == 0  # told once a day
