"""Marks the school's regulation forbids (seed 000 §5.8, seed 001 §4.3.6, seed 004 §5.3):
written by the journal program all the same, never pushed, shown under review and not counted,
told to the teacher who wrote them and to the deputy; a forbidden final grade is not set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from aiogram import Bot
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import make_i18n
from bot.notifications import telegram_sender
from bot.testing.fake_api import FakeBotAPI
from handlers.pushes.staff import deputy_caption, staff_message
from services import access, journal, reminders, reports
from services.db.session import create_sessionmaker
from services.notifications import changes, digests, fanout
from services.notifications.payloads import DeputyWeek, Reminder
from services.notifications.sender import Sender
from services.reminders import Category, Run
from tests.fixtures.notifications import fast_delivery
from tests.fixtures.rules import FIRST_GRADE_PARENT, RuledSchool, stamp, write
from tests.fixtures.schools import DEPUTY_ACCOUNT, MONDAY, MOTHER, TEACHER_ACCOUNT, at

Build = Callable[[str], Awaitable[RuledSchool]]
FRIDAY = MONDAY + timedelta(4)


@pytest.fixture
async def sender(committing_engine: AsyncEngine, bot: Bot) -> Sender:
    return telegram_sender(bot, create_sessionmaker(committing_engine), make_i18n(), "ru")


async def _push(engine: AsyncEngine, sender: Sender, moment: datetime) -> None:
    """The change reader and one round of delivery, at `moment` (outside quiet hours)."""
    with time_machine.travel(moment, tick=True):
        await changes.consume_once(
            engine,
            lambda c, events: fanout.handle_events(
                c, events, hold=timedelta(0), default_zone="Europe/Moscow"
            ),
        )
        await fast_delivery(engine, sender).run_once()


def _texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [str(r.params["text"]) for r in api.sent_messages(chat)]


async def _queued_for(engine: AsyncEngine, key: str) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(
                    text("SELECT count(*) FROM notifications WHERE dedup_key = :k"), {"k": key}
                )
            ).scalar_one()
        )


async def _subjects(
    engine: AsyncEngine, account: int, student: int, now: datetime
) -> dict[str, journal.SubjectMarks]:
    """The period's marks by subject, as the family's marks screen reads them."""
    async with create_sessionmaker(engine)() as session:
        child = await access.student_for(session, account, student)
        context = await journal.school_context(session, child.school_id, now)
        assert context.current is not None
        found = await journal.period_subjects(session, child, context.current, context.profile)
    return {s.subject: s for s in found}


async def _reminder(engine: AsyncEngine, room: RuledSchool, now: datetime) -> Reminder:
    """The teacher's next reminder (the evening run at `now`) as queued."""
    async with engine.begin() as connection:
        [rules] = await reminders.schools(connection, [room.school.school_id])
        await reminders.queue_reminders(connection, rules, Run.EVENING, now)
        payload = (
            await connection.execute(
                text(
                    "SELECT payload FROM notifications WHERE account_id = :a"
                    " AND category = 'reminder'"
                ),
                {"a": TEACHER_ACCOUNT},
            )
        ).scalar_one()
    return Reminder.model_validate(payload)


async def _deputy_week(engine: AsyncEngine, room: RuledSchool, now: datetime) -> DeputyWeek:
    async with engine.begin() as connection:
        [rules] = await reminders.schools(connection, [room.school.school_id])
        await reports.queue_weekly_reports(connection, rules, now)
        payload = (
            await connection.execute(
                text(
                    "SELECT payload FROM notifications WHERE account_id = :a"
                    " AND category = 'deputy_week'"
                ),
                {"a": DEPUTY_ACCOUNT},
            )
        ).scalar_one()
    return DeputyWeek.model_validate(payload)


def _against(gaps: object) -> list[tuple[str, str, str | None, int]]:
    assert isinstance(gaps, tuple)
    return sorted(
        (g.class_label, g.subject, g.value, g.missing)
        for g in gaps
        if g.category == Category.FORBIDDEN
    )


async def test_seed000_a_pass_mark_is_under_review_and_told_to_teacher_and_deputy(
    committing_engine: AsyncEngine, ruled_school: Build, fake_api: FakeBotAPI, sender: Sender
) -> None:
    engine = committing_engine
    room = await ruled_school("seed000")
    school = room.school
    mark = {"student_id": school.student_id, "author_id": school.teacher_id}
    await write(engine, "marks", lesson_id=school.lesson_id, value="4", **mark)
    # Seed 000 §5.8: five-point marks only; the journal program writes "зач" all the same.
    passed = await write(engine, "marks", lesson_id=room.pe, value="зач", **mark)
    await _push(engine, sender, at(MONDAY, 12))

    [told] = _texts(fake_api, MOTHER)
    assert "Алгебра: <b>4</b>" in told
    assert await _queued_for(engine, f"mark:{passed}") == 0

    subjects = await _subjects(engine, MOTHER, school.student_id, at(MONDAY, 12))
    pe = subjects["Физическая культура"]
    assert [(m.value, m.under_review) for m in pe.marks] == [("зач", True)]
    assert pe.forecast.grade is None  # not "зач": the mark is not counted
    assert subjects["Алгебра"].forecast.grade == "4"

    reminder = await _reminder(engine, room, at(MONDAY, 20))
    assert _against(reminder.gaps) == [("7Б", "Физическая культура", "зач", 1)]
    with make_i18n("ru").context():
        said = staff_message(reminder).text
    assert "запись с нарушением правил школы: «зач» (1 ученик)" in said

    report = await _deputy_week(engine, room, at(FRIDAY, 16, 30))
    assert _against(report.overdue) == [("7Б", "Физическая культура", "зач", 1)]
    assert {g.teacher for g in report.overdue if g.category == Category.FORBIDDEN} == {
        "Петрова Анна"
    }
    # Marks given: the 4, not the «зач».
    assert sum(teacher.marks for teacher in report.teachers) == 1
    with make_i18n("ru").context():
        caption = deputy_caption(report)
    assert "с нарушением правил школы" in caption and "«зач»" in caption

    # Sunday's weekly digest is a push too: the "зач" is neither listed nor forecast.
    sunday = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    async with engine.begin() as connection:
        await digests.schedule_weekly(connection, now=sunday)
    with time_machine.travel(sunday, tick=False):
        await fast_delivery(engine, sender).run_once()
    weekly = _texts(fake_api, MOTHER)[-1]
    assert "Отметки: Алгебра 4" in weekly
    assert "Физическая культура" not in weekly and "зач" not in weekly


async def test_seed001_a_first_graders_mark_is_never_pushed_nor_counted(
    committing_engine: AsyncEngine, ruled_school: Build, fake_api: FakeBotAPI, sender: Sender
) -> None:
    engine = committing_engine
    room = await ruled_school("seed001")
    school = room.school
    # Seed 001 §4.3.6: "оценки в 1-м классе в журнал ... не ставятся".
    two = await write(
        engine,
        "marks",
        student_id=room.vova,
        lesson_id=room.first_grade_lesson,
        value="2",
        author_id=school.teacher_id,
    )
    await write(
        engine, "marks", student_id=school.student_id, lesson_id=school.lesson_id, value="5"
    )
    await _push(engine, sender, at(MONDAY, 12))

    assert _texts(fake_api, FIRST_GRADE_PARENT) == []
    assert await _queued_for(engine, f"mark:{two}") == 0
    assert len(_texts(fake_api, MOTHER)) == 1  # a 7th-grader's mark goes out as ever

    subjects = await _subjects(engine, FIRST_GRADE_PARENT, room.vova, at(MONDAY, 12))
    algebra = subjects["Алгебра"]
    assert [(m.value, m.under_review) for m in algebra.marks] == [("2", True)]
    assert algebra.forecast.average is None and algebra.forecast.grade is None

    reminder = await _reminder(engine, room, at(MONDAY, 20))
    assert _against(reminder.gaps) == [("1А", "Алгебра", "2", 1)]
    report = await _deputy_week(engine, room, at(FRIDAY, 16, 30))
    assert _against(report.overdue) == [("1А", "Алгебра", "2", 1)]


async def test_seed004_a_not_attested_final_is_not_set_and_exempt_is_nowhere(
    committing_engine: AsyncEngine, ruled_school: Build, fake_api: FakeBotAPI, sender: Sender
) -> None:
    engine = committing_engine
    room = await ruled_school("seed004")
    school = room.school
    written = at(date(2026, 12, 22), 12)
    final = {"student_id": school.student_id, "period_id": school.period_id, **stamp(written)}
    # Seed 004 §5.3: no "н/а" as a quarter's grade, no "осв" anywhere in the journal.
    na = await write(
        engine,
        "final_grades",
        subject_id=school.subject_id,
        value="н/а",
        author_id=school.teacher_id,
        **final,
    )
    await write(engine, "final_grades", subject_id=room.pe_subject, value="5", **final)
    await write(
        engine,
        "marks",
        student_id=school.student_id,
        lesson_id=room.pe,
        value="осв",
        author_id=school.teacher_id,
    )
    await _push(engine, sender, written)

    # One message for the quarter, without the forbidden grade; nothing of the "осв".
    assert _texts(fake_api, MOTHER) == [
        "🏁 Миша Иванов: итоговые отметки, 2-я четверть\n• Физическая культура: <b>5</b>"
    ]
    async with engine.connect() as connection:
        grades = (
            await connection.execute(text("SELECT payload -> 'grades' FROM notifications"))
        ).scalars()
        assert [na] not in list(grades)

    async with create_sessionmaker(engine)() as session:
        child = await access.student_for(session, MOTHER, school.student_id)
        context = await journal.school_context(session, child.school_id, written)
        rows = {row.subject: row for row in await journal.finals(session, child, context)}
    assert rows["Алгебра"].under_review == {school.period_id}
    assert rows["Физическая культура"].under_review == frozenset()
    pe = (await _subjects(engine, MOTHER, school.student_id, written))["Физическая культура"]
    assert [(m.value, m.under_review) for m in pe.marks] == [("осв", True)]
    assert pe.forecast.grade is None

    evening = at(date(2026, 12, 22), 20)
    async with engine.connect() as connection:
        [rules] = await reminders.schools(connection, [school.school_id])
        gaps = await reminders.school_gaps(connection, rules, evening)
    # Written, but not set: the quarter's algebra grade is still missing (due 26.12 24:00).
    [finals] = [g for g in gaps if g.category is Category.FINALS]
    assert (finals.subject, finals.missing) == ("Алгебра", 1)

    reminder = await _reminder(engine, room, evening)
    assert _against(reminder.gaps) == [
        ("7Б", "Алгебра", "н/а", 1),
        ("7Б", "Физическая культура", "осв", 1),
    ]
    with make_i18n("ru").context():
        said = staff_message(reminder).text
    assert (
        "<b>7Б, Алгебра, 2-я четверть</b>: итоговые отметки: нет у 1; "
        "запись с нарушением правил школы: «н/а» (1 ученик) — срок сб, 26 дек. 24:00"
    ) in said

    # The deputy's Friday: the "осв" of 23 November is past the 30 days the report looks back.
    report = await _deputy_week(engine, room, at(date(2026, 12, 25), 16, 30))
    assert _against(report.overdue) == [("7Б", "Алгебра", "н/а", 1)]


async def test_seed004_a_not_attested_final_put_right_is_told_as_a_grade_not_a_correction(
    committing_engine: AsyncEngine, ruled_school: Build, fake_api: FakeBotAPI, sender: Sender
) -> None:
    """The family never heard of the forbidden «н/а» (seed 004 §5.3), so its correction to a
    3 reaches them as the quarter's grade, without «было н/а»."""
    engine = committing_engine
    room = await ruled_school("seed004")
    school = room.school
    written = at(date(2026, 12, 22), 12)
    final = {"student_id": school.student_id, "period_id": school.period_id}
    na = await write(
        engine,
        "final_grades",
        subject_id=school.subject_id,
        value="н/а",
        author_id=school.teacher_id,
        **final,
        **stamp(written),
    )
    await _push(engine, sender, written)
    assert _texts(fake_api, MOTHER) == []
    corrected = written + timedelta(hours=1)
    await write(
        engine,
        "final_grades",
        subject_id=school.subject_id,
        value="3",
        author_id=school.teacher_id,
        replaces_id=na,
        reason="ошибка",
        **final,
        **stamp(corrected),
    )
    await _push(engine, sender, corrected)
    assert _texts(fake_api, MOTHER) == [
        "🏁 Миша Иванов: итоговые отметки, 2-я четверть\n• Алгебра: <b>3</b>"
    ]
