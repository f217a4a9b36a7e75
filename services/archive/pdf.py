"""The class's journal and its summary sheet as PDF, for printing, signing and the shelf."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from services.archive import document as doc
from services.archive.records import ClassYear, Summary
from services.archive.render import grids, history_row, written_text

# DejaVu ships with matplotlib (a dependency for charts) and covers Cyrillic, as in slips.
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT, BOLD = "ArchiveSans", "ArchiveSans-Bold"
_DATES_PER_TABLE = 24
_registered: list[bool] = []


def register_fonts() -> None:
    """DejaVu as FONT and BOLD, once per process: the archive's and the report card's PDFs."""
    if _registered:
        return
    pdfmetrics.registerFont(TTFont(FONT, str(_FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(_FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    _registered.append(True)


def _style(size: float, *, bold: bool = False) -> ParagraphStyle:
    return ParagraphStyle(
        f"archive-{size}-{bold}", fontName=BOLD if bold else FONT, fontSize=size,
        leading=size * 1.25,
    )  # fmt: skip


def _text(value: object, size: float = 7) -> Paragraph:
    return Paragraph(
        escape("" if value is None else str(value)).replace("\n", "<br/>"), _style(size)
    )


def _table(
    rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None, *, size: float = 7
) -> Table:
    """A grid with a bold header row that repeats on every page."""
    table = Table([list(row) for row in rows], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, size),
                ("FONT", (0, 0), (-1, 0), BOLD, size),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _heading(year: ClassYear, title: str, written: str) -> list[Flowable]:
    lines = [
        f"{doc.INFO_SCHOOL}: {year.school}",
        f"{doc.INFO_YEAR}: {year.year}; {doc.INFO_CLASS}: {year.klass}",
        f"{doc.INFO_CLASS_TEACHER}: {year.class_teacher or doc.NOTHING}",
        f"{doc.INFO_WRITTEN}: {written}",
    ]
    return [Paragraph(escape(title), _style(14, bold=True)), Spacer(1, 3 * mm)] + [
        Paragraph(escape(line), _style(9)) for line in lines
    ] + [Spacer(1, 4 * mm)]  # fmt: skip


def _build(story: list[Flowable], *, title: str, wide: bool) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    size = landscape(A4) if wide else A4
    document = SimpleDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=title,
        author="journalbot",
    )
    document.build(story)
    return buffer.getvalue()


def journal_pdf(year: ClassYear, summary: Summary, *, zone: ZoneInfo, written: datetime) -> bytes:
    """The journal as printed pages: the class, then per subject its grids of marks (a cell
    corrected later is starred) and period grades and its lessons with topics and homework;
    then absences and every correction."""
    register_fonts()
    story = _heading(year, doc.JOURNAL_TITLE, written_text(written, zone))
    counts = [[doc.INFO_COUNTS[key], count] for key, count in year.counts().items()]
    story.append(_table(counts, [60 * mm, 25 * mm]))
    story += [Spacer(1, 4 * mm), _pupils(year)]
    subject_names = {s.id: s.name for s in year.subjects}
    for grid in grids(year, zone):
        story += [PageBreak(), Paragraph(escape(grid.subject.name), _style(12, bold=True))]
        story.append(Paragraph(escape(f"{doc.TEACHER}: {grid.subject.teachers}"), _style(8)))
        story.append(Paragraph(escape(doc.STARRED), _style(7)))
        for start in range(0, max(len(grid.lessons), 1), _DATES_PER_TABLE):
            lessons = grid.lessons[start : start + _DATES_PER_TABLE]
            rows: list[list[object]] = [
                [doc.NUMBER, doc.PUPIL, *(f"{x.day:%d.%m}" for x in lessons)]
            ]
            for number, pupil in enumerate(year.pupils, 1):
                cells = []
                for lesson in lessons:
                    value = grid.cells.get((pupil.id, lesson.id), "")
                    starred = (pupil.id, lesson.id) in grid.history
                    cells.append(value + ("*" if starred else ""))
                rows.append([number, _text(pupil.name), *cells])
            story += [Spacer(1, 2 * mm), _table(rows, [7 * mm, 50 * mm] + [9 * mm] * len(lessons))]
        periods = summary.periods
        grades: list[list[object]] = [
            [doc.NUMBER, doc.PUPIL, *(p.label for p in periods), doc.ABSENT_LESSONS]
        ]
        for number, pupil in enumerate(year.pupils, 1):
            marks = [
                grid.finals.get((pupil.id, p.id), "")
                + ("*" if (pupil.id, p.id) in grid.history else "")
                for p in periods
            ]
            grades.append([number, _text(pupil.name), *marks, grid.absent[pupil.id]])
        widths = [7 * mm, 50 * mm] + [16 * mm] * len(periods) + [32 * mm]
        story += [Spacer(1, 3 * mm), _table(grades, widths)]
        lesson_rows: list[list[object]] = [[*doc.LESSON_COLUMNS[:2], *doc.LESSON_COLUMNS[4:]]]
        for x in grid.lessons:
            lesson_rows.append(
                [
                    f"{x.day:%d.%m.%Y}",
                    x.slot,
                    *(_text(v) for v in (x.teacher, x.substitute, x.topic, x.work, x.homework)),
                ]
            )
        widths = [18 * mm, 11 * mm, 30 * mm, 30 * mm, 80 * mm, 30 * mm, 78 * mm]
        story += [Spacer(1, 3 * mm), _table(lesson_rows, widths)]
    story += [PageBreak(), Paragraph(escape(doc.SHEET_ABSENCES), _style(12, bold=True))]
    story.append(_absences(year, subject_names))
    story += [PageBreak(), Paragraph(escape(doc.SHEET_HISTORY), _style(12, bold=True))]
    header = [*doc.HISTORY_COLUMNS, doc.HISTORY_WHEN.format(zone=zone.key), *doc.HISTORY_AFTER]
    history: list[list[object]] = [list(header)]
    for revision in year.revisions:
        row = history_row(year, revision, zone)
        row[6] = f"{row[6]:%d.%m.%Y %H:%M}"
        history.append([_text(value) for value in row])
    widths = [18 * mm, 45 * mm, 35 * mm, 30 * mm, 14 * mm, 14 * mm, 32 * mm, 35 * mm, 54 * mm]
    story.append(_table(history, widths))
    return _build(story, title=f"{doc.JOURNAL_TITLE} {year.klass} {year.year}", wide=True)


def _pupils(year: ClassYear) -> Table:
    rows: list[list[object]] = [[doc.NUMBER, doc.PUPIL, doc.NOTE]]
    rows += [[n, _text(p.name), _text(p.note)] for n, p in enumerate(year.pupils, 1)]
    return _table(rows, [8 * mm, 80 * mm, 60 * mm])


def _absences(year: ClassYear, subjects: dict[int, str]) -> Table:
    lessons = {lesson.id: lesson for lesson in year.lessons}
    pupils = {p.id: p.name for p in year.pupils}
    rows: list[list[object]] = [list(doc.ABSENCE_COLUMNS)]
    for a in sorted(year.absences, key=lambda a: (lessons[a.lesson_id].day, a.lesson_id)):
        lesson = lessons[a.lesson_id]
        rows.append(
            [
                f"{lesson.day:%d.%m.%Y}",
                lesson.slot,
                _text(subjects.get(lesson.subject_id)),
                _text(pupils.get(a.student_id)),
                doc.ABSENT_SIGN if a.kind == "absent" else doc.LATE_SIGN,
                doc.REASONS.get(a.reason, a.reason),
                doc.YES if a.is_valid else doc.NO,
                a.minutes_late or "",
            ]
        )
    widths = [20 * mm, 12 * mm, 45 * mm, 60 * mm, 15 * mm, 40 * mm, 25 * mm, 25 * mm]
    return _table(rows, widths)


def summary_pdf(year: ClassYear, summary: Summary, *, zone: ZoneInfo, written: datetime) -> bytes:
    """The summary sheet as pages: every pupil's absences and failing subjects, then each
    pupil's grades, subjects × periods, as the paper journal's summary sheet has them."""
    # Its heading's styles need the fonts: it is written on its own too (a period's sheet).
    register_fonts()
    story = _heading(year, doc.SUMMARY_TITLE, written_text(written, zone))
    header = (doc.NUMBER, doc.PUPIL, doc.ABSENT_LESSONS, doc.ABSENT_VALID, doc.LATE)
    rows: list[list[object]] = [[_text(h) for h in (*header, doc.FAILING, doc.NOT_ATTESTED)]]
    for number, line in enumerate(summary.rows, 1):
        failing = (_text(", ".join(names)) for names in (line.failing, line.not_attested))
        rows.append(
            [number, _text(line.pupil.name), line.absent, line.absent_valid, line.late, *failing]
        )
    story.append(_table(rows, [8 * mm, 50 * mm, 18 * mm, 24 * mm, 18 * mm, 35 * mm, 35 * mm]))
    story.append(Spacer(1, 3 * mm))
    for label, count in (
        (doc.TOTAL_PUPILS, len(summary.rows)),
        (doc.TOTAL_FAILING, summary.failing),
        (doc.TOTAL_NOT_ATTESTED, summary.not_attested),
    ):
        story.append(Paragraph(escape(f"{label}: {count}"), _style(9)))
    periods = summary.periods
    for number, line in enumerate(summary.rows, 1):
        title = f"{number}. {line.pupil.name}" + (
            f" ({line.pupil.note})" if line.pupil.note else ""
        )
        story += [Spacer(1, 5 * mm), Paragraph(escape(title), _style(10, bold=True))]
        grades: list[list[object]] = [[doc.SUBJECT, *(p.label for p in periods)]]
        for subject in year.subjects:
            grades.append(
                [_text(subject.name)] + [line.grades.get((subject.id, p.id), "") for p in periods]
            )
        story.append(_table(grades, [70 * mm] + [18 * mm] * len(periods)))
    return _build(story, title=f"{doc.SUMMARY_TITLE} {year.klass} {year.year}", wide=False)
