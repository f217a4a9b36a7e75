"""The class teacher's overview of their class."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Numeric, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import forbidden, forecast
from services.access import ClassRef
from services.db import models as m
from services.db.current import current_marks
from services.journal.school import PeriodRef
from services.names import short_name


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
    """Per student of the class: weighted average of the period, 2s, absences and lateness.
    Marks the school's profile does not allow count nowhere (services/forbidden.py): five-point
    ones only from `marks_from_grade` (seed 001 §4.3.6), special ones never count."""
    profile = await forbidden.school_profile(session, klass.school_id)
    in_period = and_(
        m.Lesson.class_id == klass.id,
        m.Lesson.date.between(period.starts_on, period.ends_on),
    )
    mark = current_marks.c
    weight = func.coalesce(mark.weight, m.WorkKind.weight, Decimal(1))
    numeric = mark.value.in_(sorted(forecast.NUMERIC))
    mark_rows = await session.execute(
        select(
            mark.student_id,
            func.sum(case((numeric, cast(mark.value, Numeric) * weight))),
            func.sum(case((numeric, weight))),
            func.count().filter(mark.value == "2"),
        )
        .select_from(current_marks)
        .join(m.Lesson, m.Lesson.id == mark.lesson_id)
        .join(m.SchoolClass, m.SchoolClass.id == m.Lesson.class_id)
        .outerjoin(m.WorkKind, m.WorkKind.id == mark.work_kind_id)
        .where(in_period, m.SchoolClass.grade >= profile.marks_from_grade)
        .group_by(mark.student_id)
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


async def class_teacher_name(session: AsyncSession, class_id: int | None) -> str | None:
    """The class's class teacher as journals name them (Иванова А. П.); None without one."""
    if class_id is None:
        return None
    role, staff = m.StaffRoleAssignment, m.Staff
    row = (
        await session.execute(
            select(staff.last_name, staff.first_name, staff.middle_name)
            .join(role, role.staff_id == staff.id)
            .where(role.role == m.StaffRole.CLASS_TEACHER, role.class_id == class_id)
            .order_by(role.id)
            .limit(1)
        )
    ).first()
    return short_name(*row) if row is not None else None
