"""Reading a class's academic year out of the journal, in one snapshot, for the archive.

Marks and final grades are their current revisions (`services.db.current`); the revisions a
correction replaced are read only to show the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.archive import records as r
from services.archive.target import ClassRef, Target
from services.db import models as m
from services.db.current import current_final_grades, current_marks
from services.journal.classes import class_teacher_name
from services.names import short_name

# Terms first, by their end; then the year, the exam and the final grade.
_KIND_ORDER = {"year": 1, "exam": 2, "final": 3}


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    staff = m.Staff
    rows = await session.execute(
        select(staff.id, staff.last_name, staff.first_name, staff.middle_name).where(
            staff.id.in_(ids)
        )
    )
    return {row[0]: short_name(*row[1:]) or "" for row in rows}


async def _pupils(
    session: AsyncSession, klass: ClassRef, of_class: Select[int]
) -> tuple[r.Pupil, ...]:
    """The class's pupils now, and those who had marks or absences in its lessons and left."""
    mark = current_marks.c
    ids = union(
        select(m.Student.id).where(m.Student.class_id == klass.id),
        select(mark.student_id).where(mark.lesson_id.in_(of_class)),
        select(m.Attendance.student_id).where(m.Attendance.lesson_id.in_(of_class)),
    ).subquery()
    s = m.Student
    rows = await session.execute(
        select(s.id, s.last_name, s.first_name, s.middle_name, s.left_at, s.class_id)
        .where(s.id.in_(select(ids.c[0])))
        .order_by(s.last_name, s.first_name, s.middle_name, s.id)
    )
    return tuple(
        r.Pupil(
            row.id,
            " ".join(part for part in (row.last_name, row.first_name, row.middle_name) if part),
            row.left_at,
            row.class_id != klass.id,
        )
        for row in rows
    )


async def _periods(session: AsyncSession, year_id: int) -> tuple[r.Period, ...]:
    p = m.Period
    rows = await session.execute(
        select(p.id, p.kind, p.number, p.starts_on, p.ends_on).where(p.academic_year_id == year_id)
    )
    periods = [r.Period(*row) for row in rows]
    return tuple(
        sorted(periods, key=lambda p: (_KIND_ORDER.get(p.kind, 0), p.ends_on, p.number, p.id))
    )


async def _revisions(
    session: AsyncSession,
    of_class: Select[int],
    pupils: Sequence[int],
    periods: Sequence[int],
) -> tuple[r.Revision, ...]:
    """Every correction of the class's marks and of its pupils' final grades, oldest first."""
    new, old = aliased(m.Mark, name="new_mark"), aliased(m.Mark, name="old_mark")
    marks = await session.execute(
        select(
            new.student_id,
            m.Lesson.subject_id,
            new.lesson_id,
            old.value,
            new.value,
            new.created_at,
            new.author_id,
            new.reason,
        )
        .join(old, old.id == new.replaces_id)
        .join(m.Lesson, m.Lesson.id == new.lesson_id)
        .where(new.lesson_id.in_(of_class))
    )
    new_final = aliased(m.FinalGrade, name="new_final")
    old_final = aliased(m.FinalGrade, name="old_final")
    finals = await session.execute(
        select(
            new_final.student_id,
            new_final.subject_id,
            new_final.period_id,
            old_final.value,
            new_final.value,
            new_final.created_at,
            new_final.author_id,
            new_final.reason,
        )
        .join(old_final, old_final.id == new_final.replaces_id)
        .where(new_final.student_id.in_(pupils), new_final.period_id.in_(periods))
    )
    found = [(row, True) for row in marks] + [(row, False) for row in finals]
    names = await _names(session, {row[6] for row, _ in found if row[6] is not None})
    revisions = [
        r.Revision(
            student_id=row[0],
            subject_id=row[1],
            lesson_id=row[2] if of_lesson else None,
            period_id=None if of_lesson else row[2],
            old=row[3],
            new=row[4],
            at=row[5],
            author=names.get(row[6]) if row[6] is not None else None,
            reason=row[7],
        )
        for row, of_lesson in found
    ]
    return tuple(sorted(revisions, key=lambda v: (v.at, v.student_id, v.subject_id)))


async def _subjects(
    session: AsyncSession, lessons: Sequence[r.Lesson], finals: Sequence[r.FinalGrade]
) -> tuple[r.Subject, ...]:
    """The subjects taught to the class or graded, by name, with the teachers who taught them."""
    teachers: dict[int, list[str]] = defaultdict(list)
    for lesson in lessons:
        for name in (lesson.teacher, lesson.substitute):
            if name and name not in teachers[lesson.subject_id]:
                teachers[lesson.subject_id].append(name)
    ids = {lesson.subject_id for lesson in lessons} | {grade.subject_id for grade in finals}
    rows = await session.execute(
        select(m.Subject.id, m.Subject.name)
        .where(m.Subject.id.in_(ids))
        .order_by(m.Subject.name, m.Subject.id)
    )
    return tuple(r.Subject(row.id, row.name, ", ".join(teachers[row.id])) for row in rows)


async def read_class_year(session: AsyncSession, target: Target, klass: ClassRef) -> r.ClassYear:
    """The class's year: lessons with topics and homework, current marks, attendance, final
    grades per period, and the corrections of them. For the administrator."""
    lesson = m.Lesson
    of_class = select(lesson.id).where(lesson.class_id == klass.id)
    subgroup, work = m.Subgroup, m.WorkKind
    lesson_rows = (
        await session.execute(
            select(
                lesson.id,
                lesson.date,
                lesson.slot,
                lesson.subject_id,
                subgroup.name.label("subgroup"),
                lesson.teacher_id,
                lesson.substitute_teacher_id,
                lesson.topic,
                work.name.label("work"),
            )
            .outerjoin(subgroup, subgroup.id == lesson.subgroup_id)
            .outerjoin(work, work.id == lesson.work_kind_id)
            .where(lesson.class_id == klass.id)
            .order_by(lesson.date, lesson.slot, lesson.id)
        )
    ).all()
    homework: dict[int, list[str]] = defaultdict(list)
    for lesson_id, text in await session.execute(
        select(m.Homework.lesson_id, m.Homework.text)
        .where(m.Homework.lesson_id.in_(of_class))
        .order_by(m.Homework.id)
    ):
        homework[lesson_id].append(text)

    mark = current_marks.c
    marks = [
        r.Mark(row.lesson_id, row.student_id, row.value, row.replaces_id is not None)
        for row in await session.execute(
            select(mark.lesson_id, mark.student_id, mark.value, mark.replaces_id)
            .where(mark.lesson_id.in_(of_class))
            .order_by(mark.lesson_id, mark.id)
        )
    ]
    seen = m.Attendance
    absences = [
        r.Absence(*row)
        for row in await session.execute(
            select(
                seen.lesson_id,
                seen.student_id,
                seen.kind,
                seen.reason,
                seen.is_valid,
                seen.minutes_late,
            )
            .where(seen.lesson_id.in_(of_class))
            .order_by(seen.lesson_id, seen.student_id)
        )
    ]
    pupils = await _pupils(session, klass, of_class)
    pupil_ids = [p.id for p in pupils]
    periods = await _periods(session, target.year_id)
    final = current_final_grades.c
    finals = [
        r.FinalGrade(
            row.student_id, row.subject_id, row.period_id, row.value, row.replaces_id is not None
        )
        for row in await session.execute(
            select(
                final.student_id, final.subject_id, final.period_id, final.value, final.replaces_id
            )
            .where(
                final.student_id.in_(pupil_ids),
                final.period_id.in_([p.id for p in periods]),
            )
            .order_by(final.id)
        )
    ]
    revisions = await _revisions(session, of_class, pupil_ids, [p.id for p in periods])
    staff_ids = {row.teacher_id for row in lesson_rows} | {
        row.substitute_teacher_id for row in lesson_rows if row.substitute_teacher_id
    }
    names = await _names(session, staff_ids)
    lessons = tuple(
        r.Lesson(
            row.id,
            row.date,
            row.slot,
            row.subject_id,
            row.subgroup,
            names.get(row.teacher_id, ""),
            names.get(row.substitute_teacher_id) if row.substitute_teacher_id else None,
            row.topic,
            row.work,
            "; ".join(homework[row.id]) or None,
        )
        for row in lesson_rows
    )
    subjects = await _subjects(session, lessons, finals)
    return r.ClassYear(
        school_id=target.school_id,
        school=target.school,
        year=target.year,
        starts_on=target.starts_on,
        ends_on=target.ends_on,
        klass=klass.label,
        class_teacher=await class_teacher_name(session, klass.id),
        pupils=pupils,
        subjects=subjects,
        periods=periods,
        lessons=lessons,
        marks=tuple(marks),
        absences=tuple(absences),
        finals=tuple(finals),
        revisions=revisions,
    )
