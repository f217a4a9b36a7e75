"""Lessons and homework from the school's program: inserted, or updated in place when changed.

Both are mutable rows (unlike marks): an UPDATE is the change, and the change-capture triggers
tell families about it like any other writer's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update

from services.db import models as m
from services.ingest import external, lookups
from services.ingest.batch import LESSON, TEACHER, Load, Problem, Refs, first_problem
from services.ingest.records import HomeworkRecord, LessonRecord
from services.ingest.tally import Outcome

Kind = m.ExternalKind

_LESSON_REFS = {
    Kind.CLASS: ("class_ref",),
    Kind.SUBGROUP: ("subgroup_ref",),
    Kind.STAFF: ("teacher_ref", "substitute_ref"),
}


async def write_rows(
    load: Load,
    kind: Kind,
    *,
    model: type[Any],
    rows: Mapping[str, dict[str, Any]],
) -> None:
    """Insert the new rows and update the changed ones, named by the program's ids. Every row
    has the same keys: the columns written, and compared with what is there."""
    session, tally = load.session, load.tally
    fields = tuple(next(iter(rows.values()), {}))
    known = await external.resolve(session, load.school_id, kind, rows)
    current: dict[int, dict[str, Any]] = {}
    if known:
        columns = [getattr(model, f) for f in fields]
        found = await session.execute(
            select(model.id, *columns).where(model.id.in_(sorted(known.values())))
        )
        current = {row[0]: dict(zip(fields, row[1:], strict=True)) for row in found}
    fresh = {ext: row for ext, row in rows.items() if known.get(ext) not in current}
    changed: list[dict[str, Any]] = []
    for ext, row in rows.items():
        if ext in fresh:
            tally.add(kind.value, ext, Outcome.NEW)
            continue
        before = current[known[ext]]
        differ = tuple(f for f in fields if before[f] != row[f])
        tally.add(kind.value, ext, Outcome.CHANGED if differ else Outcome.UNCHANGED, differ)
        if differ:
            changed.append({"id": known[ext], **row})
    if changed:
        await session.execute(update(model), changed)
    if fresh:
        created = await session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True),
            list(fresh.values()),
        )
        ids = created.scalars().all()
        pairs = dict(zip(fresh, ids, strict=True))
        await external.remember(session, load.school_id, kind, pairs)


async def upsert_lessons(load: Load, records: Sequence[LessonRecord]) -> None:
    """Lessons by the program's ids; subjects are created when missing. Refused records are
    added to `rejected` and not written. The caller's transaction; no access rule (the school's
    own program or its administrator)."""
    for batch in load.batches(Kind.LESSON, records):
        refs = await load.refs(batch, _LESSON_REFS)
        subgroups = await lookups.subgroup_classes(load.session, refs.ids[Kind.SUBGROUP].values())
        good = []
        for index, r in batch:
            problem = _lesson_problem(r, refs, subgroups)
            if problem is None:
                good.append((index, r))
            else:
                load.rejected.add(Kind.LESSON, index, *problem)
        names = {r.subject for _, r in good}
        subjects = await lookups.subjects(load.session, load.school_id, names)
        rows = {r.external_id: _lesson_row(r, refs, subgroups, subjects) for _, r in good}
        for row in rows.values():
            row["school_id"] = load.school_id
        await write_rows(load, Kind.LESSON, model=m.Lesson, rows=rows)


def _lesson_problem(r: LessonRecord, refs: Refs, subgroups: Mapping[int, int]) -> Problem | None:
    """Every name a lesson uses must be known, and its times must make sense."""
    subgroup = refs.of(Kind.SUBGROUP, r.subgroup_ref)
    klass = refs.of(Kind.CLASS, r.class_ref)
    return first_problem(
        (
            (
                r.class_ref is None and r.subgroup_ref is None,
                "class_ref",
                None,
                "a class or a subgroup",
            ),
            refs.check(Kind.CLASS, "class_ref", r.class_ref, "a class of the school's roster"),
            refs.check(
                Kind.SUBGROUP, "subgroup_ref", r.subgroup_ref, "a subgroup of the school's roster"
            ),
            (
                subgroup is not None and klass is not None and subgroups.get(subgroup) != klass,
                "subgroup_ref",
                r.subgroup_ref,
                "a subgroup of the lesson's class",
            ),
            refs.check(Kind.STAFF, "teacher_ref", r.teacher_ref, TEACHER),
            refs.check(Kind.STAFF, "substitute_ref", r.substitute_ref, TEACHER),
            (
                r.work_kind is not None and r.work_kind not in refs.work_kinds,
                "work_kind",
                r.work_kind,
                "one of " + ", ".join(sorted(refs.work_kinds)),
            ),
            (not 0 <= r.slot <= 15, "slot", r.slot, "a lesson number from 0 to 15"),
            (r.starts_at >= r.ends_at, "ends_at", r.ends_at, "a time after the lesson's start"),
        )
    )


def _lesson_row(
    r: LessonRecord, refs: Refs, subgroups: Mapping[int, int], subjects: Mapping[str, int]
) -> dict[str, Any]:
    subgroup = refs.of(Kind.SUBGROUP, r.subgroup_ref)
    klass = refs.of(Kind.CLASS, r.class_ref) or subgroups[subgroup or 0]
    return {
        "class_id": klass,
        "subgroup_id": subgroup,
        "subject_id": subjects[r.subject],
        "teacher_id": refs.of(Kind.STAFF, r.teacher_ref),
        "substitute_teacher_id": refs.of(Kind.STAFF, r.substitute_ref),
        "date": r.date,
        "slot": r.slot,
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "room": r.room,
        "topic": r.topic,
        "work_kind_id": None if r.work_kind is None else refs.work_kinds[r.work_kind],
        "no_homework": r.no_homework,
    }


async def upsert_homework(load: Load, records: Sequence[HomeworkRecord]) -> None:
    """Homework by the program's ids, set at lessons the program named. Same rules as lessons."""
    for batch in load.batches(Kind.HOMEWORK, records):
        refs = await load.refs(batch, {Kind.LESSON: ("lesson_ref",), Kind.STAFF: ("author_ref",)})
        rows: dict[str, dict[str, Any]] = {}
        for index, r in batch:
            problem = first_problem(
                (
                    refs.check(Kind.LESSON, "lesson_ref", r.lesson_ref, LESSON),
                    refs.check(Kind.STAFF, "author_ref", r.author_ref, TEACHER),
                    (not r.text.strip(), "text", r.text, "the homework's text"),
                )
            )
            if problem is not None:
                load.rejected.add(Kind.HOMEWORK, index, *problem)
                continue
            rows[r.external_id] = {
                "lesson_id": refs.of(Kind.LESSON, r.lesson_ref),
                "due_date": r.due_date,
                "text": r.text,
                "author_id": refs.of(Kind.STAFF, r.author_ref),
            }
        await write_rows(load, Kind.HOMEWORK, model=m.Homework, rows=rows)
