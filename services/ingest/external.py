"""The journal program's own ids of our rows: looked up, remembered, listed per kind.

Every ingest path (the file import and the API) names rows by these ids, so that sending the
same row again updates it instead of adding another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.db import models as m

Kind = m.ExternalKind


E = m.ExternalId
K = TypeVar("K", str, int)
V = TypeVar("V", str, int)


async def _pairs(
    session: AsyncSession,
    school_id: int,
    kind: Kind,
    *,
    key: InstrumentedAttribute[K],
    value: InstrumentedAttribute[V],
    keys: Iterable[K] | None,
) -> dict[K, V]:
    """The school's ids of a kind, one side by the other: for `keys` only, unless None."""
    query = select(key, value).where(E.school_id == school_id, E.kind == kind.value)
    if keys is not None:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        query = query.where(key.in_(wanted))
    rows = await session.execute(query)
    return {k: v for k, v in rows}


async def resolve(
    session: AsyncSession, school_id: int, kind: Kind, external_ids: Iterable[str]
) -> dict[str, int]:
    """Our ids of the rows the journal program names; unknown ids are left out."""
    return await _pairs(
        session, school_id, kind, key=E.external_id, value=E.local_id, keys=external_ids
    )


async def all_of(session: AsyncSession, school_id: int, kind: Kind) -> dict[str, int]:
    """Every row of a kind the school's program has named: for what an import no longer lists."""
    return await _pairs(session, school_id, kind, key=E.external_id, value=E.local_id, keys=None)


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
    return await _pairs(
        session, school_id, kind, key=E.local_id, value=E.external_id, keys=local_ids
    )
