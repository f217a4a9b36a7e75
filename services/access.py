"""Who may see which student, class and lesson: decided here, per object, at query time.

SPEC §3: a guardian sees each linked child (with a consent record, seed 003 §1.5), a student
sees only themself, a class teacher reads the whole journal of their own class (seed 000 §6.3),
a subject teacher their own lessons, a deputy director the school's reports. Links are read on
every call, so a revoked link stops working on the next update (seed 002 §4.3–4.4). An object
that exists but is not the viewer's is reported exactly like one that does not exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

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
    staff_roles: frozenset[str]
    class_teacher_of: tuple[int, ...]

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


def _has_consent() -> ColumnElement[bool]:
    return exists().where(m.Consent.student_id == m.Student.id, m.Consent.revoked_at.is_(None))


def _guardian_of(account_id: int) -> ColumnElement[bool]:
    return exists().where(
        m.AccountLink.account_id == account_id,
        m.AccountLink.revoked_at.is_(None),
        m.Guardianship.guardian_id == m.AccountLink.guardian_id,
        m.Guardianship.student_id == m.Student.id,
    )


def _is_self(account_id: int) -> ColumnElement[bool]:
    return exists().where(
        m.AccountLink.account_id == account_id,
        m.AccountLink.revoked_at.is_(None),
        m.AccountLink.student_id == m.Student.id,
    )


def _class_teacher_of_student(account_id: int) -> ColumnElement[bool]:
    return exists().where(
        m.AccountLink.account_id == account_id,
        m.AccountLink.revoked_at.is_(None),
        m.StaffRoleAssignment.staff_id == m.AccountLink.staff_id,
        m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
        m.StaffRoleAssignment.class_id == m.Student.class_id,
        exists().where(m.Staff.id == m.AccountLink.staff_id, m.Staff.left_at.is_(None)),
    )


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
    roles: set[str] = set()
    classes: list[int] = []
    if staff:
        rows = (
            await session.execute(
                select(m.StaffRoleAssignment.role, m.StaffRoleAssignment.class_id)
                .join(m.Staff, m.Staff.id == m.StaffRoleAssignment.staff_id)
                .where(m.StaffRoleAssignment.staff_id.in_(staff), m.Staff.left_at.is_(None))
                .order_by(m.StaffRoleAssignment.id)
            )
        ).all()
        for role, class_id in rows:
            roles.add(role)
            if role == m.StaffRole.CLASS_TEACHER and class_id is not None:
                classes.append(class_id)
    return Identity(
        account_id=account_id,
        guardian_ids=guardians,
        student_ids=students,
        staff_ids=staff,
        staff_roles=frozenset(roles),
        class_teacher_of=tuple(classes),
    )


def _student_query(account_id: int) -> Select[*tuple[Any, ...]]:
    return (
        select(
            m.Student.id,
            m.Student.school_id,
            m.Student.class_id,
            m.SchoolClass.grade,
            m.SchoolClass.letter,
            m.Student.first_name,
            m.Student.last_name,
            _guardian_of(account_id).label("as_guardian"),
            _is_self(account_id).label("as_self"),
        )
        .outerjoin(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
        .where(m.Student.left_at.is_(None))
    )


def _ref(row: Row[Any]) -> StudentRef:
    relation = (
        Relation.SELF
        if row.as_self
        else Relation.GUARDIAN
        if row.as_guardian
        else Relation.CLASS_TEACHER
    )
    return StudentRef(
        id=row.id,
        school_id=row.school_id,
        class_id=row.class_id,
        class_label=class_label(row.grade, row.letter),
        first_name=row.first_name,
        last_name=row.last_name,
        relation=relation,
    )


async def family_students(session: AsyncSession, account_id: int) -> list[StudentRef]:
    """The account's own children (with consent) and the student themself, in a stable order."""
    # Candidates first, through the account's links: the conditions below then look at a
    # handful of students, not at every student of the region.
    candidates = (
        select(m.Guardianship.student_id)
        .join(m.AccountLink, m.AccountLink.guardian_id == m.Guardianship.guardian_id)
        .where(_active_links(account_id))
        .union_all(
            select(m.AccountLink.student_id).where(
                _active_links(account_id), m.AccountLink.student_id.is_not(None)
            )
        )
    )
    query = _student_query(account_id).where(
        m.Student.id.in_(candidates),
        or_(
            and_(_guardian_of(account_id), _has_consent()),
            _is_self(account_id),
        ),
    )
    rows = (await session.execute(query.order_by(m.Student.first_name, m.Student.id))).all()
    return [_ref(row) for row in rows]


async def student_for(session: AsyncSession, account_id: int, student_id: int) -> StudentRef:
    """The student if this account may see them now (guardian, self or class teacher).

    Raises NotFound otherwise, whether or not the student exists.
    """
    _check_id(student_id)
    query = _student_query(account_id).where(
        m.Student.id == student_id,
        or_(
            and_(_guardian_of(account_id), _has_consent()),
            _is_self(account_id),
            _class_teacher_of_student(account_id),
        ),
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(student_id)
    return _ref(row)


async def class_for(session: AsyncSession, account_id: int, class_id: int) -> ClassRef:
    """A class its class teacher may read (seed 000 §6.3). Raises NotFound otherwise."""
    _check_id(class_id)
    query = select(
        m.SchoolClass.id, m.SchoolClass.school_id, m.SchoolClass.grade, m.SchoolClass.letter
    ).where(
        m.SchoolClass.id == class_id,
        exists().where(
            m.AccountLink.account_id == account_id,
            m.AccountLink.revoked_at.is_(None),
            m.StaffRoleAssignment.staff_id == m.AccountLink.staff_id,
            m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
            m.StaffRoleAssignment.class_id == m.SchoolClass.id,
            exists().where(m.Staff.id == m.AccountLink.staff_id, m.Staff.left_at.is_(None)),
        ),
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(class_id)
    return ClassRef(id=row[0], school_id=row[1], label=class_label(row[2], row[3]))


async def students_of_class(
    session: AsyncSession, account_id: int, class_id: int
) -> list[StudentRef]:
    """The class list for its class teacher; NotFound for anybody else."""
    await class_for(session, account_id, class_id)
    rows = (
        await session.execute(
            _student_query(account_id)
            .where(m.Student.class_id == class_id)
            .order_by(m.Student.last_name, m.Student.first_name, m.Student.id)
        )
    ).all()
    return [_ref(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the bot shows about who an account is: for the greeting and the menu."""

    identity: Identity
    children: list[StudentRef]
    staff_names: list[str]
    # Children of a linked guardian whom the school has no consent for (seed 003 §1.5).
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
    if who.guardian_ids:
        pending = await session.execute(
            select(m.Student.first_name, m.Student.last_name)
            .join(m.Guardianship, m.Guardianship.student_id == m.Student.id)
            .where(
                m.Guardianship.guardian_id.in_(who.guardian_ids),
                m.Student.left_at.is_(None),
                ~_has_consent(),
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


_FAMILY_PAIRS = text(
    """
    SELECT p.account_id, st.id, st.first_name, st.last_name
    FROM unnest(CAST(:accounts AS bigint[]), CAST(:students AS bigint[]))
         AS p(account_id, student_id)
    JOIN students st ON st.id = p.student_id AND st.left_at IS NULL
    WHERE EXISTS (SELECT 1 FROM account_links l
                  WHERE l.account_id = p.account_id AND l.revoked_at IS NULL
                    AND l.student_id = st.id)
       OR (EXISTS (SELECT 1 FROM account_links l
                   JOIN guardianships g ON g.guardian_id = l.guardian_id
                   WHERE l.account_id = p.account_id AND l.revoked_at IS NULL
                     AND g.student_id = st.id)
           AND EXISTS (SELECT 1 FROM consents c
                       WHERE c.student_id = st.id AND c.revoked_at IS NULL))
    """
)


async def family_names(
    session: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """Of these (account, student) pairs, those where the account is the student or a
    guardian with consent right now, with the student's name: one query for a whole batch
    of notifications."""
    if not pairs:
        return {}
    ordered = sorted(pairs)
    rows = await session.execute(
        _FAMILY_PAIRS,
        {"accounts": [a for a, _ in ordered], "students": [s for _, s in ordered]},
    )
    return {(account, student): f"{first} {last}" for account, student, first, last in rows}
