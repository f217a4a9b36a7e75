"""Marks and final grades from the school's program: append-only chains of revisions.

A mark is never altered in place (seed 003 §8.6): a changed mark is a new revision replacing
the current one, with the file's reason or "import"; a removal is a revision without a value.
The program's id names the chain's first revision; the current one is the chain's newest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from services.db import models as m
from services.ingest import external, lookups
from services.ingest.batch import (
    LESSON,
    PUPIL_REFS,
    STUDENT,
    TEACHER,
    Load,
    Problem,
    Refs,
    first_problem,
)
from services.ingest.records import FinalGradeRecord, MarkRecord
from services.ingest.tally import Outcome

Kind = m.ExternalKind
DEFAULT_REASON = "import"
_SCALE = frozenset(v.value for v in m.MarkValue)
_EXPECTED_VALUE = "a mark of the scale: " + ", ".join(v.value for v in m.MarkValue)
_MARK_FIELDS = ("student_id", "lesson_id", "value", "work_kind_id", "weight", "comment")
_FINAL_FIELDS = ("student_id", "subject_id", "period_id", "value")


@dataclass(frozen=True, slots=True)
class Revision:
    """A record ready to write: its index, its row, the fields that say "the same record"."""

    index: int
    row: dict[str, Any]
    reason: str | None
    # The row's fields that must not change, with the record's field and value they came from.
    identity: Mapping[str, tuple[str, object]]


async def _write_revisions(
    load: Load,
    kind: Kind,
    *,
    model: type[Any],
    fields: Sequence[str],
    wanted: Mapping[str, Revision],
) -> None:
    """New chains for new ids; a revision where the current value differs; nothing otherwise."""
    session, tally = load.session, load.tally
    roots = await external.resolve(session, load.school_id, kind, wanted)
    tips = await lookups.tips(session, model.__tablename__, roots.values())
    current: dict[int, dict[str, Any]] = {}
    if tips:
        found = await session.execute(
            select(model.id, *(getattr(model, f) for f in fields)).where(
                model.id.in_(sorted(tips.values()))
            )
        )
        current = {row[0]: dict(zip(fields, row[1:], strict=True)) for row in found}
    fresh: dict[str, dict[str, Any]] = {}
    revised: list[dict[str, Any]] = []
    for ext, wish in wanted.items():
        tip_id = tips.get(roots.get(ext, 0), 0)
        tip = current.get(tip_id)
        if tip is None:
            if wish.row["value"] is None:
                tally.add(kind.value, ext, Outcome.UNCHANGED)  # nothing here to remove
            else:
                tally.add(kind.value, ext, Outcome.NEW)
                fresh[ext] = wish.row
            continue
        moved = next((f for f in wish.identity if tip[f] != wish.row[f]), None)
        differ = tuple(f for f in fields if tip[f] != wish.row[f])
        if moved is not None:
            name, value = wish.identity[moved]
            load.rejected.add(
                kind, wish.index, name, value, "the same as when the record was first sent"
            )
        elif (wish.row["value"] is None and tip["value"] is None) or not differ:
            tally.add(kind.value, ext, Outcome.UNCHANGED)
        else:
            tally.add(kind.value, ext, Outcome.CHANGED, differ)
            reason = wish.reason or DEFAULT_REASON
            revised.append({**wish.row, "replaces_id": tip_id, "reason": reason})
    rows = [*fresh.values(), *revised]
    if rows:
        # One shape for every row, so that the whole batch is one executemany.
        for row in rows:
            row.setdefault("replaces_id", None)
            row.setdefault("reason", None)
        created = await session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), rows
        )
        ids = created.scalars().all()
        pairs = dict(zip(fresh, ids, strict=False))
        await external.remember(session, load.school_id, kind, pairs)


def _value_ok(value: str | None) -> bool:
    return value is None or value in _SCALE


async def upsert_marks(load: Load, records: Sequence[MarkRecord]) -> None:
    """Marks by the program's ids: new, corrected (reason from the record, else "import") or
    removed (value None). Refused records go to `rejected`. The caller's transaction; no access
    rule (the school's own program or its administrator)."""
    for batch in load.batches(Kind.MARK, records):
        refs = await load.refs(batch, PUPIL_REFS)
        wanted: dict[str, Revision] = {}
        for index, r in batch:
            problem = _mark_problem(r, refs)
            if problem is not None:
                load.rejected.add(Kind.MARK, index, *problem)
                continue
            row = {
                "student_id": refs.of(Kind.STUDENT, r.student_ref),
                "lesson_id": refs.of(Kind.LESSON, r.lesson_ref),
                "value": r.value,
                "work_kind_id": None if r.work_kind is None else refs.work_kinds[r.work_kind],
                "weight": r.weight,
                "comment": r.comment,
                "author_id": refs.of(Kind.STAFF, r.author_ref),
            }
            identity = {
                "student_id": ("student_ref", r.student_ref),
                "lesson_id": ("lesson_ref", r.lesson_ref),
            }
            wanted[r.external_id] = Revision(index, row, r.reason, identity)
        await _write_revisions(load, Kind.MARK, model=m.Mark, fields=_MARK_FIELDS, wanted=wanted)


def _mark_problem(r: MarkRecord, refs: Refs) -> Problem | None:
    """The first thing wrong with a mark: (field, value, what was expected)."""
    kinds = refs.work_kinds
    return first_problem(
        (
            (not _value_ok(r.value), "value", r.value, _EXPECTED_VALUE),
            refs.check(Kind.STUDENT, "student_ref", r.student_ref, STUDENT),
            refs.check(Kind.LESSON, "lesson_ref", r.lesson_ref, LESSON),
            (
                r.work_kind is not None and r.work_kind not in kinds,
                "work_kind",
                r.work_kind,
                "one of " + ", ".join(sorted(kinds)),
            ),
            (r.weight is not None and r.weight <= 0, "weight", r.weight, "a positive weight"),
            refs.check(Kind.STAFF, "author_ref", r.author_ref, TEACHER),
        )
    )


async def upsert_final_grades(load: Load, records: Sequence[FinalGradeRecord]) -> None:
    """Final grades by the program's ids, for a period of the student's class's year; revised
    like marks. The subject must exist already (a misspelt name is an error, not a subject)."""
    session = load.session
    for batch in load.batches(Kind.FINAL_GRADE, records):
        refs = await load.refs(
            batch, {Kind.STUDENT: ("student_ref",), Kind.STAFF: ("author_ref",)}
        )
        names = {r.subject for _, r in batch}
        subjects = await lookups.existing_subjects(session, load.school_id, names)
        years = await lookups.student_years(session, refs.ids[Kind.STUDENT].values())
        periods = await lookups.periods(session, years.values())
        wanted: dict[str, Revision] = {}
        for index, r in batch:
            student = refs.of(Kind.STUDENT, r.student_ref)
            period = periods.get(
                (years.get(student or 0, 0), r.period_kind.value, r.period_number)
            )
            problem = first_problem(
                (
                    (not _value_ok(r.value), "value", r.value, _EXPECTED_VALUE),
                    (student is None, "student_ref", r.student_ref, STUDENT),
                    (r.subject not in subjects, "subject", r.subject, "a subject of the school"),
                    (
                        student is not None and period is None,
                        "period_number",
                        r.period_number,
                        "a period of the student's year",
                    ),
                    refs.check(Kind.STAFF, "author_ref", r.author_ref, TEACHER),
                )
            )
            if problem is not None:
                load.rejected.add(Kind.FINAL_GRADE, index, *problem)
                continue
            row = {
                "student_id": student,
                "subject_id": subjects[r.subject],
                "period_id": period,
                "value": r.value,
                "author_id": refs.of(Kind.STAFF, r.author_ref),
            }
            identity = {
                "student_id": ("student_ref", r.student_ref),
                "subject_id": ("subject", r.subject),
                "period_id": ("period_number", r.period_number),
            }
            wanted[r.external_id] = Revision(index, row, r.reason, identity)
        await _write_revisions(
            load, Kind.FINAL_GRADE, model=m.FinalGrade, fields=_FINAL_FIELDS, wanted=wanted
        )
