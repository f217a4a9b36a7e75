"""Every kind the API writes: its path, its models, and the service call that writes it.

One table serves the routes, the OpenAPI document and the tests, so that a kind added here is
routed, described and exercised by schemathesis at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.api import journal_kinds, roster_kinds
from bot.api.models import AttendanceIn, Batch, FinalGradeIn, HomeworkIn, LessonIn, MarkIn
from bot.api.roster_models import ClassIn, GuardianIn, StaffIn, StudentIn, SubgroupIn
from services.db.session import Session
from services.ingest import journal
from services.ingest.tally import Tally

# (session, school, records, now, batch?) -> what was written
Write = Callable[[Session, int, Sequence[Any], datetime, bool], Awaitable[Tally]]


@dataclass(frozen=True)
class KindSpec:
    path: str  # /api/v1/<path>
    summary: str
    description: str
    model: type[BaseModel]
    batch: type[BaseModel]
    write: Write


def _journal(upsert: journal.Upsert, convert: Callable[[Any], Any]) -> Write:
    async def write(
        session: Session, school_id: int, items: Sequence[Any], now: datetime, batch: bool
    ) -> Tally:
        return await journal_kinds.write(upsert, convert, session, school_id, items, batch=batch)

    return write


async def _roster(
    session: Session, school_id: int, items: Sequence[Any], now: datetime, batch: bool
) -> Tally:
    return await roster_kinds.write(session, school_id, items, now=now, batch=batch)


_MARKS = (
    "A new id is a new mark. The same id with another value is a correction, with `value`"
    " null a removal: both keep the earlier revision, need a `reason`, and reach the family"
    " like a mark entered in the journal."
)

KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "classes",
        "Upsert classes",
        "Classes of the current year.",
        ClassIn,
        Batch[ClassIn],
        _roster,
    ),
    KindSpec(
        "subgroups",
        "Upsert subgroups",
        "Subgroups of classes and their members.",
        SubgroupIn,
        Batch[SubgroupIn],
        _roster,
    ),
    KindSpec(
        "students",
        "Upsert pupils",
        "Pupils, their class and consent.",
        StudentIn,
        Batch[StudentIn],
        _roster,
    ),
    KindSpec(
        "guardians",
        "Upsert guardians",
        "Guardians and whose they are.",
        GuardianIn,
        Batch[GuardianIn],
        _roster,
    ),
    KindSpec(
        "staff",
        "Upsert staff",
        "Staff, their roles and what they teach.",
        StaffIn,
        Batch[StaffIn],
        _roster,
    ),
    KindSpec(
        "lessons",
        "Upsert lessons",
        "Lessons of the timetable, topics included.",
        LessonIn,
        Batch[LessonIn],
        _journal(journal.upsert_lessons, journal_kinds.lesson),
    ),
    KindSpec(
        "homework",
        "Upsert homework",
        "Homework set at lessons.",
        HomeworkIn,
        Batch[HomeworkIn],
        _journal(journal.upsert_homework, journal_kinds.homework),
    ),
    KindSpec(
        "marks",
        "Record marks",
        _MARKS,
        MarkIn,
        Batch[MarkIn],
        _journal(journal.upsert_marks, journal_kinds.mark),
    ),
    KindSpec(
        "attendance",
        "Record attendance",
        "Absences and lateness; `kind` null clears.",
        AttendanceIn,
        Batch[AttendanceIn],
        _journal(journal.upsert_attendance, journal_kinds.attendance_record),
    ),
    KindSpec(
        "final-grades",
        "Record final grades",
        "Final grades for periods.",
        FinalGradeIn,
        Batch[FinalGradeIn],
        _journal(journal.upsert_final_grades, journal_kinds.final_grade),
    ),
)
