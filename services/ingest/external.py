"""The journal program's own ids of our rows: looked up, remembered, listed per kind.

Every ingest path (the file import and the API) names rows by these ids, so that sending the
same row again updates it instead of adding another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m

Kind = m.ExternalKind


async def resolve(
    session: AsyncSession, school_id: int, kind: Kind, external_ids: Iterable[str]
) -> dict[str, int]:
    """Our ids of the rows the journal program names; unknown ids are left out."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(m.ExternalId.external_id, m.ExternalId.local_id).where(
            m.ExternalId.school_id == school_id,
            m.ExternalId.kind == kind.value,
            m.ExternalId.external_id.in_(wanted),
        )
    )
    return {external: local for external, local in rows}


async def all_of(session: AsyncSession, school_id: int, kind: Kind) -> dict[str, int]:
    """Every row of a kind the school's program has named: for what an import no longer lists."""
    rows = await session.execute(
        select(m.ExternalId.external_id, m.ExternalId.local_id).where(
            m.ExternalId.school_id == school_id, m.ExternalId.kind == kind.value
        )
    )
    return {external: local for external, local in rows}


async def remember(
    session: AsyncSession, school_id: int, kind: Kind, pairs: Mapping[str, int]
) -> None:
    """Record (or move) the journal program's ids of new rows. Does not commit."""
    if not pairs:
        return
    statement = insert(m.ExternalId).values(
        [
            {"school_id": school_id, "kind": kind.value, "external_id": e, "local_id": local}
            for e, local in pairs.items()
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["school_id", "kind", "external_id"],
            set_={"local_id": statement.excluded.local_id},
        )
    )


async def names_of(
    session: AsyncSession, school_id: int, kind: Kind, local_ids: Iterable[int]
) -> dict[int, str]:
    """The journal program's ids of our rows, for reports and `people find`."""
    wanted = sorted(set(local_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(m.ExternalId.local_id, m.ExternalId.external_id).where(
            m.ExternalId.school_id == school_id,
            m.ExternalId.kind == kind.value,
            m.ExternalId.local_id.in_(wanted),
        )
    )
    return {local: external for local, external in rows}
