"""What journal records refer to, looked up a batch at a time: subjects, work kinds, periods,
the current revision of a mark or final grade, the ids a school's program no longer sends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Row, Select, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# Rows per round trip: well under asyncpg's 32,767 parameters for the widest row.
CHUNK = 1000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[tuple[int, Sequence[T]]]:
    """Consecutive slices of `items` with the index of their first item."""
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


async def _rows(
    session: AsyncSession,
    keys: Iterable[Any],
    query: Callable[[list[Any]], Select[*Ts]],
) -> Sequence[Row[*Ts]]:
    """`query` for the distinct keys, in order; no round trip when there are none."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    return (await session.execute(query(wanted))).all()


async def subjects(session: AsyncSession, school_id: int, names: Iterable[str]) -> dict[str, int]:
    """The school's subjects by name; a name the school lacks is added (lessons bring them)."""
    wanted = sorted(set(names))
    if wanted:
        await session.execute(
            insert(m.Subject)
            .values([{"school_id": school_id, "name": name} for name in wanted])
            .on_conflict_do_nothing(index_elements=["school_id", "name"])
        )
    return await existing_subjects(session, school_id, wanted)


async def existing_subjects(
    session: AsyncSession, school_id: int, names: Iterable[str]
) -> dict[str, int]:
    """The school's subjects by name, without adding any."""
    rows = await _rows(
        session,
        names,
        lambda wanted: select(m.Subject.name, m.Subject.id).where(
            m.Subject.school_id == school_id, m.Subject.name.in_(wanted)
        ),
    )
    return {name: subject_id for name, subject_id in rows}


async def work_kinds(session: AsyncSession, school_id: int) -> dict[str, int]:
    """Every kind of work of the school by code: a school has a dozen."""
    rows = await session.execute(
        select(m.WorkKind.code, m.WorkKind.id).where(m.WorkKind.school_id == school_id)
    )
    return {code: kind_id for code, kind_id in rows}


async def subgroup_classes(session: AsyncSession, subgroup_ids: Iterable[int]) -> dict[int, int]:
    """The class of each subgroup: a subgroup's lesson belongs to its class."""
    rows = await _rows(
        session,
        subgroup_ids,
        lambda wanted: select(m.Subgroup.id, m.Subgroup.class_id).where(m.Subgroup.id.in_(wanted)),
    )
    return {subgroup: klass for subgroup, klass in rows}


async def student_years(session: AsyncSession, student_ids: Iterable[int]) -> dict[int, int]:
    """The academic year of each student's class: final grades are for its periods."""
    rows = await _rows(
        session,
        student_ids,
        lambda wanted: (
            select(m.Student.id, m.SchoolClass.academic_year_id)
            .join(m.SchoolClass, m.SchoolClass.id == m.Student.class_id)
            .where(m.Student.id.in_(wanted))
        ),
    )
    return {student: year for student, year in rows}


async def periods(
    session: AsyncSession, year_ids: Iterable[int]
) -> dict[tuple[int, str, int], int]:
    """The periods of the years by (year, kind, number)."""
    rows = await _rows(
        session,
        year_ids,
        lambda wanted: select(
            m.Period.academic_year_id, m.Period.kind, m.Period.number, m.Period.id
        ).where(m.Period.academic_year_id.in_(wanted)),
    )
    return {(year, kind, number): period for year, kind, number, period in rows}


def _tips_sql(table: str) -> str:
    # A revision always comes after the one it replaces, so the chain's newest id is its tip.
    return f"""
        WITH RECURSIVE chain(root, id) AS (
            SELECT r.id, r.id FROM {table} r WHERE r.id = ANY(CAST(:roots AS bigint[]))
            UNION ALL
            SELECT c.root, n.id FROM chain c JOIN {table} n ON n.replaces_id = c.id
        )
        SELECT root, max(id) FROM chain GROUP BY root
    """


async def tips(session: AsyncSession, table: str, roots: Iterable[int]) -> dict[int, int]:
    """The newest revision of each chain named by its first revision (marks, final grades).

    A removal is a tip too: a mark sent again after it was removed comes back as a revision.
    """
    wanted = sorted(set(roots))
    if not wanted:
        return {}
    rows = await session.execute(text(_tips_sql(table)), {"roots": wanted})
    return {int(root): int(tip) for root, tip in rows}


async def forget(
    session: AsyncSession, school_id: int, kind: m.ExternalKind, external_ids: Iterable[str]
) -> None:
    """Drop the program's ids of rows deleted here (attendance cleared)."""
    wanted = sorted(set(external_ids))
    if wanted:
        await session.execute(
            delete(m.ExternalId).where(
                m.ExternalId.school_id == school_id,
                m.ExternalId.kind == kind.value,
                m.ExternalId.external_id.in_(wanted),
            )
        )


async def left_out(
    session: AsyncSession, school_id: int, kind: m.ExternalKind, named: Iterable[str]
) -> int:
    """How many rows of a kind the program named before and this batch does not: they stay,
    since a journal file may cover a week as well as a year."""
    rows = await session.execute(
        text(
            "SELECT count(*) FROM external_ids WHERE school_id = :school AND kind = :kind"
            " AND external_id <> ALL(CAST(:named AS text[]))"
        ),
        {"school": school_id, "kind": kind.value, "named": sorted(set(named))},
    )
    return int(rows.scalar_one())
