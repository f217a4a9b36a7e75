"""Finding people for the administrator: part of a name, a class, a phone or a program's code.

`journalbot people find` prints what it returns, with the ids `codes` and `access revoke`
take, so issuing codes and revoking access need no SQL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.ingest import external
from services.linking.people import PersonId, PersonKind
from services.linking.phone import phone_forms

LIMIT = 200
_CLASS = re.compile(r"\s*(\d{1,2})\s*-?\s*([А-ЯЁA-Z])\s*")
_MODELS: dict[PersonKind, Any] = {
    PersonKind.STUDENT: m.Student,
    PersonKind.GUARDIAN: m.Guardian,
    PersonKind.STAFF: m.Staff,
}
_KINDS = {
    PersonKind.STUDENT: m.ExternalKind.STUDENT,
    PersonKind.GUARDIAN: m.ExternalKind.GUARDIAN,
    PersonKind.STAFF: m.ExternalKind.STAFF,
}


@dataclass(frozen=True, slots=True)
class FoundPerson:
    person: PersonId
    name: str
    classes: tuple[str, ...]  # a pupil's class, a guardian's children's, a class teacher's
    external_id: str | None
    linked: bool  # an account is linked to the person now
    left: bool  # a pupil or staff member who has left, a guardian of nobody here now


def _folded(column: Any) -> ColumnElement[str]:
    """Lower case with ё as е: «Семён» is found by «семен»."""
    folded: ColumnElement[str] = func.replace(func.lower(column), "ё", "е")
    return folded


def _name_matches(model: Any, text: str) -> ColumnElement[bool] | None:
    """Every word of the text in some part of the name."""
    words = [w for w in re.split(r"\s+", text.lower().replace("ё", "е")) if w]
    if not words or any(c.isdigit() for c in text):
        return None
    parts = (model.last_name, model.first_name, model.middle_name)
    clauses = []
    for word in words:
        pattern = "%" + re.sub(r"([%_\\])", r"\\\1", word) + "%"
        clauses.append(or_(*(_folded(p).like(pattern, escape="\\") for p in parts)))
    return and_(*clauses)


def _of_school(kind: PersonKind, school_id: int) -> ColumnElement[bool]:
    """Guardians belong to no school: to the schools of their children (ended or not)."""
    if kind is PersonKind.GUARDIAN:
        children = (
            select(m.Guardianship.guardian_id)
            .join(m.Student, m.Student.id == m.Guardianship.student_id)
            .where(m.Student.school_id == school_id)
        )
        return m.Guardian.id.in_(children)
    model = _MODELS[kind]
    condition: ColumnElement[bool] = model.school_id == school_id
    return condition


async def _by_class(session: AsyncSession, school_id: int, text: str) -> set[PersonId]:
    """A class such as «5Б» or «5 б»: its pupils, their guardians and its class teacher."""
    match = _CLASS.fullmatch(text.upper())
    if match is None:
        return set()
    classes = select(m.SchoolClass.id).where(
        m.SchoolClass.school_id == school_id,
        m.SchoolClass.grade == int(match.group(1)),
        m.SchoolClass.letter == match.group(2),
    )
    students = set(
        (await session.scalars(select(m.Student.id).where(m.Student.class_id.in_(classes)))).all()
    )
    guardians = await session.scalars(
        select(m.Guardianship.guardian_id).where(
            m.Guardianship.student_id.in_(students), m.Guardianship.ended_on.is_(None)
        )
    )
    teachers = await session.scalars(
        select(m.StaffRoleAssignment.staff_id).where(
            m.StaffRoleAssignment.class_id.in_(classes),
            m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
        )
    )
    return (
        {PersonId(PersonKind.STUDENT, s) for s in students}
        | {PersonId(PersonKind.GUARDIAN, g) for g in guardians}
        | {PersonId(PersonKind.STAFF, t) for t in teachers}
    )


async def _by_code(session: AsyncSession, school_id: int, text: str) -> set[PersonId]:
    found: set[PersonId] = set()
    for kind, external_kind in _KINDS.items():
        ids = await external.resolve(session, school_id, external_kind, [text.strip()])
        found |= {PersonId(kind, local) for local in ids.values()}
    return found


async def _by_columns(session: AsyncSession, school_id: int, text: str) -> set[PersonId]:
    """By a phone in any spelling, or by the words of a name."""
    forms = phone_forms(text) if len(re.sub(r"\D", "", text)) >= 10 else []
    found: set[PersonId] = set()
    for kind, model in _MODELS.items():
        condition = model.phone.in_(forms) if forms else _name_matches(model, text)
        if condition is None:
            continue
        query = select(model.id).where(condition, _of_school(kind, school_id)).limit(LIMIT)
        found |= {PersonId(kind, i) for i in await session.scalars(query)}
    return found


async def find_people(session: AsyncSession, text: str, *, school_id: int) -> list[FoundPerson]:
    """Pupils, guardians and staff of the school matching the text, by kind and name.

    The administrator's tool (the command line): no access rule applies.
    """
    if not text.strip():
        return []
    people = (
        await _by_class(session, school_id, text)
        | await _by_code(session, school_id, text)
        | await _by_columns(session, school_id, text)
    )
    by_kind: dict[PersonKind, list[int]] = defaultdict(list)
    for person in people:
        by_kind[person.kind].append(person.id)
    found: list[FoundPerson] = []
    for kind in (PersonKind.STUDENT, PersonKind.GUARDIAN, PersonKind.STAFF):
        found += await _details(session, school_id, kind, by_kind.get(kind, []))
    return found[:LIMIT]


async def _details(
    session: AsyncSession, school_id: int, kind: PersonKind, ids: list[int]
) -> list[FoundPerson]:
    if not ids:
        return []
    model = _MODELS[kind]
    rows = (await session.scalars(select(model).where(model.id.in_(ids)))).all()
    codes = await external.names_of(session, school_id, _KINDS[kind], ids)
    linked = await _linked(session, kind, ids)
    classes = await _classes(session, kind, ids)
    found = [
        FoundPerson(
            person=PersonId(kind, row.id),
            name=" ".join(p for p in (row.last_name, row.first_name, row.middle_name) if p),
            classes=tuple(sorted(classes.get(row.id, ()))),
            external_id=codes.get(row.id),
            linked=row.id in linked,
            left=row.left_at is not None
            if kind is not PersonKind.GUARDIAN
            else not classes.get(row.id),
        )
        for row in rows
    ]
    return sorted(found, key=lambda p: (p.name.casefold(), p.person.id))


async def _linked(session: AsyncSession, kind: PersonKind, ids: Iterable[int]) -> set[int]:
    column = getattr(m.AccountLink, f"{kind.value}_id")
    rows = await session.scalars(
        select(column).where(column.in_(list(ids)), m.AccountLink.revoked_at.is_(None))
    )
    return set(rows.all())


async def _classes(session: AsyncSession, kind: PersonKind, ids: list[int]) -> dict[int, set[str]]:
    label = func.concat(m.SchoolClass.grade, m.SchoolClass.letter)
    if kind is PersonKind.STUDENT:
        query = (
            select(m.Student.id, label)
            .join(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
            .where(m.Student.id.in_(ids))
        )
    elif kind is PersonKind.GUARDIAN:
        query = (
            select(m.Guardianship.guardian_id, label)
            .join(m.Student, m.Student.id == m.Guardianship.student_id)
            .join(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
            .where(m.Guardianship.guardian_id.in_(ids), m.Guardianship.ended_on.is_(None))
        )
    else:
        query = (
            select(m.StaffRoleAssignment.staff_id, label)
            .join(m.SchoolClass, m.SchoolClass.id == m.StaffRoleAssignment.class_id)
            .where(
                m.StaffRoleAssignment.staff_id.in_(ids),
                m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
            )
        )
    result: dict[int, set[str]] = defaultdict(set)
    for person_id, text in await session.execute(query):
        result[person_id].add(str(text))
    return result
