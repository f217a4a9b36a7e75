"""The class teacher's daily attendance check (seed 001 §4.2.3)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.i18n import make_i18n
from handlers.pushes.staff import staff_message
from services import duties, reminders, scheduling
from services.db import models as m
from services.notifications.payloads import ClassDay, FewMarks, decode
from tests.fixtures.schools import (
    MONDAY,
    SUBSTITUTE_ACCOUNT,
    TEACHER_ACCOUNT,
    Staffroom,
    at,
    staffroom,
)


async def _rules(connection: AsyncConnection, room: Staffroom) -> reminders.SchoolRules:
    [rules] = await reminders.schools(connection, [room.school.school_id])
    return rules


def _daily(rules: reminders.SchoolRules, now: datetime) -> bool:
    """Whether the daily attendance run is due at `now`."""
    return scheduling.DAILY_ATTENDANCE_JOB in {r.job for r in scheduling.due_runs(rules, now)}


async def _room(session: AsyncSession, profile: str) -> Staffroom:
    room = await staffroom(session, profile)
    session.add_all(
        [
            m.Attendance(
                student_id=room.students[1],
                lesson_id=room.kept_lesson,
                kind="absent",
                reason="unknown",
                is_valid=False,
            ),
            m.Attendance(
                student_id=room.students[0],
                lesson_id=room.control_lesson,
                kind="late",
                reason="illness",
                is_valid=True,
                minutes_late=5,
            ),
        ]
    )
    await session.flush()
    return room


async def test_seed001_class_teacher_gets_the_days_attendance(session: AsyncSession) -> None:
    room = await _room(session, "seed001")
    connection = await session.connection()
    rules = await _rules(connection, room)
    before, after = at(MONDAY, 15, 30), at(MONDAY, 16, 30)
    assert _daily(rules, after) and not _daily(rules, before)
    assert await duties.queue_daily_attendance(connection, rules, after) == 1
    # Once per class and day, however often the run is repeated.
    assert await duties.queue_daily_attendance(connection, rules, after) == 0
    rows = (
        await connection.execute(
            text("SELECT account_id, category, payload, not_before FROM notifications")
        )
    ).all()
    [(account, category, stored, not_before)] = rows
    assert (account, category, not_before) == (TEACHER_ACCOUNT, "class_day", after)
    payload = decode(stored)
    assert isinstance(payload, ClassDay)
    assert payload.class_label == "7Б" and payload.day == MONDAY
    assert {(a.name, a.late, a.slots, a.reason, a.valid) for a in payload.absences} == {
        ("Иванов Петя", False, (6,), "unknown", False),
        ("Иванов Миша", True, (4,), "illness", True),
    }
    assert [slot for slot, _ in payload.untaken] == [2]  # the untouched lesson
    with make_i18n("ru").context(), make_i18n("ru").use_locale("ru"):
        shown = staff_message(payload).text
    assert "Иванов Петя: пропуск урока 6 (причина не указана, <b>неуважительная</b>)" in shown
    assert "Иванов Миша: опоздание на урок 4 (болезнь, уважительная)" in shown
    assert "урок 2" in shown


async def test_everyone_present_and_no_summary_by_default(session: AsyncSession) -> None:
    room = await staffroom(session, "default")
    connection = await session.connection()
    rules = await _rules(connection, room)
    late = at(MONDAY, 20, 30)
    assert not _daily(rules, late)
    day = await duties.class_day(connection, class_id=room.school.class_id, day=MONDAY)
    assert day.absences == ()
    with make_i18n("en").context(), make_i18n("en").use_locale("en"):
        assert "Everyone was present." in staff_message(day).text


# --- too few marks before the period ends (seed 003 §8.4, seed 004 §5.2) --------------------


async def test_too_few_marks_two_weeks_before_the_quarter_ends(session: AsyncSession) -> None:
    room = await staffroom(session, "seed004")
    # Another teacher's English lessons for the whole class: their own alert.
    session.add(
        m.Lesson(
            school_id=room.school.school_id,
            class_id=room.school.class_id,
            subject_id=(
                await session.execute(
                    text("SELECT id FROM subjects WHERE name = 'Английский язык'")
                )
            ).scalar_one(),
            teacher_id=room.substitute,
            date=MONDAY,
            slot=7,
            starts_at=time(15, 0),
            ends_at=time(15, 45),
        )
    )
    await session.flush()
    connection = await session.connection()
    rules = await _rules(connection, room)
    few = scheduling.FEW_MARKS_JOB
    early, due = at(date(2026, 12, 1), 9), at(date(2026, 12, 14), 9)  # quarter 2 ends 28.12
    assert few in {r.job for r in scheduling.due_runs(rules, due)}
    assert await duties.queue_few_marks(connection, rules, early) == 0
    # The class teacher (who teaches algebra: no message of their own) and the other teacher.
    assert await duties.queue_few_marks(connection, rules, due) == 2
    assert await duties.queue_few_marks(connection, rules, due) == 0
    told = {
        account: decode(stored)
        for account, stored in await connection.execute(
            text("SELECT account_id, payload FROM notifications")
        )
    }
    summary, own = told[TEACHER_ACCOUNT], told[SUBSTITUTE_ACCOUNT]
    assert isinstance(summary, FewMarks) and isinstance(own, FewMarks)
    assert summary.staff_id is None and own.staff_id == room.substitute
    assert summary.ends_on == date(2026, 12, 28) and summary.min_marks == 3
    by_subject = {(s.subject, s.teacher): dict(s.students) for s in summary.subjects}
    assert by_subject[("Алгебра", "Петрова Анна")]["Иванов Петя"] == 0
    # Петрова's English is the subgroup's: Миша only, with one mark.
    assert by_subject[("Английский язык", "Петрова Анна")] == {"Иванов Миша": 1}
    assert [(s.subject, dict(s.students)) for s in own.subjects] == [
        # Marks of the subject whoever gave them: Миша's one in the subgroup counts.
        ("Английский язык", {"Иванов Миша": 1, "Иванов Петя": 0})
    ]
    with make_i18n("ru").context(), make_i18n("ru").use_locale("ru"):
        shown = staff_message(own).text
    assert "Ученики, у которых пока меньше 3 отметок:" in shown
    assert "• Иванов Петя: 0 отметок" in shown


async def test_no_few_marks_alert_by_default(session: AsyncSession) -> None:
    room = await staffroom(session, "default")
    connection = await session.connection()
    rules = await _rules(connection, room)
    due = at(date(2026, 12, 14), 9)
    assert scheduling.FEW_MARKS_JOB not in {r.job for r in scheduling.due_runs(rules, due)}
    assert await duties.queue_few_marks(connection, rules, due) == 0
