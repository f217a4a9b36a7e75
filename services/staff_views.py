"""What staff read in the bot besides reminders: a teacher's own lessons (substitutions
included), the marks of their classes in their own subjects, and which families of a class
have linked their accounts (seed 004 §3.3.5, §3.3.7).

Each function takes staff ids or a class its caller obtained from `services.access`, which
checked the reader's right at query time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from sqlalchemy import Exists, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from services import forecast
from services.access import ClassRef, TaughtRef, class_label, teaching_accounts
from services.db import models as m
from services.db.current import current_marks
from services.forecast import Forecast
from services.journal.school import PeriodRef
from services.names import short_name
from services.profiles import Profile

# --- a teacher's own lessons -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeacherLesson:
    id: int
    day: date
    slot: int
    starts_at: time
    ends_at: time
    class_label: str
    subgroup: str | None
    subject: str
    room: str | None
    topic: str | None
    # The teacher stands in for `instead_of`; or the teacher's own lesson is taken by
    # `taken_by` (seed 000 §5.2: the substitute keeps the lesson's journal).
    instead_of: str | None
    taken_by: str | None


async def staff_school(session: AsyncSession, staff_ids: Sequence[int]) -> int | None:
    """The school of the first of these members of staff still on the staff."""
    return await session.scalar(
        select(m.Staff.school_id)
        .where(m.Staff.id.in_(staff_ids), m.Staff.left_at.is_(None))
        .order_by(m.Staff.id)
        .limit(1)
    )


_regular = aliased(m.Staff, name="regular")
_substitute = aliased(m.Staff, name="substitute")


async def teacher_lessons(
    session: AsyncSession, staff_ids: Sequence[int], *, day: date
) -> list[TeacherLesson]:
    """The lessons of the day that these members of staff teach or were to teach: their own
    and those they take as a substitute, in timetable order."""
    ids = list(staff_ids)
    rows = await session.execute(
        select(
            m.Lesson.id,
            m.Lesson.date,
            m.Lesson.slot,
            m.Lesson.starts_at,
            m.Lesson.ends_at,
            m.SchoolClass.grade,
            m.SchoolClass.letter,
            m.Subgroup.name,
            m.Subject.name,
            m.Lesson.room,
            m.Lesson.topic,
            m.Lesson.teacher_id,
            m.Lesson.substitute_teacher_id,
            _regular.last_name,
            _regular.first_name,
            _regular.middle_name,
            _substitute.last_name,
            _substitute.first_name,
            _substitute.middle_name,
        )
        .join(m.SchoolClass, m.SchoolClass.id == m.Lesson.class_id)
        .join(m.Subject, m.Subject.id == m.Lesson.subject_id)
        .join(_regular, _regular.id == m.Lesson.teacher_id)
        .outerjoin(_substitute, _substitute.id == m.Lesson.substitute_teacher_id)
        .outerjoin(m.Subgroup, m.Subgroup.id == m.Lesson.subgroup_id)
        .where(
            m.Lesson.date == day,
            or_(m.Lesson.teacher_id.in_(ids), m.Lesson.substitute_teacher_id.in_(ids)),
        )
        .order_by(m.Lesson.slot, m.Lesson.starts_at, m.Lesson.id)
    )
    lessons = []
    for row in rows:
        teacher, substitute = row[11], row[12]
        stands_in = substitute in ids and teacher not in ids
        taken = substitute is not None and substitute not in ids
        lessons.append(
            TeacherLesson(
                id=row[0],
                day=row[1],
                slot=row[2],
                starts_at=row[3],
                ends_at=row[4],
                class_label=class_label(row[5], row[6]),
                subgroup=row[7],
                subject=row[8],
                room=row[9],
                topic=row[10],
                instead_of=short_name(row[13], row[14], row[15]) if stands_in else None,
                taken_by=short_name(row[16], row[17], row[18]) if taken else None,
            )
        )
    return lessons


# --- the marks of a teacher's classes in their subjects ------------------------------------------


@dataclass(frozen=True, slots=True)
class Taught:
    class_id: int
    subject_id: int
    label: str
    subject: str


async def taught_classes(session: AsyncSession, account_id: int, *, today: date) -> list[Taught]:
    """The classes of this school year and the subjects the account teaches there
    (`services.access.teaching_accounts`), by grade, letter and subject."""
    teaching = teaching_accounts().subquery()
    year = m.AcademicYear
    rows = await session.execute(
        select(
            m.SchoolClass.id,
            m.Subject.id,
            m.SchoolClass.grade,
            m.SchoolClass.letter,
            m.Subject.name,
        )
        .select_from(teaching)
        .join(m.SchoolClass, m.SchoolClass.id == teaching.c.class_id)
        .join(m.Subject, m.Subject.id == teaching.c.subject_id)
        .join(
            year,
            and_(
                year.id == m.SchoolClass.academic_year_id,
                year.starts_on <= today,
                year.ends_on >= today,
            ),
        )
        .where(teaching.c.account_id == account_id)
        .distinct()
        .order_by(m.SchoolClass.grade, m.SchoolClass.letter, m.Subject.name)
    )
    return [
        Taught(class_id, subject_id, class_label(grade, letter), subject)
        for class_id, subject_id, grade, letter, subject in rows
    ]


@dataclass(frozen=True, slots=True)
class PupilMarks:
    student_id: int
    name: str
    # (value, weight, under review: against the school's profile, services/forbidden.py)
    marks: tuple[tuple[str, Decimal, bool], ...]
    forecast: Forecast


async def subject_marks(
    session: AsyncSession, taught: TaughtRef, period: PeriodRef, profile: Profile
) -> list[PupilMarks]:
    """Every pupil of the class with their current marks in the subject during the period
    and the forecast; read only. The caller got `taught` from `access.taught_for`."""
    mark = current_marks.c
    rows = await session.execute(
        select(
            mark.student_id,
            mark.value,
            func.coalesce(mark.weight, m.WorkKind.weight, Decimal(1)),
            m.SchoolClass.grade,
        )
        .select_from(current_marks)
        .join(m.Lesson, m.Lesson.id == mark.lesson_id)
        .join(m.SchoolClass, m.SchoolClass.id == m.Lesson.class_id)
        .outerjoin(m.WorkKind, m.WorkKind.id == mark.work_kind_id)
        .where(
            m.Lesson.class_id == taught.class_id,
            m.Lesson.subject_id == taught.subject_id,
            m.Lesson.date.between(period.starts_on, period.ends_on),
        )
        .order_by(m.Lesson.date, m.Lesson.slot, mark.id)
    )
    marks: dict[int, list[tuple[str, Decimal, bool]]] = defaultdict(list)
    for student, value, weight, grade in rows:
        marks[student].append((value, weight, not profile.allows(value, grade=grade)))
    pupils = await session.execute(
        select(m.Student.id, m.Student.last_name, m.Student.first_name)
        .where(m.Student.class_id == taught.class_id, m.Student.left_at.is_(None))
        .order_by(m.Student.last_name, m.Student.first_name, m.Student.id)
    )
    return [
        PupilMarks(
            student_id=sid,
            name=f"{last} {first}",
            marks=tuple(marks.get(sid, ())),
            forecast=forecast.forecast(
                [(v, w) for v, w, review in marks.get(sid, ()) if not review], profile
            ),
        )
        for sid, last, first in pupils
    ]


# --- which families have linked ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    kind: str  # "student" or "guardian"
    id: int
    name: str
    linked: bool


@dataclass(frozen=True, slots=True)
class FamilyLine:
    student: Person
    guardians: tuple[Person, ...]
    consent: bool  # a parent's consent is on record (seed 003 §1.5)

    @property
    def anyone_linked(self) -> bool:
        return self.student.linked or any(g.linked for g in self.guardians)


def _linked(column: str, person_id: InstrumentedAttribute[int]) -> Exists:
    link = m.AccountLink
    return exists().where(getattr(link, column) == person_id, link.revoked_at.is_(None))


async def class_families(session: AsyncSession, klass: ClassRef) -> list[FamilyLine]:
    """Per pupil of the class: whether the pupil and each current guardian has a linked
    account now (seed 004 §3.3.7: the class teacher watches who uses the system)."""
    students = (
        await session.execute(
            select(
                m.Student.id,
                m.Student.last_name,
                m.Student.first_name,
                _linked("student_id", m.Student.id),
                exists().where(
                    m.Consent.student_id == m.Student.id, m.Consent.revoked_at.is_(None)
                ),
            )
            .where(m.Student.class_id == klass.id, m.Student.left_at.is_(None))
            .order_by(m.Student.last_name, m.Student.first_name, m.Student.id)
        )
    ).all()
    guardians: dict[int, list[Person]] = defaultdict(list)
    if students:
        rows = await session.execute(
            select(
                m.Guardianship.student_id,
                m.Guardian.id,
                m.Guardian.last_name,
                m.Guardian.first_name,
                _linked("guardian_id", m.Guardian.id),
            )
            .join(m.Guardian, m.Guardian.id == m.Guardianship.guardian_id)
            .where(
                m.Guardianship.student_id.in_([s[0] for s in students]),
                m.Guardianship.ended_on.is_(None),
            )
            .order_by(m.Guardian.last_name, m.Guardian.first_name, m.Guardian.id)
        )
        for student_id, gid, last, first, linked in rows:
            guardians[student_id].append(Person("guardian", gid, f"{last} {first}", linked))
    return [
        FamilyLine(
            student=Person("student", sid, f"{last} {first}", linked),
            guardians=tuple(guardians.get(sid, ())),
            consent=consent,
        )
        for sid, last, first, linked, consent in students
    ]


async def class_students(session: AsyncSession, klass: ClassRef) -> list[tuple[int, str]]:
    """(id, "Last First") of the class's pupils still at school, by name."""
    rows = await session.execute(
        select(m.Student.id, m.Student.last_name, m.Student.first_name)
        .where(m.Student.class_id == klass.id, m.Student.left_at.is_(None))
        .order_by(m.Student.last_name, m.Student.first_name, m.Student.id)
    )
    return [(sid, f"{last} {first}") for sid, last, first in rows]


async def school_classes(session: AsyncSession, school_id: int, *, today: date) -> list[ClassRef]:
    """The school's classes of the current school year, by grade and letter: what a deputy
    chooses a report's class from (the caller checked the deputy, services/access.py)."""
    year = m.AcademicYear
    rows = await session.execute(
        select(m.SchoolClass.id, m.SchoolClass.grade, m.SchoolClass.letter)
        .join(year, year.id == m.SchoolClass.academic_year_id)
        .where(
            m.SchoolClass.school_id == school_id,
            year.starts_on <= today,
            year.ends_on >= today,
        )
        .order_by(m.SchoolClass.grade, m.SchoolClass.letter)
    )
    return [ClassRef(cid, school_id, class_label(grade, letter)) for cid, grade, letter in rows]
