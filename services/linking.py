"""Activation codes and linking a Telegram account to a guardian, a student or a staff member.

Codes are issued by the journal administrator (seed 001 §3.2, seed 004 §3.3.5), are random from
`secrets`, single use, expiring, and stored only as an HMAC with a server secret. Guessing is
limited per account and across all accounts, and every attempt is audited.
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

MAX_FAILURES_PER_ACCOUNT = 5
FAILURE_WINDOW = timedelta(hours=1)
# Across all accounts: a distributed guess run slows everybody down rather than succeeding.
MAX_FAILURES_GLOBAL = 200
GLOBAL_WINDOW = timedelta(minutes=10)

_NOT_CODE = re.compile(r"[\s\-_.]")


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
            return cls(PersonKind(kind.strip().lower()), int(number))
        except ValueError:
            raise ValueError(f"{text!r}: expected guardian:ID, student:ID or staff:ID") from None


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


async def _people_of_class(
    session: AsyncSession, school_id: int | None, label: str
) -> list[tuple[PersonId, int, str, str]]:
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
        raise ValueError(f"class {grade}{letter} not found")
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


async def _person(session: AsyncSession, person: PersonId) -> tuple[int, str, str]:
    """(school id, name, detail) of a person; ValueError when there is none."""
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
    BUSY = "busy"  # the global limit: everybody waits a little
    CONSENT_MISSING = "consent_missing"


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: Outcome
    role: PersonKind | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None


async def ensure_account(
    session: AsyncSession, *, account_id: int, chat_id: int, language: str | None
) -> None:
    """Create the account row on first contact; a returning user is active again."""
    await session.execute(
        insert(m.TelegramAccount)
        .values(id=account_id, chat_id=chat_id, language=language)
        .on_conflict_do_update(
            index_elements=[m.TelegramAccount.id],
            set_={"chat_id": chat_id, "is_active": True, "blocked_at": None},
        )
    )


async def lockout_until(
    session: AsyncSession, *, account_id: int, now: datetime
) -> datetime | None:
    """When an account locked out for wrong codes may try again, or None if it may now."""
    failures = (
        (
            await session.execute(
                select(m.AuditEntry.at)
                .where(
                    m.AuditEntry.account_id == account_id,
                    m.AuditEntry.action == Action.CODE_FAILED.value,
                    m.AuditEntry.at > now - FAILURE_WINDOW,
                )
                .order_by(m.AuditEntry.at.desc())
                .limit(MAX_FAILURES_PER_ACCOUNT)
            )
        )
        .scalars()
        .all()
    )
    if len(failures) < MAX_FAILURES_PER_ACCOUNT:
        return None
    # Free again one hour after the fifth-latest failure.
    return failures[-1] + FAILURE_WINDOW


async def _globally_busy(session: AsyncSession, now: datetime) -> bool:
    count = await session.scalar(
        select(func.count())
        .select_from(m.AuditEntry)
        .where(
            m.AuditEntry.action == Action.CODE_FAILED.value,
            m.AuditEntry.at > now - GLOBAL_WINDOW,
        )
    )
    return (count or 0) >= MAX_FAILURES_GLOBAL


async def _fail(
    session: AsyncSession, *, account_id: int, now: datetime, reason: str
) -> LinkResult:
    session.add(
        m.AuditEntry(
            account_id=account_id,
            action=Action.CODE_FAILED.value,
            at=now,
            details={"reason": reason},
        )
    )
    await session.flush()
    until = await lockout_until(session, account_id=account_id, now=now)
    if until is not None:
        audit.record(
            session,
            Action.CODE_LOCKED,
            account_id=account_id,
            details={"until": until.isoformat()},
        )
        return LinkResult(Outcome.LOCKED, locked_until=until)
    recent = await session.scalar(
        select(func.count())
        .select_from(m.AuditEntry)
        .where(
            m.AuditEntry.account_id == account_id,
            m.AuditEntry.action == Action.CODE_FAILED.value,
            m.AuditEntry.at > now - FAILURE_WINDOW,
        )
    )
    left = MAX_FAILURES_PER_ACCOUNT - int(recent or 0)
    outcome = {"expired": Outcome.EXPIRED, "used": Outcome.USED}.get(reason, Outcome.INVALID)
    return LinkResult(outcome, attempts_left=left)


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

    Commits: a failed attempt is recorded even though nothing is linked.
    """
    await ensure_account(session, account_id=account_id, chat_id=chat_id, language=language)
    until = await lockout_until(session, account_id=account_id, now=now)
    if until is not None:
        await session.commit()
        return LinkResult(Outcome.LOCKED, locked_until=until)
    if await _globally_busy(session, now):
        await session.commit()
        return LinkResult(Outcome.BUSY)
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
    """
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


async def list_links(session: AsyncSession, *, include_revoked: bool = False) -> list[LinkInfo]:
    """Every account link with the person's name (administrator's view)."""
    query = (
        select(
            m.AccountLink,
            func.coalesce(
                m.Guardian.last_name + " " + m.Guardian.first_name,
                m.Student.last_name + " " + m.Student.first_name,
                m.Staff.last_name + " " + m.Staff.first_name,
            ),
        )
        .outerjoin(m.Guardian, m.Guardian.id == m.AccountLink.guardian_id)
        .outerjoin(m.Student, m.Student.id == m.AccountLink.student_id)
        .outerjoin(m.Staff, m.Staff.id == m.AccountLink.staff_id)
        .order_by(m.AccountLink.id)
    )
    if not include_revoked:
        query = query.where(m.AccountLink.revoked_at.is_(None))
    result = []
    for link, name in (await session.execute(query)).all():
        kind = PersonKind(link.role)
        person_id = link.guardian_id or link.student_id or link.staff_id or 0
        result.append(
            LinkInfo(
                account_id=link.account_id,
                person=PersonId(kind, int(person_id)),
                name=str(name or ""),
                created_at=link.created_at,
                revoked_at=link.revoked_at,
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
