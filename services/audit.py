"""The audit log: links, unlinks, failed attempts, lockouts and views of a child's data."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m


class Action(enum.StrEnum):
    LINKED = "linked"
    UNLINKED = "unlinked"
    REVOKED = "revoked"
    CODE_FAILED = "code_failed"
    CODE_LOCKED = "code_locked"
    CODE_ISSUED = "code_issued"
    CONSENT_MISSING = "consent_missing"
    PHONE_FAILED = "phone_failed"
    VIEWED = "viewed"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    account_id: int | None
    actor: str
    action: str
    student_id: int | None
    guardian_id: int | None
    staff_id: int | None
    details: dict[str, Any]


def record(
    session: AsyncSession,
    action: Action,
    *,
    account_id: int | None = None,
    actor: str = "bot",
    student_id: int | None = None,
    guardian_id: int | None = None,
    staff_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the session; it is written with the caller's commit.

    `details` holds identifiers and screen names only, never message texts or codes.
    """
    session.add(
        m.AuditEntry(
            account_id=account_id,
            actor=actor,
            action=action.value,
            student_id=student_id,
            guardian_id=guardian_id,
            staff_id=staff_id,
            details=details or {},
        )
    )


async def entries_for_person(
    session: AsyncSession, *, kind: str, person_id: int, limit: int = 200
) -> list[AuditRecord]:
    """Entries about a person (as the subject) or made by an account linked to them."""
    column = {
        "student": m.AuditEntry.student_id,
        "guardian": m.AuditEntry.guardian_id,
        "staff": m.AuditEntry.staff_id,
    }[kind]
    link_column = {
        "student": m.AccountLink.student_id,
        "guardian": m.AccountLink.guardian_id,
        "staff": m.AccountLink.staff_id,
    }[kind]
    accounts = select(m.AccountLink.account_id).where(link_column == person_id)
    rows = await session.scalars(
        select(m.AuditEntry)
        .where(or_(column == person_id, m.AuditEntry.account_id.in_(accounts)))
        .order_by(m.AuditEntry.at.desc(), m.AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        AuditRecord(
            at=row.at,
            account_id=row.account_id,
            actor=row.actor,
            action=row.action,
            student_id=row.student_id,
            guardian_id=row.guardian_id,
            staff_id=row.staff_id,
            details=row.details,
        )
        for row in rows
    ]


async def viewed(
    session: AsyncSession,
    *,
    account_id: int,
    screen: str,
    student_id: int | None = None,
    class_id: int | None = None,
) -> None:
    """Record that an account looked at a student's (or a class's) data. Commits."""
    details: dict[str, Any] = {"screen": screen}
    if class_id is not None:
        details["class_id"] = class_id
    record(session, Action.VIEWED, account_id=account_id, student_id=student_id, details=details)
    await session.commit()
