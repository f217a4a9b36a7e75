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
    Row,
    Select,
    and_,
    any_,
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


def _class_teacher_of(
    account_id: int, class_id: InstrumentedAttribute[int | None]
) -> ColumnElement[bool]:
    """The account is linked to a serving member of staff who is the class's class teacher."""
    return exists().where(
        m.AccountLink.account_id == account_id,
        m.AccountLink.revoked_at.is_(None),
        m.StaffRoleAssignment.staff_id == m.AccountLink.staff_id,
        m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
        m.StaffRoleAssignment.class_id == class_id,
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
            if role == m.StaffRole.CLASS_TEACHER and class_id is not None:
                classes.append(class_id)
    return Identity(
        account_id=account_id,
        guardian_ids=guardians,
        student_ids=students,
        staff_ids=staff,
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
            _class_teacher_of(account_id, m.Student.class_id),
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
    ).where(m.SchoolClass.id == class_id, _class_teacher_of(account_id, m.SchoolClass.id))
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


# --- who hears of what: the fan-out, the send-time check and the screens share these -----------


def _ids(values: Iterable[int]) -> ColumnElement[Any]:
    """A list of ids as one array parameter, however long."""
    return any_(literal(sorted(set(values)), ARRAY(BigInteger)))


def family_accounts(student_ids: Iterable[int]) -> CompoundSelect[*tuple[Any, ...]]:
    """(account_id, student_id, role, created_at) of every link through which an account may
    hear of these students now: the student's own, or a guardian's with consent on record (seed
    003 §1.5). Two index-friendly paths, not one OR (which made PostgreSQL test every link of
    the region for every student); students who left are the caller's to leave out."""
    students = _ids(student_ids)
    link = m.AccountLink
    own = select(link.account_id, link.student_id, link.role, link.created_at).where(
        link.revoked_at.is_(None), link.student_id == students
    )
    guardian = (
        select(link.account_id, m.Guardianship.student_id, link.role, link.created_at)
        .join(
            link, and_(link.guardian_id == m.Guardianship.guardian_id, link.revoked_at.is_(None))
        )
        .where(
            m.Guardianship.student_id == students,
            exists().where(
                m.Consent.student_id == m.Guardianship.student_id, m.Consent.revoked_at.is_(None)
            ),
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
    links = family_accounts(s for _, s in pairs).subquery()
    rows = await session.execute(
        select(links.c.account_id, m.Student.id, m.Student.first_name, m.Student.last_name)
        .join(m.Student, and_(m.Student.id == links.c.student_id, m.Student.left_at.is_(None)))
        .where(links.c.account_id == _ids(a for a, _ in pairs))
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
    links = staff_accounts().subquery()
    role = m.StaffRoleAssignment
    return select(links.c.account_id, links.c.staff_id, links.c.school_id, role.class_id).join(
        role, and_(role.staff_id == links.c.staff_id, role.role.in_([r.value for r in roles]))
    )


def class_teacher_accounts() -> Select[*tuple[Any, ...]]:
    """(account_id, staff_id, school_id, class_id) of every class teacher's account: the
    class's weekly summary goes to them (seed 000 §6.3)."""
    return _in_role(m.StaffRole.CLASS_TEACHER)


def deputy_accounts() -> Select[*tuple[Any, ...]]:
    """(account_id, staff_id, school_id, class_id) of every deputy director's and
    administrator's account: the school's report on journal keeping (seed 004 §7.1)."""
    return _in_role(m.StaffRole.DEPUTY_DIRECTOR, m.StaffRole.ADMINISTRATOR)


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
