"""The phone alternative: linking by the number Telegram confirmed, where a school allows it."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import accounts, audit
from services.audit import Action
from services.db import models as m
from services.linking import holds
from services.linking.people import PersonId, PersonKind
from services.linking.redeeming import (
    LinkResult,
    Outcome,
    add_link,
    students_without_consent,
)


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
    phone: str,
    now: datetime,
) -> LinkResult:
    """Link every person of a phone-login school whose number is the one Telegram confirmed.

    The caller has checked that the contact is the sender's own. Commits.
    """
    await accounts.reactivate(session, account_id)
    forms = phone_forms(phone)
    schools = select(m.School.id).where(_phone_login_schools())
    matches: list[PersonId] = []
    if forms:
        guardians = await session.scalars(
            select(m.Guardian.id)
            .join(m.Guardianship, m.Guardianship.guardian_id == m.Guardian.id)
            .join(m.Student, m.Student.id == m.Guardianship.student_id)
            .where(
                m.Guardian.phone.in_(forms),
                m.Guardianship.ended_on.is_(None),
                m.Student.school_id.in_(schools),
            )
            .distinct()
        )
        matches += [PersonId(PersonKind.GUARDIAN, g) for g in guardians]
        people: tuple[tuple[PersonKind, type[m.Student] | type[m.Staff]], ...] = (
            (PersonKind.STUDENT, m.Student),
            (PersonKind.STAFF, m.Staff),
        )
        for kind, model in people:
            ids = await session.scalars(
                select(model.id).where(
                    model.phone.in_(forms),
                    model.school_id.in_(schools),
                    model.left_at.is_(None),
                )
            )
            matches += [PersonId(kind, i) for i in ids]
    if not matches:
        audit.record(session, Action.PHONE_FAILED, account_id=account_id)
        await session.commit()
        return LinkResult(Outcome.INVALID)
    # Revoked people stay out until the school gives a new code (seed 002 §4.3–4.4).
    on_hold = await holds.held(session, matches)
    matches = [person for person in matches if person not in on_hold]
    if not matches:
        audit.record(session, Action.PHONE_FAILED, account_id=account_id, details={"held": True})
        await session.commit()
        return LinkResult(Outcome.HELD)
    linked: PersonKind | None = None
    for person in sorted(matches, key=lambda p: (p.kind.value, p.id)):
        if person.kind is PersonKind.STUDENT and await students_without_consent(
            session, [person.id]
        ):
            continue
        await add_link(session, account_id, person, via="phone")
        linked = linked or person.kind
    if linked is None:
        audit.record(session, Action.CONSENT_MISSING, account_id=account_id)
        await session.commit()
        return LinkResult(Outcome.CONSENT_MISSING)
    await session.commit()
    return LinkResult(Outcome.LINKED, role=linked)
