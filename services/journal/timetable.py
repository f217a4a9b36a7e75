"""The student's lessons and homework, day by day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.access import StudentRef
from services.db import models as m
from services.names import short_name

# The lessons of the student's class that the student attends: the whole class's, and those
# of the student's own subgroups. Parameters: class_id, student_id.
attends_lesson = and_(
    m.Lesson.class_id == bindparam("class_id"),
    or_(
        m.Lesson.subgroup_id.is_(None),
        m.Lesson.subgroup_id.in_(
            select(m.SubgroupMember.subgroup_id).where(
                m.SubgroupMember.student_id == bindparam("student_id")
            )
        ),
    ),
)


# The kinds of work families are told of ahead: written, control and monitoring works.
_PLANNED_KIND = or_(m.WorkKind.is_control, m.WorkKind.is_written, m.WorkKind.internal_monitoring)

_teacher = aliased(m.Staff, name="teacher")
_substitute = aliased(m.Staff, name="substitute")


@dataclass(frozen=True, slots=True)
class LessonItem:
    id: int
    day: date
    slot: int
    starts_at: time
    ends_at: time
    subject_id: int
    subject: str
    room: str | None
    teacher: str | None
    substitute: str | None
    topic: str | None
    subgroup: str | None
    # A written or control work planned at the lesson (`planned_works`): its kind.
    work_code: str | None = None
    work_name: str | None = None


@dataclass(frozen=True, slots=True)
class HomeworkItem:
    due: date
    subject_id: int
    subject: str
    text: str
    set_on: date


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    lessons: tuple[LessonItem, ...]
    homework: tuple[HomeworkItem, ...]


async def lessons(
    session: AsyncSession, student: StudentRef, *, start: date, end: date
) -> list[LessonItem]:
    """The student's lessons (own subgroups only) from `start` to `end`, in timetable order."""
    if student.class_id is None:
        return []
    teacher, substitute = _teacher, _substitute
    rows = await session.execute(
        select(
            m.Lesson.id,
            m.Lesson.date,
            m.Lesson.slot,
            m.Lesson.starts_at,
            m.Lesson.ends_at,
            m.Lesson.subject_id,
            m.Subject.name,
            m.Lesson.room,
            teacher.last_name,
            teacher.first_name,
            teacher.middle_name,
            substitute.last_name,
            substitute.first_name,
            substitute.middle_name,
            m.Lesson.topic,
            m.Subgroup.name,
            m.WorkKind.code,
            m.WorkKind.name,
        )
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .join(teacher, teacher.id == m.Lesson.teacher_id)
        .outerjoin(substitute, substitute.id == m.Lesson.substitute_teacher_id)
        .outerjoin(m.Subgroup, m.Subgroup.id == m.Lesson.subgroup_id)
        .outerjoin(m.WorkKind, and_(m.WorkKind.id == m.Lesson.work_kind_id, _PLANNED_KIND))
        .where(attends_lesson, m.Lesson.date.between(start, end))
        .order_by(m.Lesson.date, m.Lesson.slot, m.Lesson.id),
        {"class_id": student.class_id, "student_id": student.id},
    )
    return [
        LessonItem(
            id=r[0],
            day=r[1],
            slot=r[2],
            starts_at=r[3],
            ends_at=r[4],
            subject_id=r[5],
            subject=r[6],
            room=r[7],
            teacher=short_name(r[8], r[9], r[10]),
            substitute=short_name(r[11], r[12], r[13]),
            topic=r[14],
            subgroup=r[15],
            work_code=r[16],
            work_name=r[17],
        )
        for r in rows
    ]


# Homework is looked for among lessons of this many days before its due date: a task set
# further ahead than a term is not homework for a day.
HOMEWORK_LOOKBACK = timedelta(days=70)


async def homework(
    session: AsyncSession, student: StudentRef, *, start: date, end: date
) -> list[HomeworkItem]:
    """Homework due from `start` to `end` at the student's lessons, by due date and subject."""
    if student.class_id is None:
        return []
    rows = await session.execute(
        select(
            m.Homework.due_date,
            m.Lesson.subject_id,
            m.Subject.name,
            m.Homework.text,
            m.Lesson.date,
        )
        .join(m.Lesson, m.Lesson.id == m.Homework.lesson_id)
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .where(
            attends_lesson,
            m.Lesson.date.between(start - HOMEWORK_LOOKBACK, end),
            m.Homework.due_date.between(start, end),
        )
        .order_by(m.Homework.due_date, m.Subject.name, m.Homework.id),
        {"class_id": student.class_id, "student_id": student.id},
    )
    return [HomeworkItem(*row) for row in rows]


async def day_plans(
    session: AsyncSession, student: StudentRef, *, start: date, end: date
) -> list[DayPlan]:
    """Each day from `start` to `end` with its lessons and the homework due; lessons in
    timetable order, homework in the order of the day's lessons."""
    all_lessons = await lessons(session, student, start=start, end=end)
    tasks = await homework(session, student, start=start, end=end)
    by_day: dict[date, list[LessonItem]] = defaultdict(list)
    for lesson in all_lessons:
        by_day[lesson.day].append(lesson)
    plans = []
    day = start
    while day <= end:
        order = {lesson.subject_id: lesson.slot for lesson in reversed(by_day[day])}
        due = sorted(
            (t for t in tasks if t.due == day),
            key=lambda t: (order.get(t.subject_id, 99), t.subject),
        )
        plans.append(DayPlan(day, tuple(by_day[day]), tuple(due)))
        day += timedelta(days=1)
    return plans


@dataclass(frozen=True, slots=True)
class PlannedWork:
    """A written or control work the journal plans at one of the student's lessons."""

    day: date
    slot: int
    subject: str
    kind_code: str
    kind_name: str
    topic: str | None


async def planned_works(
    session: AsyncSession, student: StudentRef, *, start: date, end: date
) -> list[PlannedWork]:
    """The written, control and monitoring works planned from `start` to `end` at the
    student's lessons (own subgroups only), in timetable order.

    A planned work is a lesson whose `work_kind_id` names a written or control kind of work
    (the same field the reminders check for unmarked works: SPEC §4)."""
    if student.class_id is None:
        return []
    rows = await session.execute(
        select(
            m.Lesson.date,
            m.Lesson.slot,
            m.Subject.name,
            m.WorkKind.code,
            m.WorkKind.name,
            m.Lesson.topic,
        )
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .join(m.WorkKind, m.WorkKind.id == m.Lesson.work_kind_id)
        .where(
            attends_lesson,
            m.Lesson.date.between(start, end),
            _PLANNED_KIND,
        )
        .order_by(m.Lesson.date, m.Lesson.slot, m.Lesson.id),
        {"class_id": student.class_id, "student_id": student.id},
    )
    return [PlannedWork(*row) for row in rows]
