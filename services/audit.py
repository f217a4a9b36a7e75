"""The audit log: links, unlinks, failed attempts, lockouts, refused buttons and views."""

from __future__ import annotations

import enum
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m

log = logging.getLogger(__name__)

# Refused button presses written to the log: per account and in all, within DENIED_WINDOW.
# Beyond either cap a press is only counted in the process's log, so a flood of forged
# buttons cannot fill the table (at most 2,000 rows an hour, whatever the number of accounts).
DENIED_PER_ACCOUNT = 20
DENIED_GLOBAL = 2000
DENIED_WINDOW = timedelta(hours=1)
_BIGINT = 2**63 - 1


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
    # The school let a revoked person in again (`journalbot access restore`).
    RESTORED = "restored"
    # A roster or journal file imported: its name, SHA-256 and counts, never its rows.
    IMPORTED = "imported"
    API_TOKEN_ISSUED = "api_token_issued"
    API_TOKEN_REVOKED = "api_token_revoked"
    # A family's or a teacher's message relayed in a thread (services/contact.py): its ids and
    # kind, never its text; and an illness note the class teacher confirmed as absences.
    CONTACT_SENT = "contact_sent"
    ABSENCE_CONFIRMED = "absence_confirmed"


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
    at: datetime | None = None,
) -> None:
    """Add an entry to the session; it is written with the caller's commit.

    `details` holds identifiers and screen names only, never message texts or codes. `at`
    defaults to the database's clock; pass the caller's `now` where limits count entries.
    """
    entry = m.AuditEntry(
        account_id=account_id,
        actor=actor,
        action=action.value,
        student_id=student_id,
        guardian_id=guardian_id,
        staff_id=staff_id,
        details=details or {},
    )
    if at is not None:
        entry.at = at
    session.add(entry)


async def _count_denied(
    session: AsyncSession, *, now: datetime, cap: int, account_id: int | None = None
) -> int:
    query = select(m.AuditEntry.id).where(
        m.AuditEntry.action == Action.DENIED.value,
        m.AuditEntry.at > now - DENIED_WINDOW,
        m.AuditEntry.at <= now,
    )
    if account_id is not None:
        query = query.where(m.AuditEntry.account_id == account_id)
    # Counting stops at the cap: the flood it guards against must not make it slow.
    count = await session.scalar(select(func.count()).select_from(query.limit(cap).subquery()))
    return int(count or 0)


_dropped = itertools.count(1)


def _count_dropped() -> None:
    """Count presses beyond the caps in the log: the first, then every thousandth, no ids."""
    dropped = next(_dropped)
    if dropped == 1 or dropped % 1000 == 0:
        log.warning("refused button presses beyond the audit log's hourly cap: %d", dropped)


async def denied(
    session: AsyncSession,
    *,
    account_id: int,
    button: str,
    now: datetime,
    student_id: int | None = None,
) -> bool:
    """Record a refused button press (a forged or stale id), within the caps. Commits.

    `button` is the callback data's prefix (which screen), never the whole data. Returns
    whether a row was written.
    """
    if await _count_denied(
        session, now=now, cap=DENIED_PER_ACCOUNT, account_id=account_id
    ) >= DENIED_PER_ACCOUNT or (
        await _count_denied(session, now=now, cap=DENIED_GLOBAL) >= DENIED_GLOBAL
    ):
        _count_dropped()
        return False
    details: dict[str, Any] = {"button": button[:16]}
    in_range = student_id is not None and 0 < student_id <= _BIGINT
    record(
        session,
        Action.DENIED,
        account_id=account_id,
        student_id=student_id if in_range else None,
        details=details,
        at=now,
    )
    await session.commit()
    return True


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
