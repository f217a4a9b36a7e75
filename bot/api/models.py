"""The ingest API's bodies: one record, or a batch of up to 1 000, of each kind; the answers.

Every model is strict (a string is never taken for a number) and closed (an unknown field is an
error), so that what the OpenAPI document says is exactly what is accepted. Field names are
those of the records in services/ingest/records.py: an error in a record names its field.
"""

from __future__ import annotations

from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.api.fields import ClockTime, ExternalRef, LongText, Reason, ShortText, SubjectName
from services.db import models as m

MAX_BATCH = 1000
Item = TypeVar("Item", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Batch(Strict, Generic[Item]):
    """Up to 1 000 records of one kind, written in one transaction: all or none."""

    items: list[Item] = Field(min_length=1, max_length=MAX_BATCH)


class LessonIn(Strict):
    """A lesson of the timetable, for a whole class or for a subgroup (its class implied)."""

    external_id: ExternalRef
    date: date
    slot: int = Field(ge=0, le=15)
    starts_at: ClockTime
    ends_at: ClockTime
    class_ref: ExternalRef | None = None
    subject: SubjectName
    teacher_ref: ExternalRef
    subgroup_ref: ExternalRef | None = None
    substitute_ref: ExternalRef | None = None
    topic: LongText | None = None
    room: ShortText | None = None
    work_kind: ShortText | None = Field(default=None, description="a work kind's code")
    no_homework: bool = Field(
        default=False,
        description="no homework is set at this lesson: none is missing (seed 002 §2.7)",
    )


class HomeworkIn(Strict):
    external_id: ExternalRef
    lesson_ref: ExternalRef
    due_date: date
    text: LongText
    author_ref: ExternalRef | None = None


class MarkIn(Strict):
    """A mark as it is now. A changed value is a correction and `value` null a removal: both
    keep the earlier revision and need a `reason`, which the family sees."""

    external_id: ExternalRef
    student_ref: ExternalRef
    lesson_ref: ExternalRef
    value: m.MarkValue | None
    work_kind: ShortText | None = Field(default=None, description="a work kind's code")
    weight: float | None = Field(default=None, gt=0, lt=100)
    comment: LongText | None = None
    reason: Reason | None = None
    author_ref: ExternalRef | None = None


class AttendanceIn(Strict):
    """An absence or lateness at a lesson; `kind` null: present after all (the entry cleared)."""

    external_id: ExternalRef
    student_ref: ExternalRef
    lesson_ref: ExternalRef
    kind: m.AttendanceKind | None
    minutes_late: int | None = Field(default=None, ge=1, le=600)
    reason: m.AbsenceReason = m.AbsenceReason.UNKNOWN
    is_valid: bool = False
    author_ref: ExternalRef | None = None


class FinalGradeIn(Strict):
    """A final grade for a period of the student's year; `value` null removes it (`reason`)."""

    external_id: ExternalRef
    student_ref: ExternalRef
    subject: SubjectName
    period_kind: m.PeriodKind
    period_number: int = Field(ge=1, le=12)
    value: m.MarkValue | None
    reason: Reason | None = None
    author_ref: ExternalRef | None = None


class Counts(Strict):
    new: int
    changed: int
    unchanged: int
    left: int


class IngestResult(Strict):
    """What the request did, per kind of row written (`left`: people marked as gone)."""

    counts: dict[str, Counts]


class TokenAbout(Strict):
    """The calling token: its name and the school whose rows it reads and writes."""

    school_id: int
    name: str


class FieldProblem(Strict):
    field: str
    message: str


class ProblemOut(Strict):
    """RFC 9457 problem details; `errors` names each field at fault."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem]
