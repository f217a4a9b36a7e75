"""The class's journal and its summary sheet as XLSX workbooks."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from services.archive import document as doc
from services.archive.records import ClassYear, Summary
from services.archive.render import Grid, grids, history_row, local, written_text

_BOLD = Font(bold=True)
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _safe(value: object) -> object:
    """Text a spreadsheet would read as a formula is stored as text."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def _append(sheet: Worksheet, values: Iterable[object]) -> None:
    sheet.append([_safe(v) for v in values])


def _sheet_name(name: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique ignoring case."""
    base = _NOT_IN_SHEET_NAME.sub(" ", name).strip()[:31] or doc.NOTHING
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _bold_row(sheet: Worksheet, row: int) -> None:
    for cell in sheet[row]:
        cell.font = _BOLD


def _widths(sheet: Worksheet, *, first: int = 1, limit: int = 60) -> None:
    for column in sheet.iter_cols(min_row=first):
        width = max((len(str(c.value)) for c in column if c.value is not None), default=4)
        sheet.column_dimensions[column[0].column_letter].width = min(limit, max(5, width + 2))


def _save(book: Workbook, written: datetime) -> bytes:
    book.properties.creator = "journalbot"
    book.properties.created = book.properties.modified = written.replace(tzinfo=None)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _heading(sheet: Worksheet, year: ClassYear, title: str, written: str) -> None:
    _append(sheet, [title])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=14)
    for label, value in (
        (doc.INFO_SCHOOL, year.school),
        (doc.INFO_YEAR, year.year),
        (doc.INFO_CLASS, year.klass),
        (doc.INFO_CLASS_TEACHER, year.class_teacher or doc.NOTHING),
        (doc.INFO_WRITTEN, written),
    ):
        _append(sheet, [label, value])


def _info_sheet(sheet: Worksheet, year: ClassYear, written: str) -> None:
    _heading(sheet, year, doc.JOURNAL_TITLE, written)
    for key, count in year.counts().items():
        _append(sheet, [doc.INFO_COUNTS[key], count])
    _append(sheet, [])
    _append(sheet, [doc.NUMBER, doc.PUPIL, doc.NOTE])
    _bold_row(sheet, sheet.max_row)
    for number, pupil in enumerate(year.pupils, 1):
        _append(sheet, [number, pupil.name, pupil.note or None])
    _append(sheet, [])
    _append(sheet, [doc.SUBJECT, doc.TEACHER])
    _bold_row(sheet, sheet.max_row)
    for subject in year.subjects:
        _append(sheet, [subject.name, subject.teachers])
    _widths(sheet, first=2)


def _subject_sheet(sheet: Worksheet, year: ClassYear, summary: Summary, grid: Grid) -> None:
    """Row 1: №, pupil, a column per lesson (its date), the period grades, lessons missed."""
    periods = summary.periods
    _append(
        sheet,
        [doc.NUMBER, doc.PUPIL]
        + [lesson.day for lesson in grid.lessons]
        + [p.label for p in periods]
        + [doc.ABSENT_LESSONS],
    )
    _bold_row(sheet, 1)
    for column, lesson in enumerate(grid.lessons, 3):
        sheet.cell(1, column).number_format = "DD.MM"
        if lesson.subgroup:
            sheet.cell(1, column).comment = Comment(lesson.subgroup, "journalbot")
    first_period = 3 + len(grid.lessons)
    for row, pupil in enumerate(year.pupils, 2):
        _append(
            sheet,
            [row - 1, pupil.name]
            + [grid.cells.get((pupil.id, lesson.id)) for lesson in grid.lessons]
            + [grid.finals.get((pupil.id, p.id)) for p in periods]
            + [grid.absent[pupil.id]],
        )
        columns = [(3 + i, lesson.id) for i, lesson in enumerate(grid.lessons)]
        columns += [(first_period + i, p.id) for i, p in enumerate(periods)]
        for column, key in columns:
            if history := grid.history.get((pupil.id, key)):
                sheet.cell(row, column).comment = Comment(history, "journalbot", width=320)
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 4
    sheet.column_dimensions["B"].width = 32


def _table(sheet: Worksheet, header: Iterable[object], rows: Iterable[Iterable[object]]) -> None:
    _append(sheet, header)
    _bold_row(sheet, 1)
    for row in rows:
        _append(sheet, row)
    sheet.freeze_panes = "A2"
    _widths(sheet)


def journal_xlsx(year: ClassYear, summary: Summary, *, zone: ZoneInfo, written: datetime) -> bytes:
    """The year's journal: the class's facts and pupils, a sheet per subject (pupils × lessons
    with marks and absences, then the grade of each period), lessons and topics, absences,
    and every correction of a mark or final grade."""
    book = Workbook()
    info = book.active
    info.title = doc.SHEET_INFO
    _info_sheet(info, year, written_text(written, zone))
    taken = {
        name.lower()
        for name in (doc.SHEET_INFO, doc.SHEET_LESSONS, doc.SHEET_ABSENCES, doc.SHEET_HISTORY)
    }
    for grid in grids(year, zone):
        sheet = book.create_sheet(_sheet_name(grid.subject.name, taken))
        _subject_sheet(sheet, year, summary, grid)
    subjects = {s.id: s.name for s in year.subjects}
    lessons = {lesson.id: lesson for lesson in year.lessons}
    pupils = {p.id: p.name for p in year.pupils}
    _table(
        book.create_sheet(doc.SHEET_LESSONS),
        doc.LESSON_COLUMNS,
        (
            [
                x.day,
                x.slot,
                subjects.get(x.subject_id),
                x.subgroup,
                x.teacher,
                x.substitute,
                x.topic,
                x.work,
                x.homework,
            ]
            for x in year.lessons
        ),
    )
    for (cell,) in book[doc.SHEET_LESSONS].iter_rows(min_row=2, max_col=1):
        cell.number_format = "DD.MM.YYYY"
    _table(
        book.create_sheet(doc.SHEET_ABSENCES),
        doc.ABSENCE_COLUMNS,
        (
            [
                lessons[a.lesson_id].day,
                lessons[a.lesson_id].slot,
                subjects.get(lessons[a.lesson_id].subject_id),
                pupils.get(a.student_id),
                doc.ABSENT_SIGN if a.kind == "absent" else doc.LATE_SIGN,
                doc.REASONS.get(a.reason, a.reason),
                doc.YES if a.is_valid else doc.NO,
                a.minutes_late,
            ]
            for a in sorted(year.absences, key=lambda a: (lessons[a.lesson_id].day, a.lesson_id))
        ),
    )
    for (cell,) in book[doc.SHEET_ABSENCES].iter_rows(min_row=2, max_col=1):
        cell.number_format = "DD.MM.YYYY"
    history = book.create_sheet(doc.SHEET_HISTORY)
    _table(
        history,
        [*doc.HISTORY_COLUMNS, doc.HISTORY_WHEN.format(zone=zone.key), *doc.HISTORY_AFTER],
        (history_row(year, revision, zone) for revision in year.revisions),
    )
    for (cell,) in history.iter_rows(min_row=2, min_col=7, max_col=7):
        cell.number_format = "DD.MM.YYYY HH:MM"
    return _save(book, local(written, zone))


def summary_xlsx(year: ClassYear, summary: Summary, *, zone: ZoneInfo, written: datetime) -> bytes:
    """The summary sheet: the heading, then pupils × subjects with a column per period (two
    header rows: the subject over its periods), absences, and the failing subjects."""
    book = Workbook()
    sheet = book.active
    sheet.title = doc.SHEET_SUMMARY
    _heading(sheet, year, doc.SUMMARY_TITLE, written_text(written, zone))
    _append(sheet, [])
    top = sheet.max_row + 1
    periods = summary.periods
    tail = [doc.ABSENT_LESSONS, doc.ABSENT_VALID, doc.LATE, doc.FAILING, doc.NOT_ATTESTED]
    first_row: list[object] = [doc.NUMBER, doc.PUPIL]
    for subject in year.subjects:
        first_row += [subject.name] + [None] * (len(periods) - 1)
    _append(sheet, first_row + tail)
    _append(sheet, [None, None] + [p.label for _ in year.subjects for p in periods])
    width = len(periods)
    for index in range(len(year.subjects)):
        if width > 1:
            column = 3 + index * width
            sheet.merge_cells(
                start_row=top, start_column=column, end_row=top, end_column=column + width - 1
            )
    for row in (top, top + 1):
        _bold_row(sheet, row)
        for cell in sheet[row]:
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for number, line in enumerate(summary.rows, 1):
        grades = [line.grades.get((s.id, p.id)) for s in year.subjects for p in periods]
        _append(
            sheet,
            [
                number,
                line.pupil.name,
                *grades,
                line.absent,
                line.absent_valid,
                line.late,
                ", ".join(line.failing) or None,
                ", ".join(line.not_attested) or None,
            ],
        )
    _append(sheet, [])
    for label, count in (
        (doc.TOTAL_PUPILS, len(summary.rows)),
        (doc.TOTAL_FAILING, summary.failing),
        (doc.TOTAL_NOT_ATTESTED, summary.not_attested),
    ):
        _append(sheet, [None, label, count])
    sheet.freeze_panes = sheet.cell(top + 2, 3)
    sheet.column_dimensions["A"].width = 4
    sheet.column_dimensions["B"].width = 32
    return _save(book, local(written, zone))
