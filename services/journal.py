"""What families and class teachers read from the journal: marks, homework, attendance, finals.

Every function here takes a student or class the caller has already obtained from
`services.access` (which checked the viewer's right to it at query time) and returns plain frozen
dataclasses. Ids that come from buttons (periods, subjects) are checked against the student's
school: another school's period is `NotFound`, like another family's child.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Numeric, and_, bindparam, case, cast, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services import forecast
from services.access import ClassRef, NotFound, StudentRef
from services.db import models as m
from services.forecast import Forecast
from services.profiles import Profile, profile_for

# --- the school's calendar -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodRef:
    id: int
    kind: str
    number: int
    starts_on: date
    ends_on: date

    def holds(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class SchoolContext:
    """The school's calendar as seen right now, in the school's time zone."""

    school_id: int
    school_name: str
    timezone: str
    now: datetime
    profile: Profile
    year_id: int | None
    # The periods the year is divided into (quarters, trimesters, half-years), in order.
    terms: tuple[PeriodRef, ...]
    year: PeriodRef | None
    holidays: tuple[tuple[date, date], ...]
    days_per_week: int

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def current(self) -> PeriodRef | None:
        """The term holding today; during holidays the term that just ended; else the first."""
        ended = None
        for term in self.terms:
            if term.holds(self.today):
                return term
            if term.ends_on < self.today:
                ended = term
        return ended or (self.terms[0] if self.terms else None)

    def period(self, period_id: int) -> PeriodRef:
        """One of this school's periods; NotFound for any other id (from a forged button)."""
        candidates = [*self.terms, self.year] if self.year else list(self.terms)
        for period in candidates:
            if period.id == period_id:
                return period
        raise NotFound(period_id)

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= self.days_per_week:
            return False
        return not any(first <= day <= last for first, last in self.holidays)

    def next_school_day(self, after: date) -> date:
        """The first school day after `after`, skipping weekends and holidays."""
        day = after + timedelta(days=1)
        for _ in range(400):
            if self.is_school_day(day):
                return day
            day += timedelta(days=1)
        return after + timedelta(days=1)

    def week_of(self, day: date) -> tuple[date, date]:
        """Monday to the last school weekday of the week; on a weekend, the coming week."""
        if day.weekday() >= self.days_per_week:
            day += timedelta(days=7 - day.weekday())
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=self.days_per_week - 1)


# One round trip for the whole calendar: it is read on every screen.
_CONTEXT = text(
    """
    SELECT s.name, s.timezone, s.profile, s.overrides, y.id AS year_id,
      (SELECT json_agg(json_build_array(p.id, p.kind, p.number, p.starts_on, p.ends_on)
                       ORDER BY p.starts_on, p.ends_on DESC)
         FROM periods p WHERE p.academic_year_id = y.id) AS periods,
      (SELECT json_agg(json_build_array(h.starts_on, h.ends_on))
         FROM holidays h WHERE h.academic_year_id = y.id) AS holidays
    FROM schools s
    LEFT JOIN LATERAL (
      SELECT a.id FROM academic_years a
      WHERE a.school_id = s.id AND a.starts_on <= (:now AT TIME ZONE s.timezone)::date
      ORDER BY a.starts_on DESC LIMIT 1
    ) y ON true
    WHERE s.id = :school_id
    """
).columns(periods=JSON, holidays=JSON)

_TERM_KINDS = frozenset({m.PeriodKind.QUARTER, m.PeriodKind.TRIMESTER, m.PeriodKind.HALF_YEAR})


async def school_context(session: AsyncSession, school_id: int, now: datetime) -> SchoolContext:
    """The school's time zone, profile, current academic year, periods and holidays."""
    school = (await session.execute(_CONTEXT, {"now": now, "school_id": school_id})).one()
    local = now.astimezone(ZoneInfo(school.timezone))
    terms: list[PeriodRef] = []
    year: PeriodRef | None = None
    for pid, kind, number, starts, ends in school.periods or ():
        ref = PeriodRef(pid, kind, number, date.fromisoformat(starts), date.fromisoformat(ends))
        if kind == m.PeriodKind.YEAR:
            year = ref
        elif kind in _TERM_KINDS:
            terms.append(ref)
    # A school with both quarters and half-years (seed 004) reports by the shorter ones.
    kinds = {t.kind for t in terms}
    if len(kinds) > 1:
        shortest = min(kinds, key=lambda k: min(t.ends_on - t.starts_on for t in terms))
        terms = [t for t in terms if t.kind == shortest]
    holidays = tuple(
        (date.fromisoformat(first), date.fromisoformat(last))
        for first, last in school.holidays or ()
    )
    overrides: dict[str, Any] = school.overrides or {}
    days = overrides.get("days_per_week", 5)
    return SchoolContext(
        school_id=school_id,
        school_name=school.name,
        timezone=school.timezone,
        now=local,
        profile=profile_for(school.profile, overrides),
        year_id=school.year_id,
        terms=tuple(terms),
        year=year,
        holidays=holidays,
        days_per_week=days if days in (5, 6) else 5,
    )


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


@dataclass(frozen=True, slots=True)
class SubjectMarks:
    subject_id: int
    subject: str
    marks: tuple[MarkItem, ...]
    forecast: Forecast


# Statements used on every screen are built once: building SQLAlchemy expressions costs more
# Python time than running the query. Values come in as bound parameters.
_previous_mark = aliased(m.Mark, name="previous_mark")
_later_mark = aliased(m.Mark, name="later_mark")
_mark_replaced = exists().where(_later_mark.replaces_id == m.Mark.id)

_MARKS = (
    select(
        m.Mark.id,
        m.Lesson.date,
        m.Lesson.subject_id,
        m.Subject.name,
        m.Mark.value,
        func.coalesce(m.Mark.weight, m.WorkKind.weight, Decimal(1)),
        m.WorkKind.code,
        m.WorkKind.name,
        _previous_mark.value,
        m.Mark.reason,
        m.Mark.comment,
        m.Mark.created_at,
    )
    .join(m.Lesson, m.Lesson.id == m.Mark.lesson_id)
    .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
    .outerjoin(m.WorkKind, m.WorkKind.id == m.Mark.work_kind_id)
    .outerjoin(_previous_mark, _previous_mark.id == m.Mark.replaces_id)
    .where(
        m.Mark.student_id == bindparam("student_id"),
        m.Lesson.date.between(bindparam("start"), bindparam("end")),
        m.Mark.value.is_not(None),
        ~_mark_replaced,
    )
    .order_by(m.Lesson.date, m.Lesson.slot, m.Mark.id)
)
_MARKS_OF_SUBJECT = _MARKS.where(m.Lesson.subject_id == bindparam("subject_id"))


async def marks(
    session: AsyncSession,
    student: StudentRef,
    *,
    start: date,
    end: date,
    subject_id: int | None = None,
) -> list[MarkItem]:
    """The student's current marks for lessons from `start` to `end`, oldest first."""
    params: dict[str, Any] = {"student_id": student.id, "start": start, "end": end}
    if subject_id is None:
        rows = await session.execute(_MARKS, params)
    else:
        rows = await session.execute(_MARKS_OF_SUBJECT, {**params, "subject_id": subject_id})
    return [MarkItem(*tuple(row)) for row in rows]


# The lessons of the student's class that the student attends: the whole class's, and those
# of the student's own subgroups. Parameters: class_id, student_id.
_attends_lesson = and_(
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

_PERIOD_SUBJECTS = (
    select(m.Subject.id, m.Subject.name)
    .where(
        m.Subject.id.in_(
            select(m.Lesson.subject_id)
            .where(_attends_lesson, m.Lesson.date.between(bindparam("start"), bindparam("end")))
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
    items = await marks(session, student, start=period.starts_on, end=period.ends_on)
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
            forecast=forecast.forecast(
                [(i.value, i.weight) for i in grouped.get(subject_id, ())], profile
            ),
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


async def subject_marks(
    session: AsyncSession,
    student: StudentRef,
    period: PeriodRef,
    subject_id: int,
    profile: Profile,
) -> SubjectMarks:
    name = await subject_name(session, student, subject_id)
    items = await marks(
        session, student, start=period.starts_on, end=period.ends_on, subject_id=subject_id
    )
    return SubjectMarks(
        subject_id=subject_id,
        subject=name,
        marks=tuple(items),
        forecast=forecast.forecast([(i.value, i.weight) for i in items], profile),
    )


# --- final grades ------------------------------------------------------------------------

_previous_final = aliased(m.FinalGrade, name="previous_final")
_later_final = aliased(m.FinalGrade, name="later_final")
_final_replaced = exists().where(_later_final.replaces_id == m.FinalGrade.id)


@dataclass(frozen=True, slots=True)
class FinalRow:
    subject: str
    # period id → (current value, value before a correction or None)
    grades: dict[int, tuple[str, str | None]]


async def finals(
    session: AsyncSession, student: StudentRef, context: SchoolContext
) -> list[FinalRow]:
    """The student's final grades of the current academic year, per subject."""
    if context.year_id is None:
        return []
    previous = _previous_final
    rows = await session.execute(
        select(m.Subject.name, m.FinalGrade.period_id, m.FinalGrade.value, previous.value)
        .join(m.Subject, m.Subject.id == m.FinalGrade.subject_id)
        .join(m.Period, m.Period.id == m.FinalGrade.period_id)
        .outerjoin(previous, previous.id == m.FinalGrade.replaces_id)
        .where(
            m.FinalGrade.student_id == student.id,
            m.Period.academic_year_id == context.year_id,
            m.FinalGrade.value.is_not(None),
            ~_final_replaced,
        )
        .order_by(m.Subject.name, m.Period.starts_on)
    )
    table: dict[str, dict[int, tuple[str, str | None]]] = {}
    for name, period_id, value, before in rows:
        table.setdefault(name, {})[period_id] = (str(value), before)
    return [FinalRow(subject, grades) for subject, grades in table.items()]


# --- timetable and homework ----------------------------------------------------------------


def _short_name(last: str | None, first: str | None, middle: str | None) -> str | None:
    if not last:
        return None
    initials = "".join(f"{p[0]}." for p in (first, middle) if p)
    return f"{last} {initials}".strip()


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
        )
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .join(teacher, teacher.id == m.Lesson.teacher_id)
        .outerjoin(substitute, substitute.id == m.Lesson.substitute_teacher_id)
        .outerjoin(m.Subgroup, m.Subgroup.id == m.Lesson.subgroup_id)
        .where(_attends_lesson, m.Lesson.date.between(start, end))
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
            teacher=_short_name(r[8], r[9], r[10]),
            substitute=_short_name(r[11], r[12], r[13]),
            topic=r[14],
            subgroup=r[15],
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
            _attends_lesson,
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


# --- attendance ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendanceItem:
    day: date
    slot: int
    subject: str
    kind: str
    reason: str
    is_valid: bool
    minutes_late: int | None


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    items: tuple[AttendanceItem, ...]  # newest first

    @property
    def absent(self) -> int:
        return sum(1 for i in self.items if i.kind == m.AttendanceKind.ABSENT)

    @property
    def absent_valid(self) -> int:
        return sum(1 for i in self.items if i.kind == m.AttendanceKind.ABSENT and i.is_valid)

    @property
    def late(self) -> int:
        return sum(1 for i in self.items if i.kind == m.AttendanceKind.LATE)

    @property
    def days_missed(self) -> int:
        return len({i.day for i in self.items if i.kind == m.AttendanceKind.ABSENT})

    def per_subject(self) -> list[tuple[str, int, int]]:
        """(subject, lessons missed, times late), most missed first."""
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in self.items:
            counts[item.subject][0 if item.kind == m.AttendanceKind.ABSENT else 1] += 1
        return sorted(
            ((s, a, late) for s, (a, late) in counts.items()), key=lambda x: (-x[1], -x[2], x[0])
        )


async def attendance(
    session: AsyncSession, student: StudentRef, period: PeriodRef
) -> AttendanceSummary:
    rows = await session.execute(
        select(
            m.Lesson.date,
            m.Lesson.slot,
            m.Subject.name,
            m.Attendance.kind,
            m.Attendance.reason,
            m.Attendance.is_valid,
            m.Attendance.minutes_late,
        )
        .join(m.Lesson, m.Lesson.id == m.Attendance.lesson_id)
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .where(
            m.Attendance.student_id == student.id,
            m.Lesson.date.between(period.starts_on, period.ends_on),
        )
        .order_by(m.Lesson.date.desc(), m.Lesson.slot.desc())
    )
    return AttendanceSummary(tuple(AttendanceItem(*row) for row in rows))


# --- the class teacher's overview ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudentLine:
    student_id: int
    name: str
    average: Decimal | None
    twos: int
    absent: int
    absent_invalid: int
    late: int


async def class_overview(
    session: AsyncSession, klass: ClassRef, period: PeriodRef
) -> list[StudentLine]:
    """Per student of the class: weighted average of the period, 2s, absences and lateness."""
    in_period = and_(
        m.Lesson.class_id == klass.id,
        m.Lesson.date.between(period.starts_on, period.ends_on),
    )
    weight = func.coalesce(m.Mark.weight, m.WorkKind.weight, Decimal(1))
    numeric = m.Mark.value.in_(sorted(forecast.NUMERIC))
    mark_rows = await session.execute(
        select(
            m.Mark.student_id,
            func.sum(case((numeric, cast(m.Mark.value, Numeric) * weight))),
            func.sum(case((numeric, weight))),
            func.count().filter(m.Mark.value == "2"),
        )
        .join(m.Lesson, m.Lesson.id == m.Mark.lesson_id)
        .outerjoin(m.WorkKind, m.WorkKind.id == m.Mark.work_kind_id)
        .where(in_period, m.Mark.value.is_not(None), ~_mark_replaced)
        .group_by(m.Mark.student_id)
    )
    marks_of = {sid: (total, weights, twos) for sid, total, weights, twos in mark_rows}
    absence_rows = await session.execute(
        select(
            m.Attendance.student_id,
            func.count().filter(m.Attendance.kind == m.AttendanceKind.ABSENT.value),
            func.count().filter(
                m.Attendance.kind == m.AttendanceKind.ABSENT.value, ~m.Attendance.is_valid
            ),
            func.count().filter(m.Attendance.kind == m.AttendanceKind.LATE.value),
        )
        .join(m.Lesson, m.Lesson.id == m.Attendance.lesson_id)
        .where(in_period)
        .group_by(m.Attendance.student_id)
    )
    absences_of = {sid: (a, inv, late) for sid, a, inv, late in absence_rows}
    students = await session.execute(
        select(m.Student.id, m.Student.last_name, m.Student.first_name)
        .where(m.Student.class_id == klass.id, m.Student.left_at.is_(None))
        .order_by(m.Student.last_name, m.Student.first_name, m.Student.id)
    )
    lines = []
    for sid, last, first in students:
        total, weights, twos = marks_of.get(sid, (None, None, 0))
        absent, invalid, late = absences_of.get(sid, (0, 0, 0))
        average = (
            forecast.to_decimal(Fraction(Decimal(total)) / Fraction(Decimal(weights)))
            if total is not None and weights
            else None
        )
        lines.append(StudentLine(sid, f"{last} {first}", average, twos, absent, invalid, late))
    return lines
