"""Attendance from the school's program: one row per pupil and lesson, kept in step.

An absence or lateness is a row; "present" is no row, so a record without a kind deletes the
row (a mark of absence cleared). Rows are matched by pupil and lesson, which the table keeps
unique, so an absence another program wrote is updated rather than doubled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.ingest import external, lookups
from services.ingest.lessons import Refs, resolve_refs, unique
from services.ingest.records import AttendanceRecord, Progress, Rejections, told
from services.ingest.tally import Outcome, Tally

Kind = m.ExternalKind
_FIELDS = ("kind", "reason", "is_valid", "minutes_late")
Pair = tuple[int, int]


async def _current(session: AsyncSession, pairs: set[Pair]) -> dict[Pair, dict[str, Any]]:
    """The rows of the batch's pupils and lessons, by (student, lesson)."""
    if not pairs:
        return {}
    rows = await session.execute(
        select(
            m.Attendance.id,
            m.Attendance.student_id,
            m.Attendance.lesson_id,
            *(getattr(m.Attendance, f) for f in _FIELDS),
        ).where(tuple_(m.Attendance.student_id, m.Attendance.lesson_id).in_(sorted(pairs)))
    )
    return {
        (row[1], row[2]): {"id": row[0], **dict(zip(_FIELDS, row[3:], strict=True))}
        for row in rows
    }


def _problem(r: AttendanceRecord, refs: Refs) -> tuple[str, object, str] | None:
    """The first thing wrong with an attendance record: (field, value, what was expected)."""
    if refs.of(Kind.STUDENT, r.student_ref) is None:
        return "student_ref", r.student_ref, "a student of the school's roster"
    if refs.of(Kind.LESSON, r.lesson_ref) is None:
        return "lesson_ref", r.lesson_ref, "a lesson of the journal"
    if r.minutes_late is not None and r.kind is not m.AttendanceKind.LATE:
        return "minutes_late", r.minutes_late, "no minutes unless the pupil was late"
    if r.minutes_late is not None and not 1 <= r.minutes_late <= 600:
        return "minutes_late", r.minutes_late, "minutes from 1 to 600"
    if r.author_ref is not None and refs.of(Kind.STAFF, r.author_ref) is None:
        return "author_ref", r.author_ref, "a teacher of the school's roster"
    return None


async def upsert_attendance(
    session: AsyncSession,
    school_id: int,
    records: Sequence[AttendanceRecord],
    *,
    tally: Tally,
    rejected: Rejections,
    progress: Progress | None = None,
) -> None:
    """Absences and lateness by the program's ids; a record without a kind clears the row.
    Refused records go to `rejected`. The caller's transaction; no access rule (the school's
    own program or its administrator)."""
    seen: set[str] = set()
    for start, chunk in lookups.chunks(records):
        told(progress, Kind.ATTENDANCE, start, len(records))
        batch = unique(chunk, Kind.ATTENDANCE, rejected, seen, start)
        refs = await resolve_refs(
            session,
            school_id,
            {
                Kind.STUDENT: {r.student_ref for _, r in batch},
                Kind.LESSON: {r.lesson_ref for _, r in batch},
                Kind.STAFF: {r.author_ref for _, r in batch if r.author_ref},
                Kind.ATTENDANCE: {r.external_id for _, r in batch},
            },
        )
        wanted: dict[Pair, tuple[AttendanceRecord, dict[str, Any]]] = {}
        for index, r in batch:
            problem = _problem(r, refs)
            pair = (
                refs.of(Kind.STUDENT, r.student_ref) or 0,
                refs.of(Kind.LESSON, r.lesson_ref) or 0,
            )
            if problem is None and pair in wanted:
                problem = ("lesson_ref", r.lesson_ref, "one record per pupil and lesson")
            if problem is not None:
                rejected.add(Kind.ATTENDANCE, index, *problem)
                continue
            wanted[pair] = (r, _row(r, refs))
        current = await _current(session, set(wanted))
        kept = await _write(session, school_id, wanted, current, tally)
        # An absence another program wrote gets the program's id too; re-sent ids stay put.
        known = refs.ids[Kind.ATTENDANCE]
        moved = {ext: local for ext, local in kept.items() if known.get(ext) != local}
        await external.remember(session, school_id, Kind.ATTENDANCE, moved)


def _row(r: AttendanceRecord, refs: Refs) -> dict[str, Any]:
    return {
        "student_id": refs.of(Kind.STUDENT, r.student_ref),
        "lesson_id": refs.of(Kind.LESSON, r.lesson_ref),
        "kind": None if r.kind is None else r.kind.value,
        "reason": r.reason.value,
        "is_valid": r.is_valid,
        "minutes_late": r.minutes_late,
        "author_id": refs.of(Kind.STAFF, r.author_ref),
    }


async def _write(
    session: AsyncSession,
    school_id: int,
    wanted: dict[Pair, tuple[AttendanceRecord, dict[str, Any]]],
    current: dict[Pair, dict[str, Any]],
    tally: Tally,
) -> dict[str, int]:
    """Insert, update and delete; returns the program's ids of the rows that remain."""
    fresh: dict[str, dict[str, Any]] = {}
    changed: list[dict[str, Any]] = []
    cleared: dict[str, int] = {}
    kept: dict[str, int] = {}
    for pair, (r, row) in wanted.items():
        before = current.get(pair)
        ext = r.external_id
        if before is None:
            outcome = Outcome.UNCHANGED if r.kind is None else Outcome.NEW
            tally.add(Kind.ATTENDANCE.value, ext, outcome)
            if r.kind is not None:
                fresh[ext] = row
            continue
        if r.kind is None:
            tally.add(Kind.ATTENDANCE.value, ext, Outcome.CHANGED, ("kind",))
            cleared[ext] = before["id"]
            continue
        differ = tuple(f for f in _FIELDS if before[f] != row[f])
        tally.add(
            Kind.ATTENDANCE.value, ext, Outcome.CHANGED if differ else Outcome.UNCHANGED, differ
        )
        kept[ext] = before["id"]
        if differ:
            changed.append({"id": before["id"], **{f: row[f] for f in (*_FIELDS, "author_id")}})
    if changed:
        await session.execute(update(m.Attendance), changed)
    if cleared:
        await session.execute(
            delete(m.Attendance).where(m.Attendance.id.in_(sorted(cleared.values())))
        )
        await lookups.forget(session, school_id, Kind.ATTENDANCE, cleared)
    if fresh:
        created = await session.execute(
            insert(m.Attendance).returning(m.Attendance.id, sort_by_parameter_order=True),
            list(fresh.values()),
        )
        kept.update(zip(fresh, created.scalars().all(), strict=True))
    return kept
