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
from services.ingest.batch import LESSON, PUPIL_REFS, STUDENT, TEACHER, Load, Refs
from services.ingest.records import AttendanceRecord
from services.ingest.tally import Outcome

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
        return "student_ref", r.student_ref, STUDENT
    if refs.of(Kind.LESSON, r.lesson_ref) is None:
        return "lesson_ref", r.lesson_ref, LESSON
    if r.minutes_late is not None and r.kind is not m.AttendanceKind.LATE:
        return "minutes_late", r.minutes_late, "no minutes unless the pupil was late"
    if r.minutes_late is not None and not 1 <= r.minutes_late <= 600:
        return "minutes_late", r.minutes_late, "minutes from 1 to 600"
    if r.author_ref is not None and refs.of(Kind.STAFF, r.author_ref) is None:
        return "author_ref", r.author_ref, TEACHER
    return None


async def upsert_attendance(load: Load, records: Sequence[AttendanceRecord]) -> None:
    """Absences and lateness by the program's ids; a record without a kind clears the row.
    Refused records go to `rejected`. The caller's transaction; no access rule (the school's
    own program or its administrator)."""
    for batch in load.batches(Kind.ATTENDANCE, records):
        refs = await load.refs(batch, {**PUPIL_REFS, Kind.ATTENDANCE: ("external_id",)})
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
                load.rejected.add(Kind.ATTENDANCE, index, *problem)
                continue
            wanted[pair] = (r, _row(r, refs))
        current = await _current(load.session, set(wanted))
        kept = await _write(load, wanted, current)
        # An absence another program wrote gets the program's id too; re-sent ids stay put.
        known = refs.ids[Kind.ATTENDANCE]
        moved = {ext: local for ext, local in kept.items() if known.get(ext) != local}
        await external.remember(load.session, load.school_id, Kind.ATTENDANCE, moved)


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
    load: Load,
    wanted: dict[Pair, tuple[AttendanceRecord, dict[str, Any]]],
    current: dict[Pair, dict[str, Any]],
) -> dict[str, int]:
    """Insert, update and delete; returns the program's ids of the rows that remain."""
    session, tally = load.session, load.tally
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
        await lookups.forget(session, load.school_id, Kind.ATTENDANCE, cleared)
    if fresh:
        created = await session.execute(
            insert(m.Attendance).returning(m.Attendance.id, sort_by_parameter_order=True),
            list(fresh.values()),
        )
        kept.update(zip(fresh, created.scalars().all(), strict=True))
    return kept
