"""Reading a journal file: its sheets found, each row parsed into a record, every problem told.

The file's own checks (a date that does not exist, a mark not on the scale, a code used twice)
are made here; what only the database knows (an unknown class, pupil or lesson) is refused by
services.ingest.journal and told here with the row and column it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.imports import journal_format as f
from services.imports.layout import Sheet
from services.imports.reading import format_tables, parse_rows, unique
from services.imports.tabular import (
    BadRow,
    Cells,
    Checked,
    Expected,
    Problems,
    Row,
    Table,
    choice,
    date_cell,
    external_id,
    header_key,
    int_in,
    optional,
    text,
    time_cell,
)
from services.ingest.journal import Applied, apply_journal
from services.ingest.records import (
    AttendanceRecord,
    FinalGradeRecord,
    HomeworkRecord,
    Journal,
    LessonRecord,
    MarkRecord,
    Progress,
    Rejected,
)

Kind = m.ExternalKind

_CODE = optional(external_id)
_KIND_OF_SHEET = {
    "lessons": Kind.LESSON,
    "homework": Kind.HOMEWORK,
    "marks": Kind.MARK,
    "attendance": Kind.ATTENDANCE,
    "final_grades": Kind.FINAL_GRADE,
}
# The columns a sheet cannot do without; a missing optional column reads as empty cells.
_REQUIRED = {
    "lessons": (f.CODE, f.DATE, f.SLOT, f.STARTS, f.ENDS, f.SUBJECT, f.TEACHER_CODE),
    "homework": (f.CODE, f.LESSON_CODE, f.DUE, f.TASK),
    "marks": (f.CODE, f.STUDENT_CODE, f.LESSON_CODE, f.MARK),
    "attendance": (f.CODE, f.STUDENT_CODE, f.LESSON_CODE, f.PRESENCE),
    "final_grades": (f.CODE, f.STUDENT_CODE, f.SUBJECT, f.PERIOD, f.PERIOD_NUMBER, f.MARK),
}
# A record's field → the column it was read from, to tell where the database refused it.
_COLUMNS = {
    "external_id": f.CODE,
    "class_ref": f.CLASS_CODE,
    "subgroup_ref": f.SUBGROUP_CODE,
    "teacher_ref": f.TEACHER_CODE,
    "substitute_ref": f.SUBSTITUTE_CODE,
    "author_ref": f.TEACHER_CODE,
    "work_kind": f.WORK_KIND,
    "slot": f.SLOT,
    "ends_at": f.ENDS,
    "lesson_ref": f.LESSON_CODE,
    "student_ref": f.STUDENT_CODE,
    "text": f.TASK,
    "weight": f.WEIGHT,
    "minutes_late": f.MINUTES_LATE,
    "subject": f.SUBJECT,
    "period_number": f.PERIOD_NUMBER,
}


@dataclass
class CheckedJournal:
    """The journal as read, the rows its records came from, and what was wrong with the file
    (bad rows are left out)."""

    journal: Journal
    problems: Problems
    rows: int  # data rows read, for the progress bar
    origin: dict[Kind, list[Row]] = field(default_factory=dict)

    def where(self, rejected: Rejected) -> BadRow:
        """The row and column of a record the database refused."""
        row = self.origin[rejected.kind][rejected.index]
        column = _COLUMNS.get(rejected.field, rejected.field)
        return row.bad(column, rejected.expected, rejected.value)


def weight(value: str) -> Decimal:
    """A positive weight such as 1,5 (a comma or a point)."""
    try:
        parsed = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise Expected("a weight such as 1,5") from None
    if not Decimal(0) < parsed < Decimal(100):
        raise Expected("a weight above 0 and below 100")
    return parsed


def _lesson(c: Cells) -> LessonRecord:
    record = LessonRecord(
        external_id=c.get(f.CODE, external_id),
        date=c.get(f.DATE, date_cell),
        slot=c.get(f.SLOT, int_in(0, 15)),
        starts_at=c.get(f.STARTS, time_cell),
        ends_at=c.get(f.ENDS, time_cell),
        class_ref=c.get(f.CLASS_CODE, _CODE),
        subject=c.get(f.SUBJECT, text(200)),
        teacher_ref=c.get(f.TEACHER_CODE, external_id),
        subgroup_ref=c.get(f.SUBGROUP_CODE, _CODE),
        substitute_ref=c.get(f.SUBSTITUTE_CODE, _CODE),
        topic=c.get(f.TOPIC, optional(text(2000))),
        room=c.get(f.ROOM, optional(text(32))),
        work_kind=c.get(f.WORK_KIND, optional(text(32))),
        no_homework=c.get(f.NO_HOMEWORK, optional(choice(f.YES_NO))) or False,
    )
    if not c.row.text(f.CLASS_CODE) and not c.row.text(f.SUBGROUP_CODE):
        c.fail(f.CLASS_CODE, "a class code, or a subgroup code for a subgroup's lesson")
    return record


def _homework(c: Cells) -> HomeworkRecord:
    return HomeworkRecord(
        external_id=c.get(f.CODE, external_id),
        lesson_ref=c.get(f.LESSON_CODE, external_id),
        due_date=c.get(f.DUE, date_cell),
        text=c.get(f.TASK, text(10_000)),
        author_ref=c.get(f.TEACHER_CODE, _CODE),
    )


def _mark(c: Cells) -> MarkRecord:
    return MarkRecord(
        external_id=c.get(f.CODE, external_id),
        student_ref=c.get(f.STUDENT_CODE, external_id),
        lesson_ref=c.get(f.LESSON_CODE, external_id),
        value=c.get(f.MARK, choice(f.MARKS)),
        work_kind=c.get(f.WORK_KIND, optional(text(32))),
        weight=c.get(f.WEIGHT, optional(weight)),
        comment=c.get(f.COMMENT, optional(text(2000))),
        reason=c.get(f.REASON, optional(text(2000))),
        author_ref=c.get(f.TEACHER_CODE, _CODE),
    )


def _attendance(c: Cells) -> AttendanceRecord:
    valid = c.get(f.VALID, optional(choice(f.YES_NO)))
    reason = c.get(f.ABSENCE_REASON, optional(choice(f.ABSENCE_REASONS)))
    return AttendanceRecord(
        external_id=c.get(f.CODE, external_id),
        student_ref=c.get(f.STUDENT_CODE, external_id),
        lesson_ref=c.get(f.LESSON_CODE, external_id),
        kind=c.get(f.PRESENCE, choice(f.PRESENCES)),
        minutes_late=c.get(f.MINUTES_LATE, optional(int_in(1, 600))),
        reason=reason or m.AbsenceReason.UNKNOWN,
        is_valid=bool(valid),
        author_ref=c.get(f.TEACHER_CODE, _CODE),
    )


def _final_grade(c: Cells) -> FinalGradeRecord:
    return FinalGradeRecord(
        external_id=c.get(f.CODE, external_id),
        student_ref=c.get(f.STUDENT_CODE, external_id),
        subject=c.get(f.SUBJECT, text(200)),
        period_kind=c.get(f.PERIOD, choice(f.PERIODS)),
        period_number=c.get(f.PERIOD_NUMBER, int_in(1, 9)),
        value=c.get(f.MARK, choice(f.MARKS)),
        reason=c.get(f.REASON, optional(text(2000))),
        author_ref=c.get(f.TEACHER_CODE, _CODE),
    )


_BUILDERS: dict[str, Callable[[Cells], Any]] = {
    "lessons": _lesson,
    "homework": _homework,
    "marks": _mark,
    "attendance": _attendance,
    "final_grades": _final_grade,
}


def _guess(have: set[str]) -> Sheet | None:
    """A CSV is the first sheet whose required columns it has."""
    return next((s for s in f.SHEETS if {header_key(h) for h in _REQUIRED[s.kind]} <= have), None)


def _code(record: Any) -> str:
    return str(getattr(record, "external_id", ""))


def check_journal(tables: Iterable[Table]) -> CheckedJournal:
    """Every sheet's rows as records, with the row each came from."""
    problems = Problems()
    parsed: dict[str, list[tuple[Any, Row]]] = {}
    rows = 0
    for sheet, table in format_tables(
        tables, f.SHEETS, problems, required=_REQUIRED, guess=_guess
    ):
        rows += len(table.rows)
        read = unique(parse_rows(table, _BUILDERS[sheet.kind], problems), _code, f.CODE, problems)
        parsed.setdefault(sheet.kind, []).extend(read)

    def records(kind: str) -> tuple[Any, ...]:
        return tuple(r for r, _ in parsed.get(kind, ()))

    journal = Journal(
        lessons=records("lessons"),
        homework=records("homework"),
        marks=records("marks"),
        attendance=records("attendance"),
        final_grades=records("final_grades"),
    )
    origin = {_KIND_OF_SHEET[k]: [row for _, row in v] for k, v in parsed.items()}
    return CheckedJournal(journal, problems, rows, origin)


def bad_rows(checked: CheckedJournal, rejected: Sequence[Rejected]) -> list[BadRow]:
    """The database's refusals as problems of the file, in the file's order."""
    order = {s.name: i for i, s in enumerate(f.SHEETS)}
    found = [checked.where(r) for r in rejected]
    return sorted(found, key=lambda b: (b.file, order.get(b.sheet, 0), b.row))


def read_journal(tables: Sequence[Table]) -> Checked[CheckedJournal]:
    """The file's records and problems, for the import's runner; reads no database."""
    checked = check_journal(tables)
    return Checked(checked, checked.problems, checked.rows)


async def apply_checked(
    session: AsyncSession,
    school_id: int,
    checked: CheckedJournal,
    *,
    backfill: bool | None,
    progress: Progress | None = None,
) -> tuple[Applied, list[BadRow]]:
    """Write the file's good records in the caller's transaction; the rows the database
    refused come back as problems of the file (the caller rolls back unless it skips them).
    Left rows are counted, not touched: a file may cover a week as well as a year."""
    applied = await apply_journal(
        session, school_id, checked.journal, backfill=backfill, count_left=True, progress=progress
    )
    return applied, bad_rows(checked, applied.rejected)
