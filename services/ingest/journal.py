"""The journal from the school's program: lessons, homework, marks, attendance, final grades.

Both ways in (the file import and the ingest API) hand typed records to the functions here;
they write in the caller's transaction by the program's own ids, so that sending the same rows
again changes nothing, and report what they did in a Tally. A first, back-filling load is
written with change capture off, so that families are not flooded with a year of old marks;
every later load goes through the triggers like any other writer's rows (README, "The two
flows").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.ingest import lookups
from services.ingest.attendance import upsert_attendance
from services.ingest.batch import Load
from services.ingest.lessons import upsert_homework, upsert_lessons
from services.ingest.records import (
    AttendanceRecord,
    FinalGradeRecord,
    HomeworkRecord,
    Journal,
    LessonRecord,
    MarkRecord,
    Progress,
    Rejected,
    Rejections,
    told,
)
from services.ingest.revisions import DEFAULT_REASON, upsert_final_grades, upsert_marks
from services.ingest.tally import Tally

__all__ = [
    "DEFAULT_REASON",
    "JOURNAL_KINDS",
    "Applied",
    "AttendanceRecord",
    "FinalGradeRecord",
    "HomeworkRecord",
    "Journal",
    "LessonRecord",
    "Load",
    "MarkRecord",
    "Rejected",
    "Rejections",
    "Upsert",
    "apply_journal",
    "is_first_load",
    "upsert_attendance",
    "upsert_final_grades",
    "upsert_homework",
    "upsert_lessons",
    "upsert_marks",
]

Kind = m.ExternalKind
# Every upsert_* function: (load, records).
Upsert = Callable[[Load, Sequence[Any]], Awaitable[None]]
JOURNAL_KINDS = (Kind.LESSON, Kind.HOMEWORK, Kind.MARK, Kind.ATTENDANCE, Kind.FINAL_GRADE)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a journal did; with `rejected` the caller should roll back, unless it
    chose to skip bad records (the others are written all the same)."""

    tally: Tally
    rejected: tuple[Rejected, ...]
    backfill: bool


async def is_first_load(session: AsyncSession, school_id: int) -> bool:
    """True while the school's program has named no journal row yet: its first load is the
    history of the year, which families must not get as a flood of pushes."""
    named = await session.scalar(
        select(
            exists().where(
                m.ExternalId.school_id == school_id,
                m.ExternalId.kind.in_([k.value for k in JOURNAL_KINDS]),
            )
        )
    )
    return not named


async def apply_journal(
    session: AsyncSession,
    school_id: int,
    journal: Journal,
    *,
    backfill: bool | None = None,
    count_left: bool = False,
    progress: Progress | None = None,
) -> Applied:
    """Write a whole journal in order (lessons → homework → marks → attendance → finals), in
    the caller's transaction. `backfill` None decides by `is_first_load`; a back-fill turns
    change capture off for these writes only. `count_left` counts, per kind, the rows named
    before that this journal leaves out (kept: a file may cover a week). No access rule: the
    school's own program or its administrator."""
    if backfill is None:
        backfill = await is_first_load(session, school_id)
    load = Load(session, school_id, progress=progress)
    previous = await session.scalar(text("SELECT current_setting('journal.capture', true)"))
    if backfill:
        await session.execute(text("SET LOCAL journal.capture = 'off'"))
    try:
        steps: tuple[tuple[Kind, Upsert, Sequence[Any]], ...] = (
            (Kind.LESSON, upsert_lessons, journal.lessons),
            (Kind.HOMEWORK, upsert_homework, journal.homework),
            (Kind.MARK, upsert_marks, journal.marks),
            (Kind.ATTENDANCE, upsert_attendance, journal.attendance),
            (Kind.FINAL_GRADE, upsert_final_grades, journal.final_grades),
        )
        for kind, upsert, records in steps:
            if records:
                await upsert(load, records)
                told(progress, kind, len(records), len(records))
    finally:
        if backfill:
            # Later writes of the same transaction are captured as before.
            await session.execute(
                text("SELECT set_config('journal.capture', :value, true)"),
                {"value": previous or ""},
            )
    if count_left:
        await _count_left(session, school_id, journal, load.tally)
    return Applied(load.tally, tuple(load.rejected.items), backfill)


async def _count_left(
    session: AsyncSession, school_id: int, journal: Journal, tally: Tally
) -> None:
    named = {
        Kind.LESSON: [r.external_id for r in journal.lessons],
        Kind.HOMEWORK: [r.external_id for r in journal.homework],
        Kind.MARK: [r.external_id for r in journal.marks],
        Kind.ATTENDANCE: [r.external_id for r in journal.attendance],
        Kind.FINAL_GRADE: [r.external_id for r in journal.final_grades],
    }
    for kind, ids in named.items():
        tally.of(kind.value).left = await lookups.left_out(session, school_id, kind, ids)
