"""Lessons and homework from the school's program: inserted, or updated in place when changed.

Both are mutable rows (unlike marks): an UPDATE is the change, and the change-capture triggers
tell families about it like any other writer's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.ingest import external, lookups
from services.ingest.records import HomeworkRecord, LessonRecord, Progress, Rejections, told
from services.ingest.tally import Outcome, Tally

Kind = m.ExternalKind

_LESSON_FIELDS = (
    "class_id",
    "subgroup_id",
    "subject_id",
    "teacher_id",
    "substitute_teacher_id",
    "date",
    "slot",
    "starts_at",
    "ends_at",
    "room",
    "topic",
    "work_kind_id",
)
_HOMEWORK_FIELDS = ("lesson_id", "due_date", "text", "author_id")


@dataclass(frozen=True, slots=True)
class Refs:
    """The program's ids of a batch resolved to ours, per kind, plus the school's work kinds."""

    ids: Mapping[Kind, Mapping[str, int]]
    work_kinds: Mapping[str, int]

    def of(self, kind: Kind, ref: str | None) -> int | None:
        return None if ref is None else self.ids[kind].get(ref)


async def resolve_refs(
    session: AsyncSession, school_id: int, wanted: Mapping[Kind, set[str]]
) -> Refs:
    """One query per kind of reference for the whole batch."""
    ids = {
        kind: await external.resolve(session, school_id, kind, refs)
        for kind, refs in wanted.items()
    }
    return Refs(ids, await lookups.work_kinds(session, school_id))


def unique(
    records: Sequence[Any], kind: Kind, rejected: Rejections, seen: set[str], start: int
) -> list[tuple[int, Any]]:
    """The records of a chunk with their index; a second record of one id is refused."""
    kept: list[tuple[int, Any]] = []
    for offset, record in enumerate(records):
        index = start + offset
        if record.external_id in seen:
            rejected.add(kind, index, "external_id", record.external_id, "an id not used before")
            continue
        seen.add(record.external_id)
        kept.append((index, record))
    return kept


async def write_rows(
    session: AsyncSession,
    school_id: int,
    kind: Kind,
    *,
    model: type[Any],
    fields: Sequence[str],
    rows: Mapping[str, dict[str, Any]],
    tally: Tally,
) -> None:
    """Insert the new rows and update the changed ones, named by the program's ids."""
    known = await external.resolve(session, school_id, kind, rows)
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
        await external.remember(session, school_id, kind, dict(zip(fresh, ids, strict=True)))


async def upsert_lessons(
    session: AsyncSession,
    school_id: int,
    records: Sequence[LessonRecord],
    *,
    tally: Tally,
    rejected: Rejections,
    progress: Progress | None = None,
) -> None:
    """Lessons by the program's ids; subjects are created when missing. Refused records are
    added to `rejected` and not written. The caller's transaction; no access rule (the school's
    own program or its administrator)."""
    seen: set[str] = set()
    for start, chunk in lookups.chunks(records):
        told(progress, Kind.LESSON, start, len(records))
        batch = unique(chunk, Kind.LESSON, rejected, seen, start)
        refs = await resolve_refs(
            session,
            school_id,
            {
                Kind.CLASS: {r.class_ref for _, r in batch if r.class_ref},
                Kind.SUBGROUP: {r.subgroup_ref for _, r in batch if r.subgroup_ref},
                Kind.STAFF: {r.teacher_ref for _, r in batch}
                | {r.substitute_ref for _, r in batch if r.substitute_ref},
            },
        )
        subgroups = await lookups.subgroup_classes(session, refs.ids[Kind.SUBGROUP].values())
        good = []
        for index, r in batch:
            problem = _lesson_problem(r, refs, subgroups)
            if problem is None:
                good.append((index, r))
            else:
                rejected.add(Kind.LESSON, index, *problem)
        subjects = await lookups.subjects(session, school_id, {r.subject for _, r in good})
        rows = {r.external_id: _lesson_row(r, refs, subgroups, subjects) for _, r in good}
        for row in rows.values():
            row["school_id"] = school_id
        await write_rows(
            session,
            school_id,
            Kind.LESSON,
            model=m.Lesson,
            fields=("school_id", *_LESSON_FIELDS),
            rows=rows,
            tally=tally,
        )


Problem = tuple[str, object, str]
Check = tuple[bool, str, object, str]


def first_problem(checks: Sequence[Check]) -> Problem | None:
    """The first failed check as (field, value, what was expected): one problem per record."""
    return next(((name, value, want) for bad, name, value, want in checks if bad), None)


def _lesson_problem(r: LessonRecord, refs: Refs, subgroups: Mapping[int, int]) -> Problem | None:
    """Every name a lesson uses must be known, and its times must make sense."""
    subgroup = refs.of(Kind.SUBGROUP, r.subgroup_ref)
    klass = refs.of(Kind.CLASS, r.class_ref)
    roster = "a teacher of the school's roster"
    return first_problem(
        (
            (
                r.class_ref is None and r.subgroup_ref is None,
                "class_ref",
                None,
                "a class or a subgroup",
            ),
            (
                r.class_ref is not None and klass is None,
                "class_ref",
                r.class_ref,
                "a class of the school's roster",
            ),
            (
                r.subgroup_ref is not None and subgroup is None,
                "subgroup_ref",
                r.subgroup_ref,
                "a subgroup of the school's roster",
            ),
            (
                subgroup is not None and klass is not None and subgroups.get(subgroup) != klass,
                "subgroup_ref",
                r.subgroup_ref,
                "a subgroup of the lesson's class",
            ),
            (refs.of(Kind.STAFF, r.teacher_ref) is None, "teacher_ref", r.teacher_ref, roster),
            (
                r.substitute_ref is not None and refs.of(Kind.STAFF, r.substitute_ref) is None,
                "substitute_ref",
                r.substitute_ref,
                roster,
            ),
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
    }


async def upsert_homework(
    session: AsyncSession,
    school_id: int,
    records: Sequence[HomeworkRecord],
    *,
    tally: Tally,
    rejected: Rejections,
    progress: Progress | None = None,
) -> None:
    """Homework by the program's ids, set at lessons the program named. Same rules as lessons."""
    seen: set[str] = set()
    for start, chunk in lookups.chunks(records):
        told(progress, Kind.HOMEWORK, start, len(records))
        batch = unique(chunk, Kind.HOMEWORK, rejected, seen, start)
        refs = await resolve_refs(
            session,
            school_id,
            {
                Kind.LESSON: {r.lesson_ref for _, r in batch},
                Kind.STAFF: {r.author_ref for _, r in batch if r.author_ref},
            },
        )
        rows: dict[str, dict[str, Any]] = {}
        for index, r in batch:
            if refs.of(Kind.LESSON, r.lesson_ref) is None:
                rejected.add(
                    Kind.HOMEWORK, index, "lesson_ref", r.lesson_ref, "a lesson of the journal"
                )
            elif r.author_ref is not None and refs.of(Kind.STAFF, r.author_ref) is None:
                rejected.add(
                    Kind.HOMEWORK,
                    index,
                    "author_ref",
                    r.author_ref,
                    "a teacher of the school's roster",
                )
            elif not r.text.strip():
                rejected.add(Kind.HOMEWORK, index, "text", r.text, "the homework's text")
            else:
                rows[r.external_id] = {
                    "lesson_id": refs.of(Kind.LESSON, r.lesson_ref),
                    "due_date": r.due_date,
                    "text": r.text,
                    "author_id": refs.of(Kind.STAFF, r.author_ref),
                }
        await write_rows(
            session,
            school_id,
            Kind.HOMEWORK,
            model=m.Homework,
            fields=_HOMEWORK_FIELDS,
            rows=rows,
            tally=tally,
        )
