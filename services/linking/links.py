"""Ending and listing links (logout, revoking a person) and the lookups the command line needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.accounts import account_update
from services.audit import Action
from services.db import models as m
from services.linking import holds
from services.linking.codes import cancel_unused_codes
from services.linking.people import (
    PersonId,
    check_person,
    person_columns,
    person_details,
)


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
    await session.execute(account_update(account_id, selected_student_id=None))
    await session.commit()
    return len(links)


async def revoke_person(
    session: AsyncSession,
    *,
    person: PersonId,
    now: datetime,
    reason: str = "revoked",
    actor: str = "cli",
    account_id: int | None = None,
) -> int:
    """End every link and every unused code of a person at once (seed 002 §4.3–4.4), and hold
    their access: phone login cannot link them again, only a new code or `access restore`.
    Commits.

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
    await cancel_unused_codes(session, person, now)
    await holds.hold(session, person, now=now, reason=reason)
    audit.record(
        session,
        Action.REVOKED,
        actor=actor,
        account_id=account_id,
        details={"links": len(links), "reason": reason},
        **person_columns(person),
    )
    await session.commit()
    return len(links)


async def restore_person(session: AsyncSession, *, person: PersonId, now: datetime) -> bool:
    """Lift the hold on a person's access (the school has checked who they are): phone login
    links them again. Whether there was a hold. Commits; audited.

    ValueError, with nothing written, when the journal has no such person.
    """
    await check_person(session, person)
    lifted = await holds.lift(session, person)
    audit.record(
        session,
        Action.RESTORED,
        actor="cli",
        at=now,
        details={"lifted": lifted},
        **person_columns(person),
    )
    await session.commit()
    return lifted


async def report_lost(session: AsyncSession, *, account_id: int, now: datetime) -> int:
    """ "I lost my phone": every person this account is linked to loses every link, on every
    account, and their unused codes, and is held until the school gives a new code. How many
    people. Commits."""
    links = await session.scalars(
        select(m.AccountLink).where(
            m.AccountLink.account_id == account_id, m.AccountLink.revoked_at.is_(None)
        )
    )
    people = {PersonId.of_link(link) for link in links}
    for person in sorted(people, key=lambda p: (p.kind.value, p.id)):
        await revoke_person(
            session,
            person=person,
            now=now,
            reason="reported lost",
            actor="bot",
            account_id=account_id,
        )
    await session.execute(account_update(account_id, selected_student_id=None))
    await session.commit()
    return len(people)


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
        result.append(
            LinkInfo(
                account_id=link.account_id,
                person=PersonId.of_link(link),
                name=str(name or ""),
                created_at=link.created_at,
                revoked_at=link.revoked_at,
                timezone=zone,
            )
        )
    return result


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
        school_id, _, _ = await person_details(session, person)
    except ValueError:
        return None
    return await school_zone(session, school_id)
