"""The journal from the school's program, at the service level: by its ids, idempotent,
corrections as revisions, a back-fill that tells nobody and a later load that does."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.imports.journal import apply_checked, check_journal
from services.imports.journal_sample import name_roster, write_sample_journal
from services.imports.tabular import read_tables
from services.ingest.journal import (
    AttendanceRecord,
    FinalGradeRecord,
    HomeworkRecord,
    Journal,
    LessonRecord,
    MarkRecord,
    apply_journal,
    is_first_load,
)
from services.notifications import changes, fanout
from tests.fixtures.journal_import import (
    CLASS,
    LESSON_DAY,
    LINKED_ACCOUNT,
    OTHER_STUDENT,
    STUDENT,
    TEACHER,
    RosterSchool,
    link_guardian,
)


def lesson(external_id: str = "L-1", *, topic: str = "Дроби", day_offset: int = 0) -> LessonRecord:
    return LessonRecord(
        external_id=external_id,
        date=LESSON_DAY + timedelta(days=day_offset),
        slot=3,
        starts_at=time(10, 20),
        ends_at=time(11, 5),
        class_ref=CLASS,
        subject="Геометрия",
        teacher_ref=TEACHER,
        topic=topic,
        room="214",
        work_kind="test",
    )


def mark(value: str | None, *, external_id: str = "M-1", reason: str | None = None) -> MarkRecord:
    return MarkRecord(
        external_id=external_id,
        student_ref=STUDENT,
        lesson_ref="L-1",
        value=value,
        work_kind="test",
        weight=Decimal(2),
        comment=None,
        reason=reason,
    )


def journal(*marks: MarkRecord, **parts: object) -> Journal:
    return Journal(**{"lessons": (lesson(),), "marks": marks, **parts})  # type: ignore[arg-type]


async def scalar(session: AsyncSession, sql: str, **params: object) -> object:
    return (await session.execute(text(sql), params)).scalar()


async def events(session: AsyncSession) -> list[str]:
    rows = await session.execute(text("SELECT kind FROM journal_events ORDER BY id"))
    return list(rows.scalars())


async def test_first_load_is_a_backfill_and_tells_nobody(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    assert await is_first_load(session, school_id)
    applied = await apply_journal(session, school_id, journal(mark("5")))
    assert applied.backfill
    assert applied.rejected == ()
    assert applied.tally.of("lesson").new == 1
    assert applied.tally.of("mark").new == 1
    assert await events(session) == []
    assert not await is_first_load(session, school_id)
    # Capture is back on for the rest of the transaction.
    assert await scalar(session, "SELECT journal_capture_enabled()") is True


async def test_reimport_changes_nothing(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    whole = journal(
        mark("4"),
        homework=(HomeworkRecord("H-1", "L-1", LESSON_DAY + timedelta(days=2), "№ 12, 14"),),
        attendance=(
            AttendanceRecord("A-1", OTHER_STUDENT, "L-1", m.AttendanceKind.LATE, minutes_late=7),
        ),
        final_grades=(
            FinalGradeRecord("F-1", STUDENT, "Геометрия", m.PeriodKind.QUARTER, 2, "4"),
        ),
    )
    await apply_journal(session, school_id, whole, backfill=True)
    rows = await scalar(session, "SELECT count(*) FROM marks")
    again = await apply_journal(session, school_id, whole, count_left=True)
    assert not again.backfill
    counts = again.tally.as_dict()
    for kind in ("lesson", "homework", "mark", "attendance", "final_grade"):
        assert counts[kind] == {"new": 0, "changed": 0, "unchanged": 1, "left": 0}, kind
    assert again.tally.touched == 0
    assert await events(session) == []
    assert await scalar(session, "SELECT count(*) FROM marks") == rows


async def test_changed_mark_becomes_a_correction_with_the_files_reason(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    await apply_journal(session, school_id, journal(mark("3")), backfill=True)
    applied = await apply_journal(session, school_id, journal(mark("5", reason="пересдача")))
    assert applied.tally.of("mark").changed == 1
    assert applied.tally.changes[-1].fields == ("value",)
    current = await session.execute(
        text("SELECT value, reason, replaces_id IS NOT NULL FROM current_marks")
    )
    assert current.one() == ("5", "пересдача", True)
    assert await events(session) == ["mark.corrected"]
    # Without a reason in the file, the revision says "import".
    await apply_journal(session, school_id, journal(mark("4")))
    assert await scalar(session, "SELECT reason FROM current_marks") == "import"
    assert await scalar(session, "SELECT count(*) FROM marks") == 3


async def test_a_mark_sent_without_value_is_removed(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    await apply_journal(session, school_id, journal(mark("2")), backfill=True)
    removed = await apply_journal(session, school_id, journal(mark(None, reason="ошибка")))
    assert removed.tally.of("mark").changed == 1
    assert await scalar(session, "SELECT count(*) FROM current_marks") == 0
    assert await events(session) == ["mark.removed"]
    again = await apply_journal(session, school_id, journal(mark(None)))
    assert again.tally.of("mark").unchanged == 1
    assert await scalar(session, "SELECT count(*) FROM marks") == 2


async def test_attendance_is_updated_and_cleared(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    absent = AttendanceRecord(
        "A-1", STUDENT, "L-1", m.AttendanceKind.ABSENT, reason=m.AbsenceReason.ILLNESS
    )
    await apply_journal(session, school_id, journal(attendance=(absent,)), backfill=True)
    valid = replace(absent, reason=m.AbsenceReason.CERTIFICATE, is_valid=True)
    changed = await apply_journal(session, school_id, journal(attendance=(valid,)))
    assert changed.tally.changes[-1].fields == ("reason", "is_valid")
    row = await session.execute(text("SELECT kind, reason, is_valid FROM attendance"))
    assert row.one() == ("absent", "certificate", True)
    present = AttendanceRecord("A-1", STUDENT, "L-1", None)
    cleared = await apply_journal(session, school_id, journal(attendance=(present,)))
    assert cleared.tally.of("attendance").changed == 1
    assert await scalar(session, "SELECT count(*) FROM attendance") == 0
    assert await events(session) == ["attendance.changed", "attendance.removed"]


async def test_final_grade_is_set_and_corrected(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    grade = FinalGradeRecord("F-1", STUDENT, "Геометрия", m.PeriodKind.YEAR, 1, "4")
    first = await apply_journal(session, school_id, journal(final_grades=(grade,)))
    assert first.tally.of("final_grade").new == 1
    assert await scalar(session, "SELECT period_id FROM current_final_grades") == (
        journal_school.year_period
    )
    better = FinalGradeRecord(
        "F-1", STUDENT, "Геометрия", m.PeriodKind.YEAR, 1, "5", reason="апелляция"
    )
    await apply_journal(session, school_id, journal(final_grades=(better,)))
    current = await session.execute(text("SELECT value, reason FROM current_final_grades"))
    assert current.one() == ("5", "апелляция")


async def test_later_import_pushes_what_is_new(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school = journal_school.school
    await link_guardian(session, school)
    await apply_journal(session, school.school_id, journal(mark("5")))  # the back-fill
    later = journal(mark("5"), mark("3", external_id="M-2"))
    applied = await apply_journal(session, school.school_id, later)
    assert not applied.backfill
    assert (applied.tally.of("mark").new, applied.tally.of("mark").unchanged) == (1, 1)
    assert await events(session) == ["mark.new"]
    connection = await session.connection()
    claimed = await changes.claim_batch(connection)
    await fanout.handle_events(
        connection, claimed, hold=timedelta(0), default_zone="Europe/Moscow"
    )
    queued = await session.execute(
        text("SELECT account_id, category, student_id FROM notifications")
    )
    assert queued.all() == [(LINKED_ACCOUNT, "marks", school.student_id)]


async def test_unknown_names_are_rejected_with_the_field(
    session: AsyncSession, journal_school: RosterSchool
) -> None:
    school_id = journal_school.school.school_id
    bad = journal(
        mark("6"),
        MarkRecord("M-2", "S-404", "L-1", "5"),
        MarkRecord("M-3", STUDENT, "L-404", "5"),
        mark("4", external_id="M-4"),
        mark("4", external_id="M-4"),
        lessons=(lesson(), replace(lesson("L-2"), class_ref="X")),
    )
    applied = await apply_journal(session, school_id, bad)
    found = {(r.kind.value, r.index, r.field, r.value) for r in applied.rejected}
    assert found == {
        ("lesson", 1, "class_ref", "X"),
        ("mark", 0, "value", "6"),
        ("mark", 1, "student_ref", "S-404"),
        ("mark", 2, "lesson_ref", "L-404"),
        ("mark", 4, "external_id", "M-4"),
    }


async def test_sample_journal_imports_whole(
    session: AsyncSession, journal_school: RosterSchool, tmp_path: Path
) -> None:
    school_id = journal_school.school.school_id
    roster = await name_roster(session, school_id)
    path = write_sample_journal(tmp_path / "sample.xlsx", roster, marks=7, first_day=LESSON_DAY)
    checked = check_journal(read_tables(path))
    assert not checked.problems
    applied, refused = await apply_checked(session, school_id, checked, backfill=True)
    assert refused == []
    assert applied.tally.of("mark").new == 7
    assert applied.tally.of("lesson").new == 4  # two pupils a lesson in the mini school
