"""The journal's kinds as the API takes them: lessons, homework, marks, attendance, finals.

Each turns the request's models into the records of services/ingest/records.py and hands them
to the service that writes them. A record the service refuses fails the whole request (the
transaction is rolled back): an unknown reference as 404 (checked first), anything else as 422,
each naming the record's field (`items[3].student_ref`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from bot.api.models import AttendanceIn, FinalGradeIn, HomeworkIn, LessonIn, MarkIn
from bot.api.problems import FieldError, Problem
from bot.api.references import check_refs, duplicates
from services.db.session import Session
from services.ingest.journal import Load, Upsert
from services.ingest.records import (
    AttendanceRecord,
    FinalGradeRecord,
    HomeworkRecord,
    LessonRecord,
    MarkRecord,
    Rejections,
)
from services.ingest.tally import Tally

R = TypeVar("R")


def refused(rejected: Rejections, *, batch: bool) -> Problem:
    """The records the service refused (references are checked before): 422 naming fields."""
    errors = [
        FieldError(f"items[{r.index}].{r.field}" if batch else r.field, f"expected {r.expected}")
        for r in rejected.items[:50]
    ]
    return Problem(422, "Unprocessable Content", "a record cannot be written", errors)


async def write(
    upsert: Upsert,
    convert: Callable[[Any], Any],
    session: Session,
    school_id: int,
    items: Sequence[Any],
    *,
    batch: bool,
) -> Tally:
    """Run one of the journal's upserts; any refused record fails the request."""
    duplicates(items, batch=batch)
    await check_refs(session, school_id, items, batch=batch)
    load = Load(session, school_id)
    await upsert(load, [convert(item) for item in items])
    if load.rejected:
        raise refused(load.rejected, batch=batch)
    return load.tally


def lesson(item: LessonIn) -> LessonRecord:
    return LessonRecord(**item.model_dump())


def homework(item: HomeworkIn) -> HomeworkRecord:
    return HomeworkRecord(**item.model_dump())


def mark(item: MarkIn) -> MarkRecord:
    values = item.model_dump()
    # JSON numbers are binary; the column holds two decimals, as the program wrote them.
    if item.weight is not None:
        values["weight"] = Decimal(str(item.weight))
    return MarkRecord(**values)


def attendance_record(item: AttendanceIn) -> AttendanceRecord:
    return AttendanceRecord(**item.model_dump())


def final_grade(item: FinalGradeIn) -> FinalGradeRecord:
    return FinalGradeRecord(**item.model_dump())
