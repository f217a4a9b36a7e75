"""The student's marks with forecasts, and final grades."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services import forbidden, forecast
from services.access import NotFound, StudentRef
from services.db import models as m
from services.db.current import current_final_grades, current_marks
from services.forecast import Forecast
from services.journal.school import PeriodRef, SchoolContext
from services.journal.timetable import attends_lesson
from services.profiles import Profile

# --- marks -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkItem:
    id: int
    day: date
    subject_id: int
    subject: str
    value: str
    weight: Decimal
    kind_code: str | None
    kind_name: str | None
    # The value this revision replaced, when the mark was corrected (seed 003 §8.6).
    previous: str | None
    reason: str | None
    comment: str | None
    entered_at: datetime
    # Against the school's profile (services/forbidden.py): shown as under review, never
    # counted in the average or the forecast.
    under_review: bool = False
    # The lesson's topic, shown beside the mark with the teacher's comment.
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class SubjectMarks:
    subject_id: int
    subject: str
    marks: tuple[MarkItem, ...]
    forecast: Forecast


# Statements used on every screen are built once: building SQLAlchemy expressions costs more
# Python time than running the query. Values come in as bound parameters.
_mark = current_marks.c
_previous_mark = aliased(m.Mark, name="previous_mark")

_MARKS = (
    select(
        _mark.id,
        m.Lesson.date,
        m.Lesson.subject_id,
        m.Subject.name,
        _mark.value,
        func.coalesce(_mark.weight, m.WorkKind.weight, Decimal(1)),
        m.WorkKind.code,
        m.WorkKind.name,
        _previous_mark.value,
        _mark.reason,
        _mark.comment,
        _mark.created_at,
        m.SchoolClass.grade,
        m.Lesson.topic,
    )
    .select_from(current_marks)
    .join(m.Lesson, m.Lesson.id == _mark.lesson_id)
    .join(m.SchoolClass, m.SchoolClass.id == m.Lesson.class_id)
    .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
    .outerjoin(m.WorkKind, m.WorkKind.id == _mark.work_kind_id)
    .outerjoin(_previous_mark, _previous_mark.id == _mark.replaces_id)
    .where(
        _mark.student_id == bindparam("student_id"),
        m.Lesson.date.between(bindparam("start"), bindparam("end")),
    )
    .order_by(m.Lesson.date, m.Lesson.slot, _mark.id)
)
_MARKS_OF_SUBJECT = _MARKS.where(m.Lesson.subject_id == bindparam("subject_id"))


async def marks(
    session: AsyncSession,
    student: StudentRef,
    *,
    start: date,
    end: date,
    subject_id: int | None = None,
    profile: Profile | None = None,
) -> list[MarkItem]:
    """The student's current marks for lessons from `start` to `end`, oldest first; those
    the school's `profile` (read when not given) does not allow are under review."""
    params: dict[str, Any] = {"student_id": student.id, "start": start, "end": end}
    if subject_id is None:
        rows = await session.execute(_MARKS, params)
    else:
        rows = await session.execute(_MARKS_OF_SUBJECT, {**params, "subject_id": subject_id})
    items = []
    for row in rows:
        mark_id, day, subject, name, value, weight, code, kind, was, reason, note, at = row[:12]
        if profile is None:
            profile = await forbidden.school_profile(session, student.school_id)
        review = not profile.allows(value, grade=row[12])
        items.append(
            MarkItem(
                mark_id,
                day,
                subject,
                name,
                value,
                weight,
                code,
                kind,
                was,
                reason,
                note,
                at,
                review,
                row[13],
            )
        )
    return items


def _counted(items: Sequence[MarkItem]) -> list[tuple[str, Decimal]]:
    """What the average and the forecast count: marks the profile allows."""
    return [(i.value, i.weight) for i in items if not i.under_review]


_PERIOD_SUBJECTS = (
    select(m.Subject.id, m.Subject.name)
    .where(
        m.Subject.id.in_(
            select(m.Lesson.subject_id)
            .where(attends_lesson, m.Lesson.date.between(bindparam("start"), bindparam("end")))
            .distinct()
        )
    )
    .order_by(m.Subject.name)
)


async def period_subjects(
    session: AsyncSession, student: StudentRef, period: PeriodRef, profile: Profile
) -> list[SubjectMarks]:
    """Every subject the student has lessons or marks in during the period, with marks and
    the forecast; subjects in alphabetical order."""
    items = await marks(
        session, student, start=period.starts_on, end=period.ends_on, profile=profile
    )
    names: dict[int, str] = {}
    if student.class_id is not None:
        rows = await session.execute(
            _PERIOD_SUBJECTS,
            {
                "class_id": student.class_id,
                "student_id": student.id,
                "start": period.starts_on,
                "end": period.ends_on,
            },
        )
        names = {subject_id: name for subject_id, name in rows}
    grouped: dict[int, list[MarkItem]] = defaultdict(list)
    for item in items:
        grouped[item.subject_id].append(item)
        names.setdefault(item.subject_id, item.subject)
    return [
        SubjectMarks(
            subject_id=subject_id,
            subject=name,
            marks=tuple(grouped.get(subject_id, ())),
            forecast=forecast.forecast(_counted(grouped.get(subject_id, ())), profile),
        )
        for subject_id, name in sorted(names.items(), key=lambda kv: kv[1])
    ]


async def subject_name(session: AsyncSession, student: StudentRef, subject_id: int) -> str:
    """A subject of the student's school; NotFound for another school's (a forged button)."""
    if not 0 < subject_id < 2**63:
        raise NotFound(subject_id)
    name = await session.scalar(
        select(m.Subject.name).where(
            m.Subject.id == subject_id, m.Subject.school_id == student.school_id
        )
    )
    if name is None:
        raise NotFound(subject_id)
    return name


_STUDENT_SUBJECT = select(m.Subject.name).where(
    m.Subject.id == bindparam("subject_id"),
    m.Subject.school_id == bindparam("school_id"),
    or_(
        exists().where(attends_lesson, m.Lesson.subject_id == m.Subject.id),
        select(_mark.id)
        .join(m.Lesson, m.Lesson.id == _mark.lesson_id)
        .where(_mark.student_id == bindparam("student_id"), m.Lesson.subject_id == m.Subject.id)
        .exists(),
    ),
)


async def student_subject(session: AsyncSession, student: StudentRef, subject_id: int) -> str:
    """The name of a subject the student has lessons of (the class's, or the student's own
    subgroup's) or marks in; NotFound for any other subject, of this school or another (a
    forged or stale button)."""
    if not 0 < subject_id < 2**63:
        raise NotFound(subject_id)
    name = await session.scalar(
        _STUDENT_SUBJECT,
        {
            "subject_id": subject_id,
            "school_id": student.school_id,
            "class_id": student.class_id or 0,
            "student_id": student.id,
        },
    )
    if name is None:
        raise NotFound(subject_id)
    return name


async def subject_marks(
    session: AsyncSession,
    student: StudentRef,
    period: PeriodRef,
    subject_id: int,
    profile: Profile,
) -> SubjectMarks:
    """One subject's marks in the period with the forecast; NotFound for a subject the
    student does not take (`student_subject`)."""
    name = await student_subject(session, student, subject_id)
    items = await marks(
        session,
        student,
        start=period.starts_on,
        end=period.ends_on,
        subject_id=subject_id,
        profile=profile,
    )
    return SubjectMarks(
        subject_id=subject_id,
        subject=name,
        marks=tuple(items),
        forecast=forecast.forecast(_counted(items), profile),
    )


# --- final grades ------------------------------------------------------------------------

_final = current_final_grades.c
_previous_final = aliased(m.FinalGrade, name="previous_final")


@dataclass(frozen=True, slots=True)
class FinalRow:
    subject: str
    # period id → (current value, value before a correction or None)
    grades: dict[int, tuple[str, str | None]]
    # Periods whose grade the school's profile does not allow (services/forbidden.py): shown
    # as under review.
    under_review: frozenset[int] = frozenset()


async def finals(
    session: AsyncSession, student: StudentRef, context: SchoolContext
) -> list[FinalRow]:
    """The student's final grades of the current academic year, per subject; those the
    school's profile does not allow are under review."""
    if context.year_id is None:
        return []
    previous = _previous_final
    grade = select(m.SchoolClass.grade).where(m.SchoolClass.id == student.class_id)
    rows = await session.execute(
        select(
            m.Subject.name,
            _final.period_id,
            _final.value,
            previous.value,
            m.Period.kind,
            grade.scalar_subquery(),
        )
        .select_from(current_final_grades)
        .join(m.Subject, m.Subject.id == _final.subject_id)
        .join(m.Period, m.Period.id == _final.period_id)
        .outerjoin(previous, previous.id == _final.replaces_id)
        .where(_final.student_id == student.id, m.Period.academic_year_id == context.year_id)
        .order_by(m.Subject.name, m.Period.starts_on)
    )
    table: dict[str, dict[int, tuple[str, str | None]]] = {}
    review: dict[str, set[int]] = defaultdict(set)
    for name, period_id, value, before, kind, class_grade in rows:
        table.setdefault(name, {})[period_id] = (str(value), before)
        if not context.profile.allows(value, grade=class_grade, period_kind=kind):
            review[name].add(period_id)
    return [
        FinalRow(subject, grades, frozenset(review[subject])) for subject, grades in table.items()
    ]


@dataclass(frozen=True, slots=True)
class PeriodFinal:
    """A subject's final grade of a period as families see it."""

    value: str
    # Against the school's profile (services/forbidden.py): its value is not shown.
    under_review: bool = False


async def period_finals(
    session: AsyncSession, student: StudentRef, period: PeriodRef, profile: Profile
) -> dict[int, PeriodFinal]:
    """The student's current final grades of one period (of the school the caller read it
    from, `SchoolContext.period`), by subject id."""
    grade = select(m.SchoolClass.grade).where(m.SchoolClass.id == student.class_id)
    rows = await session.execute(
        select(_final.subject_id, _final.value, grade.scalar_subquery())
        .select_from(current_final_grades)
        .where(_final.student_id == student.id, _final.period_id == period.id)
    )
    return {
        subject_id: PeriodFinal(
            str(value),
            not profile.allows(value, grade=class_grade, period_kind=period.kind),
        )
        for subject_id, value, class_grade in rows
    }
