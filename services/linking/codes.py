"""Activation codes: their form, and issuing them for a class, a person or the staff."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.audit import Action
from services.db import models as m
from services.linking.people import (
    PersonId,
    PersonKind,
    check_school,
    person_columns,
    person_details,
)

# No 0/O and no 1/I/L: a code is read off paper and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # 31**10 ≈ 2**49.5: far above the 40 bits asked for
GROUP = 5
DEFAULT_TTL = timedelta(days=14)
# The longest a slip may stay valid: a term's start with time to hand slips out, no longer.
MAX_TTL_DAYS = 90
_NOT_CODE = re.compile(r"[\s\-_.]")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """ABCDE-FGHJK: easier to read aloud and to copy by hand."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(text: str) -> str | None:
    """The code in canonical form, or None when the text cannot be a code at all."""
    candidate = _NOT_CODE.sub("", text).upper()
    if len(candidate) != CODE_LENGTH or any(ch not in ALPHABET for ch in candidate):
        return None
    return candidate


def hash_code(secret: bytes, code: str) -> bytes:
    return hmac.new(secret, code.encode("ascii"), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class IssuedCode:
    person: PersonId
    school_id: int
    name: str
    detail: str  # the class, or whose guardian, for the slip
    code: str
    expires_at: datetime


# Latin letters typed for the Cyrillic ones they look like or stand for: 7B may be 7Б or 7В.
_CYRILLIC_FOR_LATIN = {
    "A": "А", "B": "БВ", "C": "СЦ", "D": "Д", "E": "ЕЭ", "F": "Ф", "G": "Г", "H": "НХ",
    "I": "И", "J": "Й", "K": "К", "L": "Л", "M": "М", "N": "Н", "O": "О", "P": "ПР",
    "R": "Р", "S": "С", "T": "Т", "U": "У", "V": "В", "W": "В", "X": "Х", "Y": "УЫ",
    "Z": "З",
}  # fmt: skip


async def _no_class(session: AsyncSession, school_id: int | None, grade: int, letter: str) -> str:
    """Why a class was not found, suggesting the Cyrillic class meant by a Latin letter."""
    if not "A" <= letter <= "Z":
        return f"no class {grade}{letter}"
    candidates = _CYRILLIC_FOR_LATIN.get(letter, "")
    query = select(m.SchoolClass.letter).where(
        m.SchoolClass.grade == grade, m.SchoolClass.letter.in_(list(candidates))
    )
    if school_id is not None:
        query = query.where(m.SchoolClass.school_id == school_id)
    found = sorted(set((await session.scalars(query)).all()))
    if not found:
        return f"no class {grade}{letter} (class letters are Cyrillic)"
    meant = " or ".join(f"{grade}{cyrillic}" for cyrillic in found)
    return f"no class {grade}{letter}; did you mean {meant}?"


_Person = TypeVar("_Person", m.Student, m.Staff)


async def _present_by_name(
    session: AsyncSession, model: type[_Person], *where: ColumnElement[bool]
) -> Sequence[_Person]:
    """The students (or staff) matching `where` who have not left, by name."""
    query = (
        select(model)
        .where(*where, model.left_at.is_(None))
        .order_by(model.last_name, model.first_name, model.id)
    )
    return (await session.scalars(query)).all()


async def _people_of_class(
    session: AsyncSession, school_id: int | None, label: str
) -> list[tuple[PersonId, int, str, str]]:
    await check_school(session, school_id)
    match = re.fullmatch(r"\s*(\d{1,2})\s*-?\s*([А-ЯЁA-Z])\s*", label.upper())
    if match is None:
        raise ValueError(f"{label!r}: expected a class such as 7Б")
    grade, letter = int(match.group(1)), match.group(2)
    query = select(m.SchoolClass.id, m.SchoolClass.school_id).where(
        m.SchoolClass.grade == grade, m.SchoolClass.letter == letter
    )
    if school_id is not None:
        query = query.where(m.SchoolClass.school_id == school_id)
    classes = (await session.execute(query.order_by(m.SchoolClass.id.desc()))).all()
    if not classes:
        raise ValueError(await _no_class(session, school_id, grade, letter))
    if len({school for _, school in classes}) > 1:
        raise ValueError(f"class {grade}{letter} exists in several schools: give --school")
    class_id, school = classes[0]
    people: list[tuple[PersonId, int, str, str]] = []
    students = await _present_by_name(session, m.Student, m.Student.class_id == class_id)
    label_text = f"{grade}{letter}"
    for student in students:
        full = f"{student.last_name} {student.first_name}"
        people.append((PersonId(PersonKind.STUDENT, student.id), school, full, label_text))
        guardians = (
            await session.execute(
                select(m.Guardian)
                .join(m.Guardianship, m.Guardianship.guardian_id == m.Guardian.id)
                .where(m.Guardianship.student_id == student.id, m.Guardianship.ended_on.is_(None))
                .order_by(m.Guardian.id)
            )
        ).scalars()
        for guardian in guardians:
            people.append(
                (
                    PersonId(PersonKind.GUARDIAN, guardian.id),
                    school,
                    f"{guardian.last_name} {guardian.first_name}",
                    f"{label_text}, {full}",
                )
            )
    # A guardian of two children in one class gets one code, not two.
    seen: set[PersonId] = set()
    unique = []
    for entry in people:
        if entry[0] not in seen:
            seen.add(entry[0])
            unique.append(entry)
    return unique


async def cancel_unused_codes(session: AsyncSession, person: PersonId, now: datetime) -> None:
    column = getattr(m.ActivationCode, f"{person.kind.value}_id")
    await session.execute(
        update(m.ActivationCode)
        .where(
            column == person.id,
            m.ActivationCode.used_at.is_(None),
            m.ActivationCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


@dataclass(frozen=True, slots=True)
class ClassOf:
    """Every student of a class and every guardian of them; the school when labels repeat."""

    label: str
    school_id: int | None = None


@dataclass(frozen=True, slots=True)
class StaffOf:
    """Every current staff member of a school."""

    school_id: int


# Whom codes are issued to: one person, a class with its guardians, or a school's staff.
Recipients = PersonId | ClassOf | StaffOf


async def _people(session: AsyncSession, who: Recipients) -> list[tuple[PersonId, int, str, str]]:
    """(person, school, name, detail for the slip) of everyone a code is for."""
    if isinstance(who, PersonId):
        return [(who, *await person_details(session, who))]
    if isinstance(who, ClassOf):
        return await _people_of_class(session, who.school_id, who.label)
    await check_school(session, who.school_id)
    staff = await _present_by_name(session, m.Staff, m.Staff.school_id == who.school_id)
    return [
        (PersonId(PersonKind.STAFF, s.id), who.school_id, f"{s.last_name} {s.first_name}", "")
        for s in staff
    ]


async def issue(
    session: AsyncSession,
    who: Recipients,
    *,
    secret: bytes,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
    actor: str = "cli",
    account_id: int | None = None,
) -> list[IssuedCode]:
    """A code for each of `who`, valid for `ttl`; each replaces the person's unused one, so a
    lost slip stops working. ValueError for an unknown person, school or class. The
    administrator (the command line), or in the bot a class teacher for the pupils and
    guardians of their own class (seed 004 §3.3.5), audited as `actor` from `account_id`."""
    if not timedelta(days=1) <= ttl <= timedelta(days=MAX_TTL_DAYS):
        raise ValueError(f"a code is valid from 1 to {MAX_TTL_DAYS} days")
    issued: list[IssuedCode] = []
    for person, school_id, name, detail in await _people(session, who):
        columns = person_columns(person)
        await cancel_unused_codes(session, person, now)
        code = generate_code()
        session.add(
            m.ActivationCode(
                code_hash=hash_code(secret, code),
                school_id=school_id,
                expires_at=now + ttl,
                **columns,
            )
        )
        audit.record(
            session,
            Action.CODE_ISSUED,
            actor=actor,
            account_id=account_id,
            details={"expires_at": (now + ttl).isoformat()},
            **columns,
        )
        issued.append(IssuedCode(person, school_id, name, detail, code, now + ttl))
    await session.flush()
    return issued
