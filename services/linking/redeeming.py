"""Redeeming a code: the account linked to the code's person, or the attempt counted."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import accounts, audit
from services.audit import Action
from services.db import models as m
from services.linking import holds
from services.linking.codes import hash_code, normalize_code
from services.linking.limits import budget_of
from services.linking.people import PersonId, PersonKind, person_columns


class Outcome(enum.StrEnum):
    LINKED = "linked"
    INVALID = "invalid"  # not a code, unknown, revoked
    EXPIRED = "expired"
    USED = "used"
    LOCKED = "locked"
    CONSENT_MISSING = "consent_missing"
    HELD = "held"  # the school ended the person's access: only a new code lets them in


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: Outcome
    role: PersonKind | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None
    # Locked by the stricter budget of a flood of wrong codes, not by five of its own.
    flood: bool = False


async def _fail(
    session: AsyncSession, *, account_id: int, now: datetime, reason: str
) -> LinkResult:
    audit.record(
        session, Action.CODE_FAILED, account_id=account_id, at=now, details={"reason": reason}
    )
    await session.flush()
    budget = await budget_of(session, account_id, now)
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


async def students_without_consent(session: AsyncSession, student_ids: Sequence[int]) -> bool:
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
    text: str,
    secret: bytes,
    now: datetime,
) -> LinkResult:
    """Link the account to the code's person, if the code is good and the account not locked.

    Only the account's own failures lock it (under a flood of wrong codes, sooner): a right
    code from an account that is not locked always links. Commits: a failed attempt is
    recorded even though nothing is linked.
    """
    await accounts.reactivate(session, account_id)
    budget = await budget_of(session, account_id, now)
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
                        m.Guardianship.guardian_id == code.guardian_id,
                        m.Guardianship.ended_on.is_(None),
                    )
                )
            ).scalars()
        )
    else:
        assert code.staff_id is not None
        person = PersonId(PersonKind.STAFF, code.staff_id)
        children = []
    # Seed 003 §1.5: a child is in the system only with a parent's written consent.
    if person.kind is PersonKind.STUDENT and await students_without_consent(session, children):
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
    # A new code is the school's word that the person may come back (seed 002 §4.4).
    await holds.lift(session, person)
    await add_link(session, account_id, person, via="code")
    await session.flush()
    return LinkResult(Outcome.LINKED, role=person.kind)


async def add_link(session: AsyncSession, account_id: int, person: PersonId, *, via: str) -> None:
    """Link the account to the person unless it already is; audited either way."""
    columns = person_columns(person)
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
