"""Small builders of journal rows for tests: a school with one class, a lesson, a family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m


@dataclass(frozen=True)
class MiniSchool:
    school_id: int
    year_id: int
    period_id: int
    class_id: int
    subject_id: int
    work_kind_id: int
    teacher_id: int
    student_id: int
    guardian_id: int
    lesson_id: int


async def mini_school(
    session: AsyncSession, *, lesson_day: date = date(2026, 11, 23)
) -> MiniSchool:
    """One school, one 7Б class with one student and a guardian, one lesson of algebra."""
    school = m.School(name="Школа № 1", timezone="Europe/Moscow")
    session.add(school)
    await session.flush()
    year = m.AcademicYear(
        school_id=school.id,
        name="2026/2027",
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 5, 31),
    )
    session.add(year)
    await session.flush()
    period = m.Period(
        academic_year_id=year.id,
        kind="quarter",
        number=2,
        starts_on=date(2026, 11, 3),
        ends_on=date(2026, 12, 28),
    )
    klass = m.SchoolClass(school_id=school.id, academic_year_id=year.id, grade=7, letter="Б")
    subject = m.Subject(school_id=school.id, name="Алгебра")
    kind = m.WorkKind(
        school_id=school.id, code="test", name="тест", weight=Decimal("1.5"), is_written=True
    )
    teacher = m.Staff(school_id=school.id, last_name="Петрова", first_name="Анна")
    session.add_all([period, klass, subject, kind, teacher])
    await session.flush()
    student = m.Student(
        school_id=school.id, class_id=klass.id, last_name="Иванов", first_name="Миша"
    )
    guardian = m.Guardian(last_name="Иванова", first_name="Ольга")
    session.add_all([student, guardian])
    await session.flush()
    lesson = m.Lesson(
        school_id=school.id,
        class_id=klass.id,
        subject_id=subject.id,
        teacher_id=teacher.id,
        date=lesson_day,
        slot=2,
        starts_at=time(9, 25),
        ends_at=time(10, 10),
        room="214",
    )
    session.add_all(
        [
            m.Guardianship(guardian_id=guardian.id, student_id=student.id),
            m.Consent(student_id=student.id, guardian_id=guardian.id, given_on=date(2026, 9, 1)),
            lesson,
        ]
    )
    await session.flush()
    return MiniSchool(
        school_id=school.id,
        year_id=year.id,
        period_id=period.id,
        class_id=klass.id,
        subject_id=subject.id,
        work_kind_id=kind.id,
        teacher_id=teacher.id,
        student_id=student.id,
        guardian_id=guardian.id,
        lesson_id=lesson.id,
    )


async def add_class(session: AsyncSession, school: MiniSchool, grade: int, letter: str) -> int:
    klass = m.SchoolClass(
        school_id=school.school_id, academic_year_id=school.year_id, grade=grade, letter=letter
    )
    session.add(klass)
    await session.flush()
    return klass.id


async def add_student(
    session: AsyncSession,
    school: MiniSchool,
    *,
    class_id: int,
    first_name: str,
    last_name: str = "Иванова",
    guardian_id: int | None = None,
    consent: bool = True,
    phone: str | None = None,
) -> int:
    student = m.Student(
        school_id=school.school_id,
        class_id=class_id,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
    )
    session.add(student)
    await session.flush()
    if guardian_id is not None:
        session.add(m.Guardianship(guardian_id=guardian_id, student_id=student.id))
    if consent:
        session.add(m.Consent(student_id=student.id, given_on=date(2026, 9, 1)))
    await session.flush()
    return student.id


async def add_guardian(
    session: AsyncSession, *, first_name: str, last_name: str, phone: str | None = None
) -> int:
    guardian = m.Guardian(first_name=first_name, last_name=last_name, phone=phone)
    session.add(guardian)
    await session.flush()
    return guardian.id


async def add_staff(
    session: AsyncSession,
    school: MiniSchool,
    *,
    first_name: str,
    last_name: str,
    roles: tuple[str, ...] = ("subject_teacher",),
    class_id: int | None = None,
    phone: str | None = None,
) -> int:
    staff = m.Staff(
        school_id=school.school_id, first_name=first_name, last_name=last_name, phone=phone
    )
    session.add(staff)
    await session.flush()
    for role in roles:
        session.add(
            m.StaffRoleAssignment(
                staff_id=staff.id,
                role=role,
                class_id=class_id if role == "class_teacher" else None,
            )
        )
    await session.flush()
    return staff.id


async def add_subject(session: AsyncSession, school: MiniSchool, name: str) -> int:
    subject = m.Subject(school_id=school.school_id, name=name)
    session.add(subject)
    await session.flush()
    return subject.id


async def add_work_kind(
    session: AsyncSession, school: MiniSchool, code: str, name: str, weight: str
) -> int:
    kind = m.WorkKind(school_id=school.school_id, code=code, name=name, weight=Decimal(weight))
    session.add(kind)
    await session.flush()
    return kind.id


async def add_period(
    session: AsyncSession, school: MiniSchool, kind: str, number: int, *, start: date, end: date
) -> int:
    period = m.Period(
        academic_year_id=school.year_id, kind=kind, number=number, starts_on=start, ends_on=end
    )
    session.add(period)
    await session.flush()
    return period.id


async def add_lesson(
    session: AsyncSession,
    school: MiniSchool,
    *,
    day: date,
    slot: int,
    subject_id: int | None = None,
    class_id: int | None = None,
    subgroup_id: int | None = None,
    teacher_id: int | None = None,
    substitute_id: int | None = None,
    room: str | None = "214",
) -> int:
    """A lesson in the slot's usual time: 08:30 for the first, 55 minutes apart."""
    start = 8 * 60 + 30 + (slot - 1) * 55
    lesson = m.Lesson(
        school_id=school.school_id,
        class_id=class_id or school.class_id,
        subgroup_id=subgroup_id,
        subject_id=subject_id or school.subject_id,
        teacher_id=teacher_id or school.teacher_id,
        substitute_teacher_id=substitute_id,
        date=day,
        slot=slot,
        starts_at=time(start // 60, start % 60),
        ends_at=time((start + 45) // 60, (start + 45) % 60),
        room=room,
    )
    session.add(lesson)
    await session.flush()
    return lesson.id


async def add_mark(
    session: AsyncSession,
    *,
    student_id: int,
    lesson_id: int,
    value: str | None,
    work_kind_id: int | None = None,
    weight: str | None = None,
    replaces_id: int | None = None,
    reason: str | None = None,
) -> int:
    mark = m.Mark(
        student_id=student_id,
        lesson_id=lesson_id,
        value=value,
        work_kind_id=work_kind_id,
        weight=Decimal(weight) if weight else None,
        replaces_id=replaces_id,
        reason=reason,
    )
    session.add(mark)
    await session.flush()
    return mark.id
