"""Activation codes and linking a Telegram account to a guardian, a student or a staff member.

Codes are issued by the journal administrator (seed 001 §3.2, seed 004 §3.3.5), are random from
`secrets`, single use, expiring, and stored only as an HMAC with a server secret. Guessing is
limited per account; a flood of wrong codes from many accounts tightens the budget of accounts
linked to nobody, and never refuses a right code to an account that is not itself locked. Every
attempt is audited.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.audit import Action
from services.db import models as m

# No 0/O and no 1/I/L: a code is read off paper and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # 31**10 ≈ 2**49.5: far above the 40 bits asked for
GROUP = 5
DEFAULT_TTL = timedelta(days=14)
# The longest a slip may stay valid: a term's start with time to hand slips out, no longer.
MAX_TTL_DAYS = 90

MAX_FAILURES_PER_ACCOUNT = 5
FAILURE_WINDOW = timedelta(hours=1)
# A flood: this many wrong codes from all accounts within GLOBAL_WINDOW (1,200 an hour). While
# it lasts, an account linked to nobody (the kind a guess run is made of) may get only
# MAX_FAILURES_IN_FLOOD wrong codes an hour, one typo and its correction. A right code is looked
# up before any of this matters, so other people's failures never refuse it.
FLOOD_FAILURES = 200
GLOBAL_WINDOW = timedelta(minutes=10)
MAX_FAILURES_IN_FLOOD = 2

_NOT_CODE = re.compile(r"[\s\-_.]")
_MAX_ID = 2**63 - 1  # ids are bigint


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
    def parse(cls, text: str) -> PersonId:
        """`guardian:12`, `student:34` or `staff:5`."""
        kind, _, number = text.partition(":")
        try:
            person = cls(PersonKind(kind.strip().lower()), int(number))
        except ValueError:
            raise ValueError(f"{text!r}: expected guardian:ID, student:ID or staff:ID") from None
        if not 0 < person.id <= _MAX_ID:
            raise ValueError(f"{text!r}: an id is a number from 1 to {_MAX_ID}")
        return person


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


# --- issuing -----------------------------------------------------------------------------


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


async def check_school(session: AsyncSession, school_id: int | None) -> None:
    """ValueError when a school id is given and there is no such school."""
    if school_id is None:
        return
    if not 0 < school_id <= _MAX_ID or await session.get(m.School, school_id) is None:
        raise ValueError(f"no school {school_id}")


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
    students = (
        await session.execute(
            select(m.Student)
            .where(m.Student.class_id == class_id, m.Student.left_at.is_(None))
            .order_by(m.Student.last_name, m.Student.first_name, m.Student.id)
        )
    ).scalars()
    label_text = f"{grade}{letter}"
    for student in students:
        full = f"{student.last_name} {student.first_name}"
        people.append((PersonId(PersonKind.STUDENT, student.id), school, full, label_text))
        guardians = (
            await session.execute(
                select(m.Guardian)
                .join(m.Guardianship, m.Guardianship.guardian_id == m.Guardian.id)
                .where(m.Guardianship.student_id == student.id)
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
    if not 0 < person.id <= _MAX_ID or await session.get(_MODELS[person.kind], person.id) is None:
        raise ValueError(f"{person}: no such {_NOUNS[person.kind]}")


async def _person(session: AsyncSession, person: PersonId) -> tuple[int, str, str]:
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


def _person_columns(person: PersonId) -> PersonColumns:
    return {
        "guardian_id": person.id if person.kind is PersonKind.GUARDIAN else None,
        "student_id": person.id if person.kind is PersonKind.STUDENT else None,
        "staff_id": person.id if person.kind is PersonKind.STAFF else None,
    }


async def _cancel_unused_codes(session: AsyncSession, person: PersonId, now: datetime) -> None:
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


async def _issue(
    session: AsyncSession,
    people: Sequence[tuple[PersonId, int, str, str]],
    *,
    secret: bytes,
    now: datetime,
    ttl: timedelta,
) -> list[IssuedCode]:
    if not timedelta(days=1) <= ttl <= timedelta(days=MAX_TTL_DAYS):
        raise ValueError(f"a code is valid from 1 to {MAX_TTL_DAYS} days")
    issued: list[IssuedCode] = []
    for person, school_id, name, detail in people:
        columns = _person_columns(person)
        # A new slip replaces any earlier unused one, so a lost slip stops working.
        await _cancel_unused_codes(session, person, now)
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
            actor="cli",
            details={"expires_at": (now + ttl).isoformat()},
            **columns,
        )
        issued.append(IssuedCode(person, school_id, name, detail, code, now + ttl))
    await session.flush()
    return issued


async def issue_for_class(
    session: AsyncSession,
    *,
    label: str,
    secret: bytes,
    now: datetime,
    school_id: int | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> list[IssuedCode]:
    """Codes for every student of a class and every guardian of them (administrator only)."""
    people = await _people_of_class(session, school_id, label)
    return await _issue(session, people, secret=secret, now=now, ttl=ttl)


async def issue_for_person(
    session: AsyncSession,
    *,
    person: PersonId,
    secret: bytes,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> list[IssuedCode]:
    school_id, name, detail = await _person(session, person)
    return await _issue(
        session, [(person, school_id, name, detail)], secret=secret, now=now, ttl=ttl
    )


async def issue_for_staff(
    session: AsyncSession,
    *,
    school_id: int,
    secret: bytes,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> list[IssuedCode]:
    """Codes for every current staff member of a school."""
    await check_school(session, school_id)
    staff = (
        await session.execute(
            select(m.Staff)
            .where(m.Staff.school_id == school_id, m.Staff.left_at.is_(None))
            .order_by(m.Staff.last_name, m.Staff.first_name, m.Staff.id)
        )
    ).scalars()
    people = [
        (PersonId(PersonKind.STAFF, s.id), school_id, f"{s.last_name} {s.first_name}", "")
        for s in staff
    ]
    return await _issue(session, people, secret=secret, now=now, ttl=ttl)


# --- redeeming ---------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    LINKED = "linked"
    INVALID = "invalid"  # not a code, unknown, revoked
    EXPIRED = "expired"
    USED = "used"
    LOCKED = "locked"
    CONSENT_MISSING = "consent_missing"


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: Outcome
    role: PersonKind | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None
    # Locked by the stricter budget of a flood of wrong codes, not by five of its own.
    flood: bool = False


async def ensure_account(
    session: AsyncSession, *, account_id: int, chat_id: int, language: str | None
) -> None:
    """Create the account row on first contact; a returning user is active again.

    The upsert locks the account's row until the commit, so one account's attempts run one
    after another and cannot slip past its limit side by side.
    """
    await session.execute(
        insert(m.TelegramAccount)
        .values(id=account_id, chat_id=chat_id, language=language)
        .on_conflict_do_update(
            index_elements=[m.TelegramAccount.id],
            set_={"chat_id": chat_id, "is_active": True, "blocked_at": None},
        )
    )


@dataclass(frozen=True, slots=True)
class _Budget:
    failures: Sequence[datetime]  # the account's recent failures, newest first
    allowed: int

    @property
    def flood(self) -> bool:
        """Locked (or nearly) by a flood's budget, where its own would not have been."""
        strict = self.allowed < MAX_FAILURES_PER_ACCOUNT
        return strict and len(self.failures) < MAX_FAILURES_PER_ACCOUNT

    @property
    def locked_until(self) -> datetime | None:
        if len(self.failures) < self.allowed:
            return None
        # Free again one window after the failure that used up the budget.
        return self.failures[self.allowed - 1] + FAILURE_WINDOW

    @property
    def left(self) -> int:
        return max(self.allowed - len(self.failures), 0)


async def _recent_failures(
    session: AsyncSession, account_id: int, now: datetime
) -> Sequence[datetime]:
    return (
        (
            await session.execute(
                select(m.AuditEntry.at)
                .where(
                    m.AuditEntry.account_id == account_id,
                    m.AuditEntry.action == Action.CODE_FAILED.value,
                    m.AuditEntry.at > now - FAILURE_WINDOW,
                    m.AuditEntry.at <= now,
                )
                .order_by(m.AuditEntry.at.desc())
                .limit(MAX_FAILURES_PER_ACCOUNT)
            )
        )
        .scalars()
        .all()
    )


async def flood(session: AsyncSession, *, now: datetime) -> bool:
    """Whether wrong codes from all accounts together are coming at a guess run's pace."""
    recent = (
        select(m.AuditEntry.id)
        .where(
            m.AuditEntry.action == Action.CODE_FAILED.value,
            m.AuditEntry.at > now - GLOBAL_WINDOW,
            m.AuditEntry.at <= now,
        )
        .limit(FLOOD_FAILURES)  # counting stops at the threshold, however big the flood
        .subquery()
    )
    count = await session.scalar(select(func.count()).select_from(recent))
    return int(count or 0) >= FLOOD_FAILURES


async def _is_linked(session: AsyncSession, account_id: int) -> bool:
    found = await session.scalar(
        select(m.AccountLink.id)
        .where(m.AccountLink.account_id == account_id, m.AccountLink.revoked_at.is_(None))
        .limit(1)
    )
    return found is not None


async def _budget(session: AsyncSession, account_id: int, now: datetime) -> _Budget:
    failures = await _recent_failures(session, account_id, now)
    # An account without failures is never locked: its code is looked up at once.
    if failures and await flood(session, now=now) and not await _is_linked(session, account_id):
        # The stricter budget counts only the failures made during the flood: a parent who
        # mistyped a code before it began keeps the tries they were told they had.
        before = sum(1 for at in failures if at <= now - GLOBAL_WINDOW)
        allowed = min(MAX_FAILURES_PER_ACCOUNT, before + MAX_FAILURES_IN_FLOOD)
        return _Budget(failures, allowed)
    return _Budget(failures, MAX_FAILURES_PER_ACCOUNT)


async def _fail(
    session: AsyncSession, *, account_id: int, now: datetime, reason: str
) -> LinkResult:
    audit.record(
        session, Action.CODE_FAILED, account_id=account_id, at=now, details={"reason": reason}
    )
    await session.flush()
    budget = await _budget(session, account_id, now)
    until = budget.locked_until
    if until is not None:
        audit.record(
            session,
            Action.CODE_LOCKED,
            account_id=account_id,
            at=now,
            details={"until": until.isoformat(), "flood": budget.flood},
        )
        return LinkResult(Outcome.LOCKED, locked_until=until, flood=budget.flood)
    outcome = {"expired": Outcome.EXPIRED, "used": Outcome.USED}.get(reason, Outcome.INVALID)
    return LinkResult(outcome, attempts_left=budget.left)


async def _students_without_consent(session: AsyncSession, student_ids: Sequence[int]) -> bool:
    if not student_ids:
        return False
    with_consent = await session.scalar(
        select(func.count(func.distinct(m.Consent.student_id))).where(
            m.Consent.student_id.in_(student_ids), m.Consent.revoked_at.is_(None)
        )
    )
    return int(with_consent or 0) < len(set(student_ids))


async def redeem(
    session: AsyncSession,
    *,
    account_id: int,
    chat_id: int,
    text: str,
    secret: bytes,
    now: datetime,
    language: str | None = None,
) -> LinkResult:
    """Link the account to the code's person, if the code is good and the account not locked.

    Only the account's own failures lock it (under a flood of wrong codes, sooner): a right
    code from an account that is not locked always links. Commits: a failed attempt is
    recorded even though nothing is linked.
    """
    await ensure_account(session, account_id=account_id, chat_id=chat_id, language=language)
    budget = await _budget(session, account_id, now)
    if budget.locked_until is not None:
        await session.commit()
        return LinkResult(Outcome.LOCKED, locked_until=budget.locked_until, flood=budget.flood)
    code = normalize_code(text)
    row = None
    if code is not None:
        row = (
            await session.execute(
                select(m.ActivationCode)
                .where(m.ActivationCode.code_hash == hash_code(secret, code))
                .with_for_update()
            )
        ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        result = await _fail(session, account_id=account_id, now=now, reason="invalid")
    elif row.used_at is not None:
        result = await _fail(session, account_id=account_id, now=now, reason="used")
    elif row.expires_at <= now:
        result = await _fail(session, account_id=account_id, now=now, reason="expired")
    else:
        result = await _link(session, row, account_id=account_id, now=now)
    await session.commit()
    return result


async def _link(
    session: AsyncSession, code: m.ActivationCode, *, account_id: int, now: datetime
) -> LinkResult:
    if code.student_id is not None:
        person = PersonId(PersonKind.STUDENT, code.student_id)
        children = [code.student_id]
    elif code.guardian_id is not None:
        person = PersonId(PersonKind.GUARDIAN, code.guardian_id)
        children = list(
            (
                await session.execute(
                    select(m.Guardianship.student_id).where(
                        m.Guardianship.guardian_id == code.guardian_id
                    )
                )
            ).scalars()
        )
    else:
        assert code.staff_id is not None
        person = PersonId(PersonKind.STAFF, code.staff_id)
        children = []
    # Seed 003 §1.5: a child is in the system only with a parent's written consent.
    if person.kind is PersonKind.STUDENT and await _students_without_consent(session, children):
        audit.record(
            session, Action.CONSENT_MISSING, account_id=account_id, student_id=code.student_id
        )
        return LinkResult(Outcome.CONSENT_MISSING, role=person.kind)
    if person.kind is PersonKind.GUARDIAN and not await _any_consent(session, children):
        audit.record(
            session, Action.CONSENT_MISSING, account_id=account_id, guardian_id=code.guardian_id
        )
        return LinkResult(Outcome.CONSENT_MISSING, role=person.kind)
    code.used_at = now
    code.used_by = account_id
    await _add_link(session, account_id, person, via="code")
    await session.flush()
    return LinkResult(Outcome.LINKED, role=person.kind)


async def _add_link(session: AsyncSession, account_id: int, person: PersonId, *, via: str) -> None:
    """Link the account to the person unless it already is; audited either way."""
    columns = _person_columns(person)
    already = await session.scalar(
        select(m.AccountLink.id).where(
            m.AccountLink.account_id == account_id,
            m.AccountLink.revoked_at.is_(None),
            getattr(m.AccountLink, f"{person.kind.value}_id") == person.id,
        )
    )
    if already is None:
        session.add(m.AccountLink(account_id=account_id, role=person.kind.value, **columns))
    audit.record(session, Action.LINKED, account_id=account_id, details={"via": via}, **columns)


async def _any_consent(session: AsyncSession, student_ids: Sequence[int]) -> bool:
    if not student_ids:
        return False
    found = await session.scalar(
        select(func.count())
        .select_from(m.Consent)
        .where(m.Consent.student_id.in_(student_ids), m.Consent.revoked_at.is_(None))
    )
    return bool(found)


# --- unlinking and revoking --------------------------------------------------------------


async def logout(session: AsyncSession, *, account_id: int, now: datetime) -> int:
    """Unlink this account from everybody; returns how many links ended. Commits."""
    links = (
        (
            await session.execute(
                select(m.AccountLink).where(
                    m.AccountLink.account_id == account_id, m.AccountLink.revoked_at.is_(None)
                )
            )
        )
        .scalars()
        .all()
    )
    for link in links:
        link.revoked_at = now
        link.revoked_reason = "logout"
        audit.record(
            session,
            Action.UNLINKED,
            account_id=account_id,
            guardian_id=link.guardian_id,
            student_id=link.student_id,
            staff_id=link.staff_id,
        )
    await session.execute(
        update(m.TelegramAccount)
        .where(m.TelegramAccount.id == account_id)
        .values(selected_student_id=None)
    )
    await session.commit()
    return len(links)


async def revoke_person(
    session: AsyncSession, *, person: PersonId, now: datetime, reason: str = "revoked"
) -> int:
    """End every link and every unused code of a person at once (seed 002 §4.3–4.4). Commits.

    Effective on the next update: access is checked against the links on every query.
    ValueError, with nothing written, when the journal has no such person.
    """
    await check_person(session, person)
    column = getattr(m.AccountLink, f"{person.kind.value}_id")
    links = (
        (
            await session.execute(
                select(m.AccountLink).where(
                    column == person.id, m.AccountLink.revoked_at.is_(None)
                )
            )
        )
        .scalars()
        .all()
    )
    for link in links:
        link.revoked_at = now
        link.revoked_reason = reason
    await _cancel_unused_codes(session, person, now)
    audit.record(
        session,
        Action.REVOKED,
        actor="cli",
        details={"links": len(links), "reason": reason},
        **_person_columns(person),
    )
    await session.commit()
    return len(links)


@dataclass(frozen=True, slots=True)
class LinkInfo:
    account_id: int
    person: PersonId
    name: str
    created_at: datetime
    revoked_at: datetime | None
    timezone: str | None  # of the person's school


async def list_links(session: AsyncSession, *, include_revoked: bool = False) -> list[LinkInfo]:
    """Every account link with the person's name and school's zone (administrator's view)."""
    guardians_school = (
        select(m.Student.school_id)
        .join(m.Guardianship, m.Guardianship.student_id == m.Student.id)
        .where(m.Guardianship.guardian_id == m.AccountLink.guardian_id)
        .order_by(m.Student.id)
        .limit(1)
        .scalar_subquery()
    )
    school_id = func.coalesce(m.Student.school_id, m.Staff.school_id, guardians_school)
    query = (
        select(
            m.AccountLink,
            func.coalesce(
                m.Guardian.last_name + " " + m.Guardian.first_name,
                m.Student.last_name + " " + m.Student.first_name,
                m.Staff.last_name + " " + m.Staff.first_name,
            ),
            select(m.School.timezone).where(m.School.id == school_id).scalar_subquery(),
        )
        .outerjoin(m.Guardian, m.Guardian.id == m.AccountLink.guardian_id)
        .outerjoin(m.Student, m.Student.id == m.AccountLink.student_id)
        .outerjoin(m.Staff, m.Staff.id == m.AccountLink.staff_id)
        .order_by(m.AccountLink.id)
    )
    if not include_revoked:
        query = query.where(m.AccountLink.revoked_at.is_(None))
    result = []
    for link, name, zone in (await session.execute(query)).all():
        kind = PersonKind(link.role)
        person_id = link.guardian_id or link.student_id or link.staff_id or 0
        result.append(
            LinkInfo(
                account_id=link.account_id,
                person=PersonId(kind, int(person_id)),
                name=str(name or ""),
                created_at=link.created_at,
                revoked_at=link.revoked_at,
                timezone=zone,
            )
        )
    return result


# --- the phone alternative ---------------------------------------------------------------


def phone_forms(raw: str) -> list[str]:
    """The spellings a Russian number may be stored in: +7…, 7…, 8…; [] when not a number."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] in "78":
        national = digits[1:]
    elif len(digits) == 10:
        national = digits
    else:
        return [f"+{digits}", digits] if 11 <= len(digits) <= 15 else []
    return [f"+7{national}", f"7{national}", f"8{national}", national]


def _phone_login_schools() -> ColumnElement[bool]:
    enabled: ColumnElement[bool] = m.School.overrides["phone_login"].as_boolean().is_(True)
    return enabled


async def phone_login_enabled(session: AsyncSession) -> bool:
    """Whether any school lets people link by sharing their phone number."""
    found = await session.scalar(select(m.School.id).where(_phone_login_schools()).limit(1))
    return found is not None


async def link_by_phone(
    session: AsyncSession,
    *,
    account_id: int,
    chat_id: int,
    phone: str,
    now: datetime,
    language: str | None = None,
) -> LinkResult:
    """Link every person of a phone-login school whose number is the one Telegram confirmed.

    The caller has checked that the contact is the sender's own. Commits.
    """
    await ensure_account(session, account_id=account_id, chat_id=chat_id, language=language)
    forms = phone_forms(phone)
    schools = select(m.School.id).where(_phone_login_schools())
    matches: list[PersonId] = []
    if forms:
        guardians = await session.scalars(
            select(m.Guardian.id)
            .join(m.Guardianship, m.Guardianship.guardian_id == m.Guardian.id)
            .join(m.Student, m.Student.id == m.Guardianship.student_id)
            .where(m.Guardian.phone.in_(forms), m.Student.school_id.in_(schools))
            .distinct()
        )
        matches += [PersonId(PersonKind.GUARDIAN, g) for g in guardians]
        students = await session.scalars(
            select(m.Student.id).where(
                m.Student.phone.in_(forms),
                m.Student.school_id.in_(schools),
                m.Student.left_at.is_(None),
            )
        )
        matches += [PersonId(PersonKind.STUDENT, s) for s in students]
        staff = await session.scalars(
            select(m.Staff.id).where(
                m.Staff.phone.in_(forms),
                m.Staff.school_id.in_(schools),
                m.Staff.left_at.is_(None),
            )
        )
        matches += [PersonId(PersonKind.STAFF, s) for s in staff]
    if not matches:
        audit.record(session, Action.PHONE_FAILED, account_id=account_id)
        await session.commit()
        return LinkResult(Outcome.INVALID)
    linked: PersonKind | None = None
    for person in sorted(matches, key=lambda p: (p.kind.value, p.id)):
        if person.kind is PersonKind.STUDENT and await _students_without_consent(
            session, [person.id]
        ):
            continue
        await _add_link(session, account_id, person, via="phone")
        linked = linked or person.kind
    if linked is None:
        audit.record(session, Action.CONSENT_MISSING, account_id=account_id)
        await session.commit()
        return LinkResult(Outcome.CONSENT_MISSING)
    await session.commit()
    return LinkResult(Outcome.LINKED, role=linked)


async def only_school(session: AsyncSession) -> int:
    """The school's id when the database has exactly one; ValueError otherwise."""
    ids = (await session.scalars(select(m.School.id).order_by(m.School.id).limit(2))).all()
    if len(ids) != 1:
        raise ValueError("there are several schools (or none): give --school ID")
    return ids[0]


async def school_name(session: AsyncSession, school_id: int) -> str:
    return str(await session.scalar(select(m.School.name).where(m.School.id == school_id)) or "")


async def school_zone(session: AsyncSession, school_id: int | None) -> str | None:
    """The school's time zone (IANA name), None when there is no such school."""
    if school_id is None:
        return None
    zone = await session.scalar(select(m.School.timezone).where(m.School.id == school_id))
    return str(zone) if zone else None


async def person_zone(session: AsyncSession, person: PersonId) -> str | None:
    """The time zone of the person's school; None when the journal cannot tell."""
    try:
        school_id, _, _ = await _person(session, person)
    except ValueError:
        return None
    return await school_zone(session, school_id)
