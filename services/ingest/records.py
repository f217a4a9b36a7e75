"""The journal's rows as the school's program sends them: named by its own ids, typed.

Every `*_ref` field is the program's own id of a row (an external id of services/ingest/
external.py), never one of ours: the program does not know our ids. Subjects are named, work
kinds by their code, periods by kind and number within the student's academic year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from services.db import models as m

# Told after each chunk: (kind, records done, records in all), for a progress bar.
Progress = Callable[[str, int, int], None]


def told(progress: Progress | None, kind: m.ExternalKind, done: int, total: int) -> None:
    if progress is not None:
        progress(kind.value, min(done, total), total)


@dataclass(frozen=True, slots=True)
class LessonRecord:
    """A lesson of the timetable: for a whole class, or a subgroup (its class implied)."""

    external_id: str
    date: date
    slot: int
    starts_at: time
    ends_at: time
    class_ref: str | None
    subject: str
    teacher_ref: str
    subgroup_ref: str | None = None
    substitute_ref: str | None = None
    topic: str | None = None
    room: str | None = None
    work_kind: str | None = None
    # No homework is set at this lesson (seed 002 §2.7 "если задается"): none is missing.
    no_homework: bool = False


@dataclass(frozen=True, slots=True)
class HomeworkRecord:
    external_id: str
    lesson_ref: str
    due_date: date
    text: str
    author_ref: str | None = None


@dataclass(frozen=True, slots=True)
class MarkRecord:
    """A mark as it is now; `value` None removes it. A change becomes a new revision whose
    reason is `reason`, else "import" (seed 003 §8.6: marks are never altered in place)."""

    external_id: str
    student_ref: str
    lesson_ref: str
    value: str | None
    work_kind: str | None = None
    weight: Decimal | None = None
    comment: str | None = None
    reason: str | None = None
    author_ref: str | None = None


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    """A pupil's absence or lateness at a lesson; `kind` None: present (a mark cleared)."""

    external_id: str
    student_ref: str
    lesson_ref: str
    kind: m.AttendanceKind | None
    minutes_late: int | None = None
    reason: m.AbsenceReason = m.AbsenceReason.UNKNOWN
    is_valid: bool = False
    author_ref: str | None = None


@dataclass(frozen=True, slots=True)
class FinalGradeRecord:
    """A final grade for a period of the student's academic year; `value` None removes it."""

    external_id: str
    student_ref: str
    subject: str
    period_kind: m.PeriodKind
    period_number: int
    value: str | None
    reason: str | None = None
    author_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Journal:
    """A whole parsed journal, applied in this order: each kind refers to the ones before."""

    lessons: tuple[LessonRecord, ...] = ()
    homework: tuple[HomeworkRecord, ...] = ()
    marks: tuple[MarkRecord, ...] = ()
    attendance: tuple[AttendanceRecord, ...] = ()
    final_grades: tuple[FinalGradeRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the database cannot take: `index` is its position in the batch of its kind,
    `field` the record's field, so that a file import can name the row and the column."""

    kind: m.ExternalKind
    index: int
    field: str
    value: str
    expected: str


@dataclass(slots=True)
class Rejections:
    """What a batch refused, gathered kind after kind."""

    items: list[Rejected] = field(default_factory=list)

    def add(
        self, kind: m.ExternalKind, index: int, name: str, value: object, expected: str
    ) -> None:
        self.items.append(
            Rejected(kind, index, name, "" if value is None else str(value), expected)
        )

    def __bool__(self) -> bool:
        return bool(self.items)
