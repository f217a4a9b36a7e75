"""Whom a code or a link is for: a guardian, a student or a staff member of the journal."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m

MAX_ID = 2**63 - 1  # ids are bigint


class PersonKind(enum.StrEnum):
    GUARDIAN = "guardian"
    STUDENT = "student"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class PersonId:
    kind: PersonKind
    id: int

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def of_link(cls, link: m.AccountLink) -> PersonId:
        """The person an account link names (its role says which of its three columns)."""
        return cls(
            PersonKind(link.role), int(link.guardian_id or link.student_id or link.staff_id or 0)
        )

    @classmethod
    def parse(cls, text: str) -> PersonId:
        """`guardian:12`, `student:34` or `staff:5`."""
        kind, _, number = text.partition(":")
        try:
            person = cls(PersonKind(kind.strip().lower()), int(number))
        except ValueError:
            raise ValueError(f"{text!r}: expected guardian:ID, student:ID or staff:ID") from None
        if not 0 < person.id <= MAX_ID:
            raise ValueError(f"{text!r}: an id is a number from 1 to {MAX_ID}")
        return person


async def check_school(session: AsyncSession, school_id: int | None) -> None:
    """ValueError when a school id is given and there is no such school."""
    if school_id is None:
        return
    if not 0 < school_id <= MAX_ID or await session.get(m.School, school_id) is None:
        raise ValueError(f"no school {school_id}")


_NOUNS = {
    PersonKind.GUARDIAN: "guardian",
    PersonKind.STUDENT: "student",
    PersonKind.STAFF: "staff member",
}
_MODELS: dict[PersonKind, type[m.Guardian | m.Student | m.Staff]] = {
    PersonKind.GUARDIAN: m.Guardian,
    PersonKind.STUDENT: m.Student,
    PersonKind.STAFF: m.Staff,
}


async def check_person(session: AsyncSession, person: PersonId) -> None:
    """ValueError ("guardian:9: no such guardian") when the journal has no such person."""
    if not 0 < person.id <= MAX_ID or await session.get(_MODELS[person.kind], person.id) is None:
        raise ValueError(f"{person}: no such {_NOUNS[person.kind]}")


async def person_details(session: AsyncSession, person: PersonId) -> tuple[int, str, str]:
    """(school id, name, detail) of a person; ValueError when there is none."""
    await check_person(session, person)
    if person.kind is PersonKind.STUDENT:
        row = (
            await session.execute(
                select(m.Student, m.SchoolClass)
                .outerjoin(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
                .where(m.Student.id == person.id)
            )
        ).first()
        if row is None:
            raise ValueError(f"{person}: no such student")
        student, klass = row
        detail = f"{klass.grade}{klass.letter}" if klass else ""
        return student.school_id, f"{student.last_name} {student.first_name}", detail
    if person.kind is PersonKind.STAFF:
        staff = await session.get(m.Staff, person.id)
        if staff is None:
            raise ValueError(f"{person}: no such staff member")
        return staff.school_id, f"{staff.last_name} {staff.first_name}", ""
    guardian = await session.get(m.Guardian, person.id)
    if guardian is None:
        raise ValueError(f"{person}: no such guardian")
    school_id = await session.scalar(
        select(m.Student.school_id)
        .join(m.Guardianship, m.Guardianship.student_id == m.Student.id)
        .where(m.Guardianship.guardian_id == guardian.id)
        .order_by(m.Student.id)
        .limit(1)
    )
    if school_id is None:
        raise ValueError(f"{person}: the guardian has no children in the journal")
    return school_id, f"{guardian.last_name} {guardian.first_name}", ""


class PersonColumns(TypedDict):
    guardian_id: int | None
    student_id: int | None
    staff_id: int | None


def person_columns(person: PersonId) -> PersonColumns:
    return {
        "guardian_id": person.id if person.kind is PersonKind.GUARDIAN else None,
        "student_id": person.id if person.kind is PersonKind.STUDENT else None,
        "staff_id": person.id if person.kind is PersonKind.STAFF else None,
    }
