"""Access holds (seed 002 §4.3–4.4): once the school revokes a person's access, or the person
reports a lost phone, every way in but a new code from the school stays shut.

A hold is lifted by redeeming a code the school issued after it, or by
`journalbot access restore`. Phone login never lifts one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.linking.people import PersonId, PersonKind


async def hold(session: AsyncSession, person: PersonId, *, now: datetime, reason: str) -> None:
    """Shut phone login for the person until the school lets them in again. Does not commit."""
    statement = insert(m.AccessHold).values(
        kind=person.kind.value, person_id=person.id, reason=reason[:64], since=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind", "person_id"],
            set_={"reason": statement.excluded.reason, "since": statement.excluded.since},
        )
    )


async def lift(session: AsyncSession, person: PersonId) -> bool:
    """Let the person in again; whether there was a hold. Does not commit."""
    result = await session.execute(
        delete(m.AccessHold).where(
            m.AccessHold.kind == person.kind.value, m.AccessHold.person_id == person.id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def held(session: AsyncSession, people: Iterable[PersonId]) -> set[PersonId]:
    """Those of `people` whose access is on hold."""
    wanted = {(p.kind.value, p.id) for p in people}
    if not wanted:
        return set()
    rows = await session.execute(
        select(m.AccessHold.kind, m.AccessHold.person_id).where(
            tuple_(m.AccessHold.kind, m.AccessHold.person_id).in_(sorted(wanted))
        )
    )
    return {PersonId(PersonKind(kind), person_id) for kind, person_id in rows}
