"""A profile says only what its seed says (SPEC §4): essays, internal monitoring, the shift's
homework hour, lessons without homework, final grades without a stated deadline, seed 003."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services import reminders, reports
from services.db import models as m
from services.db.session import create_sessionmaker
from services.reminders import Category, Gap
from services.scheduling import due_runs
from tests.fixtures.factories import MiniSchool, add_class, add_student, mini_school
from tests.fixtures.journal_import import RosterSchool
from tests.fixtures.schools import MONDAY, at


async def _school(session: AsyncSession, profile: str) -> MiniSchool:
    school = await mini_school(session, lesson_day=MONDAY)
    await session.execute(
        text("UPDATE schools SET profile = :p WHERE id = :s"),
        {"p": profile, "s": school.school_id},
    )
    return school


async def _class(
    session: AsyncSession, school: MiniSchool, grade: int, letter: str, *, shift: int = 1
) -> int:
    class_id = await add_class(session, school, grade, letter)
    await session.execute(
        text("UPDATE classes SET shift = :shift WHERE id = :c"), {"shift": shift, "c": class_id}
    )
    await add_student(session, school, class_id=class_id, first_name="Оля")
    return class_id


async def _subject(session: AsyncSession, school: MiniSchool, name: str) -> int:
    subject = m.Subject(school_id=school.school_id, name=name)
    session.add(subject)
    await session.flush()
    return subject.id


async def _kind(session: AsyncSession, school: MiniSchool, code: str, **flags: bool) -> int:
    kind = m.WorkKind(school_id=school.school_id, code=code, name=code, **flags)
    session.add(kind)
    await session.flush()
    return kind.id


async def _lesson(
    session: AsyncSession,
    school: MiniSchool,
    slot: int,
    ends: time,
    **values: object,
) -> int:
    lesson = m.Lesson(
        school_id=school.school_id,
        class_id=values.pop("class_id", school.class_id),
        subject_id=values.pop("subject_id", school.subject_id),
        teacher_id=school.teacher_id,
        date=MONDAY,
        slot=slot,
        starts_at=time(ends.hour - 1, ends.minute),
        ends_at=ends,
        **values,
    )
    session.add(lesson)
    await session.flush()
    return lesson.id


async def _gaps(connection: AsyncConnection, school: MiniSchool, hour: int = 20) -> list[Gap]:
    [rules] = await reminders.schools(connection, [school.school_id])
    return await reminders.school_gaps(connection, rules, at(MONDAY, hour))


def _due(gaps: list[Gap], category: Category) -> dict[int, object]:
    """The deadline of each gap of the category, by the lesson's slot."""
    return {g.slot: g.due for g in gaps if g.category is category}


async def test_seed000_gives_two_weeks_only_to_senior_essays_in_russian_and_literature(
    session: AsyncSession,
) -> None:
    school = await _school(session, "seed000")
    tenth, ninth = await _class(session, school, 10, "А"), await _class(session, school, 9, "А")
    russian = await _subject(session, school, "Русский язык")
    literature = await _subject(session, school, "Литература")
    maths = await _subject(session, school, "Математика")
    essay = await _kind(session, school, "essay", is_written=True)
    for slot, class_id, subject in (
        (3, tenth, russian),
        (4, tenth, literature),
        (5, ninth, russian),
        (6, tenth, maths),
    ):
        await _lesson(
            session,
            school,
            slot,
            time(8 + slot, 45),
            class_id=class_id,
            subject_id=subject,
            work_kind_id=essay,
        )
    marks = _due(await _gaps(await session.connection(), school), Category.MARKS)
    two_weeks, one_week = at(MONDAY + timedelta(15), 0), at(MONDAY + timedelta(8), 0)
    # seed 000 §5.3: "сочинения по русскому языку и литературе в 10-11 классах до двух недель"
    assert marks == {3: two_weeks, 4: two_weeks, 5: one_week, 6: one_week}


async def test_seed002_gives_three_days_only_to_internal_monitoring(
    session: AsyncSession,
) -> None:
    school = await _school(session, "seed002")
    control = await _kind(session, school, "control", is_written=True, is_control=True)
    monitoring = await _kind(
        session, school, "monitoring", is_written=True, is_control=True, internal_monitoring=True
    )
    await _lesson(session, school, 3, time(11, 45), work_kind_id=control)
    await _lesson(session, school, 4, time(12, 45), work_kind_id=monitoring)
    marks = _due(await _gaps(await session.connection(), school), Category.MARKS)
    # §2.11: internal monitoring in 3 days; §2.12: any other written work within a week.
    assert marks == {4: at(MONDAY + timedelta(4), 0), 3: at(MONDAY + timedelta(8), 0)}


async def test_seed000_homework_is_due_when_the_classs_shift_ends(session: AsyncSession) -> None:
    school = await _school(session, "seed000")
    # 7Б (first shift) ends at 12:45, 8А at 13:05: the first shift ends at 13:05. 3В (second
    # shift) ends at 17:30, 4В at 18:15: the second shift ends at 18:15.
    eighth = await _class(session, school, 8, "А")
    third = await _class(session, school, 3, "В", shift=2)
    fourth = await _class(session, school, 4, "В", shift=2)
    await _lesson(session, school, 5, time(12, 45))
    await _lesson(session, school, 6, time(13, 5), class_id=eighth, no_homework=True)
    await _lesson(session, school, 7, time(17, 30), class_id=third)
    await _lesson(session, school, 8, time(18, 15), class_id=fourth, no_homework=True)
    gaps = await _gaps(await session.connection(), school)
    homework = {(g.class_label, g.slot): g.due for g in gaps if g.category is Category.HOMEWORK}
    # seed 000 §5.5: "по окончании последнего урока первой смены / второй смены"
    assert homework == {
        ("7Б", 2): at(MONDAY, 13, 5),
        ("7Б", 5): at(MONDAY, 13, 5),
        ("3В", 7): at(MONDAY, 18, 15),
    }
    # Due within the day: the evening reminder would come too late, so the runs within the
    # hour before a deadline are due too.
    [rules] = await reminders.schools(await session.connection(), [school.school_id])
    assert any(run.job == "soon" for run in due_runs(rules, at(MONDAY, 12, 15)))


async def test_a_lesson_without_homework_set_is_not_reminded(session: AsyncSession) -> None:
    school = await _school(session, "seed002")
    await _lesson(session, school, 3, time(11, 45), no_homework=True)
    await _lesson(session, school, 4, time(12, 45))
    gaps = await _gaps(await session.connection(), school)
    # seed 002 §2.7: homework is written "в случае, если домашнее задание задается".
    assert set(_due(gaps, Category.HOMEWORK)) == {2, 4}
    assert {g.slot for g in gaps if g.category is Category.TOPIC} == {2, 3, 4}
    # Nor does the deputy's report expect it (seed 004 §4.6.5's shares are of lessons due).
    [rules] = await reminders.schools(await session.connection(), [school.school_id])
    week = await reports.deputy_week(
        await session.connection(),
        rules,
        start=MONDAY,
        end=MONDAY,
        gaps=gaps,
        now=at(MONDAY, 20),
    )
    [teacher] = week.teachers
    # homework was due 1.5 h after the lessons (§2.7); the topics fall due only at 24:00
    assert (teacher.lessons, teacher.homework_expected, teacher.topic_due) == (3, 2, 0)


async def test_seed003_states_no_deadline_until_the_school_sets_its_local_acts(
    session: AsyncSession,
) -> None:
    school = await _school(session, "seed003")
    connection = await session.connection()
    # §8.5: "в сроки, установленные локальным нормативным актом школы": nothing to remind of.
    assert await _gaps(connection, school) == []
    await connection.execute(
        text("UPDATE schools SET overrides = CAST(:o AS jsonb) WHERE id = :s"),
        {"o": '{"topic_due": "day+1"}', "s": school.school_id},
    )
    [gap] = await _gaps(connection, school)
    assert gap.category is Category.TOPIC and gap.due == at(MONDAY + timedelta(2), 0)


# --- final grades and `journalbot school` -----------------------------------------------------


@pytest.fixture
async def seed000_school(committing_engine: AsyncEngine) -> MiniSchool:
    """A seed 000 school whose quarter ends on 28 December with one final grade missing."""
    async with create_sessionmaker(committing_engine)() as session:
        school = await _school(session, "seed000")
        session.add(
            m.TeachingAssignment(
                staff_id=school.teacher_id, class_id=school.class_id, subject_id=school.subject_id
            )
        )
        await session.commit()
    return school


async def _finals(engine: AsyncEngine, school: MiniSchool) -> list[Gap]:
    async with engine.connect() as connection:
        [rules] = await reminders.schools(connection, [school.school_id])
        # the quarter ends on 28 December: within any deadline's warning window (5 days)
        gaps = await reminders.school_gaps(connection, rules, at(date(2026, 12, 24), 20))
    return [g for g in gaps if g.category is Category.FINALS]


async def test_seed000_finals_are_reminded_only_once_the_school_sets_a_deadline(
    committing_engine: AsyncEngine, seed000_school: MiniSchool, database_url: str, tmp_path: Path
) -> None:
    from tests.fixtures.cli import run_journalbot

    school = str(seed000_school.school_id)
    # Seed 000 states no deadline for final grades: none is inherited from the default.
    assert await _finals(committing_engine, seed000_school) == []
    code, out, _ = await run_journalbot(
        database_url, tmp_path, "school", "show", "--school", school
    )
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    # Every rule with its clause, or where no seed states it.
    assert "seed 000 §5.5" in lines["homework_due"] and " shift " in lines["homework_due"]
    assert "seed 000 §5.3" in lines["essay_senior_due"]
    assert "none" in lines["finals_days"] and "not stated" in lines["finals_days"]
    assert "common practice" in lines["round_from"]
    assert all(len(line.split(None, 2)) == 3 for line in lines.values())
    code, out, _ = await run_journalbot(
        database_url, tmp_path, "school", "set", "--school", school, "finals_days=0"
    )
    assert code == 0 and "the school's override" in out
    [finals] = await _finals(committing_engine, seed000_school)
    assert finals.missing == 1 and finals.due == at(date(2026, 12, 29), 0)
    # seed 003 is a profile of its own, selectable like the others.
    code, out, _ = await run_journalbot(
        database_url, tmp_path, "school", "set-profile", "--school", school, "seed003"
    )
    assert code == 0 and "profile seed003" in out
    assert "seed 003 §8.5" in out and "seed 003 §8.6" in out


async def test_the_journal_program_marks_a_lesson_without_homework(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    from services.ingest.journal import Journal, LessonRecord, apply_journal
    from tests.fixtures.journal_import import CLASS, LESSON_DAY, TEACHER

    def lesson(no_homework: bool) -> LessonRecord:
        return LessonRecord(
            "L-1", LESSON_DAY, 3, time(10, 20), time(11, 5), CLASS, "Геометрия", TEACHER,
            no_homework=no_homework,
        )  # fmt: skip

    school_id = journal_school.school.school_id
    for flag in (True, False, True):
        applied = await apply_journal(session, school_id, Journal(lessons=(lesson(flag),)))
        assert applied.rejected == ()
        marked = await session.execute(
            text("SELECT count(*) FROM lessons WHERE school_id = :s AND no_homework"),
            {"s": school_id},
        )
        assert marked.scalar_one() == int(flag)  # the one lesson, updated in place each time
