"""Who may see which student, class and lesson: decided here, per object, at query time.

SPEC §3: a guardian sees each linked child (with a consent record, seed 003 §1.5), a student
sees only themself, a class teacher reads the whole journal of their own class (seed 000 §6.3),
a subject teacher their own lessons, a deputy director the school's reports. Links are read on
every call, so a revoked link stops working on the next update (seed 002 §4.3–4.4). An object
that exists but is not the viewer's is reported exactly like one that does not exist.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    any_,
    case,
    exists,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.db import models as m


class NotFound(LookupError):
    """The object does not exist or is not the viewer's: the caller cannot tell which."""


class Relation(enum.StrEnum):
    GUARDIAN = "guardian"
    SELF = "self"
    CLASS_TEACHER = "class_teacher"


@dataclass(frozen=True, slots=True)
class StudentRef:
    id: int
    school_id: int
    class_id: int | None
    class_label: str
    first_name: str
    last_name: str
    relation: Relation
    # "m", "f" or None: the words that agree with the pupil (handlers/render.py by_sex).
    sex: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class ClassRef:
    id: int
    school_id: int
    label: str


@dataclass(frozen=True, slots=True)
class Identity:
    """An account's current links: empty tuples for a stranger."""

    account_id: int
    guardian_ids: tuple[int, ...]
    student_ids: tuple[int, ...]
    staff_ids: tuple[int, ...]
    class_teacher_of: tuple[int, ...]
    # Schools whose journal-keeping reports the account reads (deputy, administrator).
    deputy_of: tuple[int, ...] = ()

    @property
    def is_linked(self) -> bool:
        return bool(self.guardian_ids or self.student_ids or self.staff_ids)

    @property
    def is_family(self) -> bool:
        return bool(self.guardian_ids or self.student_ids)

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_ids)


_MAX_ID = 2**63 - 1


def _check_id(object_id: int) -> None:
    """Ids come from buttons anybody can forge: out of bigint range is simply not found."""
    if not 0 < object_id <= _MAX_ID:
        raise NotFound(object_id)


def class_label(grade: int | None, letter: str | None) -> str:
    return f"{grade}{letter}" if grade is not None and letter is not None else ""


def _active_links(account_id: int) -> ColumnElement[bool]:
    return and_(m.AccountLink.account_id == account_id, m.AccountLink.revoked_at.is_(None))


def _consented(student_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """The school has a consent on record for the student (seed 003 §1.5)."""
    return exists().where(m.Consent.student_id == student_id, m.Consent.revoked_at.is_(None))


async def identity(session: AsyncSession, account_id: int) -> Identity:
    """The account's active links and staff roles right now."""
    links = (
        await session.execute(
            select(m.AccountLink.guardian_id, m.AccountLink.student_id, m.AccountLink.staff_id)
            .where(_active_links(account_id))
            .order_by(m.AccountLink.id)
        )
    ).all()
    guardians = tuple(g for g, _, _ in links if g is not None)
    students = tuple(s for _, s, _ in links if s is not None)
    staff = tuple(t for _, _, t in links if t is not None)
    classes: tuple[int, ...] = ()
    deputy_of: tuple[int, ...] = ()
    if staff:
        teachers = class_teacher_accounts().subquery()
        rows = await session.scalars(
            select(teachers.c.class_id)
            .where(teachers.c.account_id == account_id)
            .order_by(teachers.c.assignment_id)
        )
        classes = tuple(dict.fromkeys(rows))
        deputies = deputy_accounts().subquery()
        schools = await session.scalars(
            select(deputies.c.school_id)
            .where(deputies.c.account_id == account_id)
            .order_by(deputies.c.school_id)
        )
        deputy_of = tuple(dict.fromkeys(schools))
    return Identity(
        account_id=account_id,
        guardian_ids=guardians,
        student_ids=students,
        staff_ids=staff,
        class_teacher_of=classes,
        deputy_of=deputy_of,
    )


# The closest tie first: a class teacher who is also a parent sees their child as a parent.
_CLOSEST = (Relation.SELF, Relation.GUARDIAN, Relation.CLASS_TEACHER)


def _family_relations(account_id: int, student_id: int | None = None) -> Select[Any, Any]:
    """(student_id, relation) of each link through which the account sees a student as family
    (`family_accounts`), narrowed to one student if given."""
    links = family_accounts(
        None if student_id is None else [student_id], accounts=[account_id]
    ).subquery()
    relation = case(
        (links.c.role == m.LinkRole.STUDENT.value, literal(Relation.SELF.value)),
        else_=literal(Relation.GUARDIAN.value),
    )
    return select(links.c.student_id, relation.label("relation"))


async def _students(
    session: AsyncSession, relations: Select[Any, Any] | CompoundSelect[Any, Any]
) -> list[StudentRef]:
    """The students of these (student_id, relation) rows who are still at school, each once
    under their closest relation, by first name."""
    seen = relations.subquery()
    rows = await session.execute(
        select(
            m.Student.id,
            m.Student.school_id,
            m.Student.class_id,
            m.SchoolClass.grade,
            m.SchoolClass.letter,
            m.Student.first_name,
            m.Student.last_name,
            seen.c.relation,
            m.Student.sex,
        )
        .join(seen, seen.c.student_id == m.Student.id)
        .outerjoin(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
        .where(m.Student.left_at.is_(None))
        .order_by(m.Student.first_name, m.Student.id)
    )
    found: dict[int, StudentRef] = {}
    for sid, school, klass, grade, letter, first, last, relation, sex in rows:
        ref = StudentRef(
            sid, school, klass, class_label(grade, letter), first, last, Relation(relation), sex
        )
        held = found.get(sid)
        if held is None or _CLOSEST.index(ref.relation) < _CLOSEST.index(held.relation):
            found[sid] = ref
    return list(found.values())


async def family_students(session: AsyncSession, account_id: int) -> list[StudentRef]:
    """The account's own children (with consent) and the student themself, in a stable order."""
    return await _students(session, _family_relations(account_id))


async def student_for(session: AsyncSession, account_id: int, student_id: int) -> StudentRef:
    """The student if this account may see them now (guardian, self or class teacher).

    Raises NotFound otherwise, whether or not the student exists.
    """
    _check_id(student_id)
    teachers = class_teacher_accounts().subquery()
    as_class_teacher = (
        select(m.Student.id, literal(Relation.CLASS_TEACHER.value))
        .join(teachers, teachers.c.class_id == m.Student.class_id)
        .where(m.Student.id == student_id, teachers.c.account_id == account_id)
    )
    found = await _students(
        session, union_all(_family_relations(account_id, student_id), as_class_teacher)
    )
    if not found:
        raise NotFound(student_id)
    return found[0]


async def class_for(session: AsyncSession, account_id: int, class_id: int) -> ClassRef:
    """A class its class teacher may read (seed 000 §6.3). Raises NotFound otherwise."""
    _check_id(class_id)
    teachers = class_teacher_accounts().subquery()
    query = (
        select(
            m.SchoolClass.id, m.SchoolClass.school_id, m.SchoolClass.grade, m.SchoolClass.letter
        )
        .join(teachers, teachers.c.class_id == m.SchoolClass.id)
        .where(m.SchoolClass.id == class_id, teachers.c.account_id == account_id)
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(class_id)
    return ClassRef(id=row[0], school_id=row[1], label=class_label(row[2], row[3]))


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the bot shows about who an account is: for the greeting and the menu."""

    identity: Identity
    children: list[StudentRef]
    staff_names: list[str]
    # Children of a linked guardian, or the linked student themself, whom the school has no
    # consent for (seed 003 §1.5).
    awaiting_consent: list[str]


async def overview(session: AsyncSession, account_id: int) -> Overview:
    who = await identity(session, account_id)
    children = await family_students(session, account_id) if who.is_family else []
    staff_names: list[str] = []
    if who.staff_ids:
        rows = await session.execute(
            select(m.Staff.first_name, m.Staff.middle_name, m.Staff.last_name)
            .where(m.Staff.id.in_(who.staff_ids), m.Staff.left_at.is_(None))
            .order_by(m.Staff.id)
        )
        staff_names = [" ".join(p for p in (f, mid, last) if p) for f, mid, last in rows.all()]
    awaiting: list[str] = []
    if who.guardian_ids or who.student_ids:
        guarded = select(m.Guardianship.student_id).where(
            m.Guardianship.guardian_id.in_(who.guardian_ids), m.Guardianship.ended_on.is_(None)
        )
        pending = await session.execute(
            select(m.Student.first_name, m.Student.last_name)
            .where(
                or_(m.Student.id.in_(guarded), m.Student.id.in_(who.student_ids)),
                m.Student.left_at.is_(None),
                ~_consented(m.Student.id),
            )
            .order_by(m.Student.first_name, m.Student.id)
        )
        awaiting = [f"{first} {last}" for first, last in pending.all()]
    return Overview(who, children, staff_names, awaiting)


async def selected_child(
    session: AsyncSession, account_id: int, remembered: int | None
) -> StudentRef | None:
    """The child the account looks at: the remembered one if still visible, else the first."""
    children = await family_students(session, account_id)
    for child in children:
        if child.id == remembered:
            return child
    return children[0] if children else None


# --- who hears of what: the fan-out, the send-time check and the screens share these -----------


def _ids(values: Iterable[int]) -> ColumnElement[Any]:
    """A list of ids as one array parameter, however long."""
    return any_(literal(sorted(set(values)), ARRAY(BigInteger)))


def family_accounts(
    student_ids: Iterable[int] | None = None, *, accounts: Iterable[int] | None = None
) -> CompoundSelect[*tuple[Any, ...]]:
    """(account_id, student_id, role, created_at) of every link through which an account may
    see and hear of a student now: the student's own, or a guardian's with consent on record
    (seed 003 §1.5) while the school's roster still names the guardian. The one family rule:
    the fan-out narrows it to the students of a change, the send-time check to (account,
    student) pairs, the screens to one account. Two index-friendly paths, not one OR (which
    made PostgreSQL test every link of the region for every student); students who left are
    the caller's to leave out."""
    link = m.AccountLink
    own = select(link.account_id, link.student_id, link.role, link.created_at).where(
        link.revoked_at.is_(None),
        link.student_id.is_not(None),
        # The student's own account too needs the parent's consent (seed 003 §1.5).
        exists().where(m.Consent.student_id == link.student_id, m.Consent.revoked_at.is_(None)),
    )
    guardian = (
        select(link.account_id, m.Guardianship.student_id, link.role, link.created_at)
        .join(
            link, and_(link.guardian_id == m.Guardianship.guardian_id, link.revoked_at.is_(None))
        )
        .where(m.Guardianship.ended_on.is_(None), _consented(m.Guardianship.student_id))
    )
    if student_ids is not None:
        students = _ids(student_ids)
        own = own.where(link.student_id == students)
        guardian = guardian.where(m.Guardianship.student_id == students)
    if accounts is not None:
        account_ids = _ids(accounts)
        own = own.where(link.account_id == account_ids)
        guardian = guardian.where(link.account_id == account_ids)
    return union_all(own, guardian)


def leaver_families(student_ids: Iterable[int]) -> CompoundSelect[*tuple[Any, ...]]:
    """(account_id, student_id) of the families of pupils who left the school: the pupil's
    own link, and a guardian's whose guardianship lasted until the pupil left (the roster
    may end it the same day), with consent on record and the link not revoked. Whom the
    final report goes to (seed 003 §7.7); nothing else reads a pupil who left."""
    link, student = m.AccountLink, m.Student
    students = _ids(student_ids)
    own = (
        select(link.account_id, link.student_id)
        .join(student, student.id == link.student_id)
        .where(
            link.revoked_at.is_(None),
            link.student_id == students,
            student.left_at.is_not(None),
            _consented(student.id),
        )
    )
    guardian = (
        select(link.account_id, m.Guardianship.student_id)
        .join(
            link, and_(link.guardian_id == m.Guardianship.guardian_id, link.revoked_at.is_(None))
        )
        .join(student, student.id == m.Guardianship.student_id)
        .where(
            m.Guardianship.student_id == students,
            student.left_at.is_not(None),
            or_(m.Guardianship.ended_on.is_(None), m.Guardianship.ended_on >= student.left_at),
            _consented(m.Guardianship.student_id),
        )
    )
    return union_all(own, guardian)


async def family_names(
    session: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """Of these (account, student) pairs, those where the account is the student or a
    guardian with consent right now, with the student's name: one query for a whole batch
    of notifications."""
    if not pairs:
        return {}
    links = family_accounts((s for _, s in pairs), accounts=(a for a, _ in pairs)).subquery()
    rows = await session.execute(
        select(links.c.account_id, m.Student.id, m.Student.first_name, m.Student.last_name).join(
            m.Student, and_(m.Student.id == links.c.student_id, m.Student.left_at.is_(None))
        )
    )
    return {
        (account, student): f"{first} {last}"
        for account, student, first, last in rows
        if (account, student) in pairs
    }


def staff_accounts() -> Select[int, int | None, int]:
    """(account_id, staff_id, school_id) of every account linked now to somebody still on the
    staff: whom a teacher's reminders go to, and who may still read one."""
    return (
        select(m.AccountLink.account_id, m.AccountLink.staff_id, m.Staff.school_id)
        .join(m.Staff, and_(m.Staff.id == m.AccountLink.staff_id, m.Staff.left_at.is_(None)))
        .where(m.AccountLink.revoked_at.is_(None))
    )


def _in_role(*roles: m.StaffRole) -> Select[*tuple[Any, ...]]:
    """(account_id, staff_id, school_id, class_id, assignment_id) of the accounts of staff
    holding one of these roles now."""
    links = staff_accounts().subquery()
    role = m.StaffRoleAssignment
    return select(
        links.c.account_id,
        links.c.staff_id,
        links.c.school_id,
        role.class_id,
        role.id.label("assignment_id"),
    ).join(role, and_(role.staff_id == links.c.staff_id, role.role.in_([r.value for r in roles])))


def class_teacher_accounts() -> Select[*tuple[Any, ...]]:
    """(account_id, staff_id, school_id, class_id, assignment_id) of every class teacher's
    account: who reads the class's journal and gets its weekly summary (seed 000 §6.3)."""
    return _in_role(m.StaffRole.CLASS_TEACHER)


def deputy_accounts() -> Select[*tuple[Any, ...]]:
    """(account_id, staff_id, school_id, class_id, assignment_id) of every deputy director's
    and administrator's account: the school's report on journal keeping (seed 004 §7.1)."""
    return _in_role(m.StaffRole.DEPUTY_DIRECTOR, m.StaffRole.ADMINISTRATOR)


def lesson_teacher(lesson: str) -> str:
    """SQL: the member of staff a lesson (the alias `lesson` of `lessons`) belongs to: the
    substitute when there was one (seed 000 §5.2, seed 004 §4.4.3). They are reminded of its
    missing entries, and the deputy's report counts it as theirs."""
    return f"coalesce({lesson}.substitute_teacher_id, {lesson}.teacher_id)"


async def _holds(session: AsyncSession, rule: Select[*tuple[Any, ...]], **values: int) -> bool:
    found = rule.subquery()
    query = select(exists().where(*(found.c[name] == value for name, value in values.items())))
    return bool(await session.scalar(query))


async def speaks_for_staff(session: AsyncSession, account_id: int, staff_id: int) -> bool:
    """Whether the account is linked now to this member of staff, still on the staff."""
    return await _holds(session, staff_accounts(), account_id=account_id, staff_id=staff_id)


async def is_class_teacher(session: AsyncSession, account_id: int, class_id: int) -> bool:
    """Whether the account is linked now to the class's class teacher."""
    rule = class_teacher_accounts()
    return await _holds(session, rule, account_id=account_id, class_id=class_id)


async def is_deputy(session: AsyncSession, account_id: int, school_id: int) -> bool:
    """Whether the account is linked now to the school's deputy director or administrator."""
    return await _holds(session, deputy_accounts(), account_id=account_id, school_id=school_id)


# --- staff screens: a teacher's own classes, a deputy's schools --------------------------------


@dataclass(frozen=True, slots=True)
class TaughtRef:
    """A class and a subject its teacher teaches: what the teacher may read the marks of."""

    class_id: int
    school_id: int
    label: str
    subject_id: int
    subject: str


def teaching_accounts() -> Select[*tuple[Any, ...]]:
    """(account_id, class_id, subject_id) of every account linked now to a teacher of the
    subject in the class: by a teaching assignment, or as the lesson's own teacher (a one-off
    substitute is not). Seed 003 §3.1: "учитель имеет право доступа к данным по своему
    предмету (оценки всех обучающихся классов, в которых учитель ведёт уроки)"."""
    links = staff_accounts().subquery()
    assigned = select(
        links.c.account_id, m.TeachingAssignment.class_id, m.TeachingAssignment.subject_id
    ).join(m.TeachingAssignment, m.TeachingAssignment.staff_id == links.c.staff_id)
    taught = (
        select(links.c.account_id, m.Lesson.class_id, m.Lesson.subject_id)
        .join(m.Lesson, m.Lesson.teacher_id == links.c.staff_id)
        .distinct()
    )
    return union_all(assigned, taught)  # type: ignore[return-value]


async def taught_for(
    session: AsyncSession, account_id: int, class_id: int, subject_id: int
) -> TaughtRef:
    """The class and subject if the account teaches that subject there now (SPEC §3: "own
    classes' marks in own subjects"). Raises NotFound otherwise, whether or not they exist."""
    _check_id(class_id)
    _check_id(subject_id)
    teaching = teaching_accounts().subquery()
    row = (
        await session.execute(
            select(
                m.SchoolClass.school_id, m.SchoolClass.grade, m.SchoolClass.letter, m.Subject.name
            )
            .join(m.Subject, m.Subject.school_id == m.SchoolClass.school_id)
            .where(
                m.SchoolClass.id == class_id,
                m.Subject.id == subject_id,
                exists().where(
                    teaching.c.account_id == account_id,
                    teaching.c.class_id == class_id,
                    teaching.c.subject_id == subject_id,
                ),
            )
        )
    ).first()
    if row is None:
        raise NotFound(class_id)
    school_id, grade, letter, subject = row
    return TaughtRef(class_id, school_id, class_label(grade, letter), subject_id, subject)


async def school_class(session: AsyncSession, school_id: int, class_id: int) -> ClassRef:
    """A class of this school, for a reader already allowed the school's reports (a deputy);
    NotFound for another school's class or none."""
    _check_id(class_id)
    row = (
        await session.execute(
            select(m.SchoolClass.grade, m.SchoolClass.letter).where(
                m.SchoolClass.id == class_id, m.SchoolClass.school_id == school_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(class_id)
    return ClassRef(id=class_id, school_id=school_id, label=class_label(row[0], row[1]))


# --- talking to the school: whom a family may write to ------------------------------------------


async def family_student(session: AsyncSession, account_id: int, student_id: int) -> StudentRef:
    """The student if the account is the student themself or their guardian now (seed 003
    §3.7: parents correspond about their own child); NotFound otherwise, a class teacher's
    reading access included."""
    found = await _students(session, _family_relations(account_id, student_id))
    if not found:
        raise NotFound(student_id)
    return found[0]


async def student_teachers(
    session: AsyncSession, student: StudentRef
) -> dict[int, tuple[bool, tuple[str, ...]]]:
    """The staff a family may write to about the student, by staff id: the class teacher of
    the student's class (seed 001 §4.2.6) and the teachers of its subjects, by teaching
    assignment or as the teacher of the class's lessons (their subgroup's only; seed 003
    §3.7), each still on the staff and linked to an account now; with whether they are the
    class teacher and the subjects they teach the student."""
    if student.class_id is None:
        return {}
    linked = staff_accounts().subquery()
    reachable = exists().where(
        linked.c.staff_id == m.Staff.id,
        exists().where(m.Account.id == linked.c.account_id, m.Account.is_active),
    )
    found: dict[int, tuple[bool, tuple[str, ...]]] = {}
    class_teachers = await session.scalars(
        select(m.Staff.id)
        .join(m.StaffRoleAssignment, m.StaffRoleAssignment.staff_id == m.Staff.id)
        .where(
            m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
            m.StaffRoleAssignment.class_id == student.class_id,
            m.Staff.left_at.is_(None),
            reachable,
        )
    )
    for staff_id in class_teachers:
        found[staff_id] = (True, ())

    def own_group(subgroup_id: InstrumentedAttribute[int | None]) -> ColumnElement[bool]:
        return or_(
            subgroup_id.is_(None),
            exists().where(
                m.SubgroupMember.subgroup_id == subgroup_id,
                m.SubgroupMember.student_id == student.id,
            ),
        )

    # By teaching assignment, or as the teacher of the class's lessons (a substitute is not).
    assigned = m.TeachingAssignment
    teaching = union_all(
        select(assigned.staff_id, assigned.subject_id).where(
            assigned.class_id == student.class_id, own_group(assigned.subgroup_id)
        ),
        select(m.Lesson.teacher_id, m.Lesson.subject_id)
        .where(m.Lesson.class_id == student.class_id, own_group(m.Lesson.subgroup_id))
        .distinct(),
    ).subquery()
    rows = await session.execute(
        select(m.Staff.id, m.Subject.name)
        .distinct()
        .join(teaching, teaching.c.staff_id == m.Staff.id)
        .join(m.Subject, m.Subject.id == teaching.c.subject_id)
        .where(m.Staff.left_at.is_(None), reachable)
        .order_by(m.Subject.name, m.Staff.id)
    )
    for staff_id, subject in rows:
        is_class_teacher, subjects = found.get(staff_id, (False, ()))
        if subject not in subjects:
            found[staff_id] = (is_class_teacher, (*subjects, subject))
    return found
