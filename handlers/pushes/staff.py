"""The texts of pushes to staff: reminders of journal entries (their texts live with the
/reminders screen) and the weekly summaries with the deputy's XLSX, made when sent in the
reader's language (services/reports.py gathers the facts)."""

from __future__ import annotations

import io
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.pushes.duties import class_day_text, few_marks_text
from handlers.pushes.period_sheets import sheet_message
from handlers.render import day_short, esc, mark_text, period_short
from handlers.teacher.reminders import CATEGORY_NAMES, reminder_keyboard, reminder_text
from services.journal import PeriodRef
from services.notifications.payloads import (
    ClassDay,
    ClassPeriodSheet,
    ClassWeek,
    CorrectionEntry,
    DeputyWeek,
    FewMarks,
    Reminder,
    SchoolPeriodSheet,
    StaffPayload,
)
from services.notifications.transport import Button, Composed
from services.reminders import Category

# Telegram's limits: a message's text and a document's caption.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def _week(payload: ClassWeek | DeputyWeek) -> str:
    return f"{day_short(payload.start)} – {day_short(payload.end)}"


def _fit(lines: list[str], limit: int) -> str:
    """Whole lines up to Telegram's limit, and a note of how many more were left out."""
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > limit - 40:
            out.append(_("… and {n} more lines").format(n=len(lines) - index))
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def class_week_text(payload: ClassWeek) -> str:
    """Seed 000 §6.3, seed 004 §3.3.1: absences (valid or not), 2s and failing forecasts,
    subjects whose teachers are behind."""
    lines = [
        _("🏫 Class {label}: the week {week}").format(
            label=esc(payload.class_label), week=_week(payload)
        ),
        "",
        _("<b>Absences</b> (lessons: with a valid reason / without · late):"),
    ]
    absent = [s for s in payload.students if s.valid or s.invalid or s.late]
    lines.extend(
        f"• {esc(s.name)}: {s.valid} / <b>{s.invalid}</b> · {s.late}"
        if s.invalid
        else f"• {esc(s.name)}: {s.valid} / 0 · {s.late}"
        for s in absent
    )
    if not absent:
        lines.append(_("nobody missed a lesson."))
    lines.append("")
    lines.append(_("<b>2s this week and failing forecasts:</b>"))
    worry = [s for s in payload.students if s.twos or s.failing]
    for student in worry:
        parts = []
        if student.twos:
            parts.append(_("2s in {subjects}").format(subjects=esc(", ".join(student.twos))))
        if student.failing:
            parts.append(
                _("forecast 2 in {subjects}").format(subjects=esc(", ".join(student.failing)))
            )
        lines.append(f"• {esc(student.name)}: " + "; ".join(parts))
    if not worry:
        lines.append(_("none."))
    lines.append("")
    lines.append(_("<b>Subjects with overdue journal entries:</b>"))
    for subject, count in payload.behind:
        lines.append(f"• {esc(subject)}: {count}")
    if not payload.behind:
        lines.append(_("none, the journal is up to date."))
    return _fit(lines, TEXT_LIMIT)


def deputy_caption(payload: DeputyWeek) -> str:
    """Seed 004 §7.1, §4.6.5: the week's journal keeping in short; the file has it all."""
    teachers = payload.teachers
    lessons = sum(t.lessons for t in teachers)
    expected = sum(t.homework_expected for t in teachers)
    lines = [
        _("📊 Journal keeping, the week {week}").format(week=_week(payload)),
        _(
            "Lessons: {n}. Entered on time: topics {topic}%, attendance {att}%, homework {hw}%."
        ).format(
            n=lessons,
            topic=share(sum(t.topic for t in teachers), sum(t.topic_due for t in teachers)),
            att=share(
                sum(t.attendance for t in teachers), sum(t.attendance_due for t in teachers)
            ),
            hw=share(sum(t.homework for t in teachers), expected),
        ),
        _("Marks given: {n}. Overdue entries: {overdue}.").format(
            n=sum(t.marks for t in teachers), overdue=len(payload.overdue)
        ),
    ]
    against = [g for g in payload.overdue if g.category == Category.FORBIDDEN]
    if against:
        # Seed 000 §5.8, seed 001 §4.3.6, seed 004 §5.3: kept from families until put right.
        lines.append(
            _("Entries against the school's rules (not shown to families): {n}.").format(
                n=sum(g.missing or 1 for g in against)
            )
        )
        lines.extend(
            f"• {esc(g.teacher)}: {esc(g.class_label)}, {esc(g.subject)}, «{esc(g.value)}»"
            for g in against[:5]
        )
    behind = [t for t in teachers if t.overdue][:5]
    if behind:
        lines.append(_("Most behind:"))
        lines.extend(f"• {esc(t.name)}: {t.overdue}" for t in behind)
    lines.extend(_corrections_lines(payload))
    lines.append(_("Per teacher and every overdue entry: in the attached file."))
    return _fit(lines, CAPTION_LIMIT)


def _mark_or_removed(value: str | None) -> str:
    return _("removed") if value is None else mark_text(value)


def _days_later(days: int) -> str:
    return ngettext("{n} day after the lesson", "{n} days after the lesson", days).format(n=days)


def _corrections_lines(payload: DeputyWeek) -> list[str]:
    """Seed 003 §8.6: every correction is in the file; the caption counts them and names the
    ones made later than the regulation allows."""
    if not payload.corrections:
        return []
    late = [c for c in payload.corrections if c.late]
    lines = [_("Marks corrected or removed: {n}.").format(n=len(payload.corrections))]
    if late:
        days = payload.correction_days
        lines.append(
            ngettext(
                "⚠️ Later than {days} day after the lesson: {n}",
                "⚠️ Later than {days} days after the lesson: {n}",
                days,
            ).format(days=days, n=len(late))
        )
        lines.extend(_correction_line(c) for c in late[:5])
    return lines


def _corrected(entry: CorrectionEntry) -> str:
    """The subject, and for a final grade its period: «Алгебра, итоговая за II»."""
    if entry.period_kind is None or entry.period_number is None:
        return entry.subject
    period = PeriodRef(0, entry.period_kind, entry.period_number, entry.day, entry.day)
    return _("{subject}, final grade for {period}").format(
        subject=entry.subject, period=period_short(period)
    )


def _correction_line(entry: CorrectionEntry) -> str:
    return _("• {teacher}, {cls} {subject}, {day}: {was} → {value} ({later})").format(
        teacher=esc(entry.teacher or "—"),
        cls=esc(entry.class_label),
        subject=esc(_corrected(entry)),
        day=day_short(entry.day),
        was=mark_text(entry.was or "—"),
        value=_mark_or_removed(entry.value),
        later=_days_later(entry.days),
    )


def deputy_headers(correction_days: int = 7) -> dict[str, str]:
    headers = {
        "sheet_corrections": _("Corrections"),
        "student": _("Student"),
        "corrected_on": _("Corrected on"),
        "author": _("Corrected by"),
        "was": _("Was"),
        "now": _("Now"),
        "reason": _("Reason"),
        "days": _("Days after the lesson"),
        "late": ngettext("Later than {n} day", "Later than {n} days", correction_days).format(
            n=correction_days
        ),
        "yes": _("yes"),
        "removed": _("removed"),
        "sheet_teachers": _("Teachers"),
        "sheet_overdue": _("Overdue"),
        "teacher": _("Teacher"),
        "lessons": _("Lessons"),
        "topic": _("Topic on time, %"),
        "attendance": _("Attendance on time, %"),
        "homework": _("Homework on time, %"),
        "marks": _("Marks given"),
        "overdue_marks": _("Written work not marked"),
        "overdue": _("Overdue entries"),
        "class": _("Class"),
        "subject": _("Subject"),
        "date": _("Date"),
        "what": _("What is missing"),
        "students": _("Students"),
    }
    for category in Category:
        headers["category:" + category] = str(CATEGORY_NAMES[category])
    return headers


def deputy_filename(payload: DeputyWeek) -> str:
    return f"journal-{payload.start.isoformat()}-{payload.end.isoformat()}.xlsx"


def share(part: int, whole: int) -> int:
    """A whole percentage; 100 when there was nothing to do."""
    return round(100 * part / whole) if whole else 100


def _share_cell(part: int, whole: int) -> int | str:
    """The workbook's percentage: "—" when there was nothing to do (no lessons), never a
    100 % earned by doing nothing."""
    return share(part, whole) if whole else "—"


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula is stored as text."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def deputy_xlsx(payload: DeputyWeek, headers: dict[str, str]) -> bytes:
    """The deputy's report as a workbook: a sheet per teacher's figures, one of overdue work.

    `headers` carries the column titles in the reader's language."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = headers["sheet_teachers"][:31]
    columns = [
        headers["teacher"],
        headers["lessons"],
        headers["topic"],
        headers["attendance"],
        headers["homework"],
        headers["marks"],
        headers["overdue_marks"],
        headers["overdue"],
    ]
    sheet.append(columns)
    for teacher in payload.teachers:
        sheet.append(
            [
                _cell(teacher.name),
                teacher.lessons,
                _share_cell(teacher.topic, teacher.topic_due),
                _share_cell(teacher.attendance, teacher.attendance_due),
                _share_cell(teacher.homework, teacher.homework_expected),
                teacher.marks,
                teacher.overdue_marks,
                teacher.overdue,
            ]
        )
    overdue = book.create_sheet(headers["sheet_overdue"][:31])
    overdue.append(
        [
            headers["teacher"],
            headers["class"],
            headers["subject"],
            headers["date"],
            headers["what"],
            headers["students"],
        ]
    )
    # By teacher, then date: the deputy goes through it one teacher at a time.
    ordered = sorted(
        payload.overdue, key=lambda g: (g.teacher.casefold(), g.day, g.slot, g.class_label)
    )
    for gap in ordered:
        overdue.append(
            [
                _cell(gap.teacher),
                _cell(gap.class_label),
                _cell(gap.subject),
                gap.day,
                headers["category:" + gap.category]
                + (f": {gap.value}" if gap.value is not None else ""),
                gap.missing or None,
            ]
        )
    corrections = _corrections_sheet(book, payload, headers)
    for ws in (sheet, overdue, corrections):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(45, max(10, width + 2))
    overdue.auto_filter.ref = overdue.dimensions
    for row in overdue.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = "DD.MM.YYYY"
    for row in corrections.iter_rows(min_row=2, min_col=5, max_col=6):
        for cell in row:
            cell.number_format = "DD.MM.YYYY"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _corrections_sheet(book: Any, payload: DeputyWeek, headers: dict[str, str]) -> Any:
    """Every correction of a mark in the week (seed 003 §8.6), the late ones flagged in red."""
    from openpyxl.styles import Font

    sheet = book.create_sheet(headers["sheet_corrections"][:31])
    sheet.append(
        [
            headers[key]
            for key in (
                *("author", "class", "subject", "student", "date", "corrected_on"),
                *("was", "now", "reason", "days", "late"),
            )
        ]
    )
    for entry in payload.corrections:
        sheet.append(
            [
                _cell(entry.teacher or "—"),
                _cell(entry.class_label),
                _cell(_corrected(entry)),
                _cell(entry.student),
                entry.day,
                entry.corrected_on,
                _cell(mark_text(entry.was or "—")),
                _cell(headers["removed"] if entry.value is None else mark_text(entry.value)),
                _cell(entry.reason),
                entry.days,
                headers["yes"] if entry.late else None,
            ]
        )
        if entry.late:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(color="C00000")
    return sheet


def staff_message(payload: StaffPayload) -> Composed:
    """A reminder, the class teacher's week or the deputy's week with its XLSX."""
    if isinstance(payload, Reminder):
        return Composed(reminder_text(payload), buttons(reminder_keyboard(payload)))
    if isinstance(payload, ClassWeek):
        return Composed(class_week_text(payload))
    if isinstance(payload, ClassPeriodSheet | SchoolPeriodSheet):
        return sheet_message(payload)
    if isinstance(payload, ClassDay):
        return Composed(class_day_text(payload))
    if isinstance(payload, FewMarks):
        # A class teacher's summary of every subject may outgrow one message.
        return Composed(_fit(few_marks_text(payload).split("\n"), TEXT_LIMIT))
    return Composed(
        deputy_caption(payload),
        document=(
            deputy_filename(payload),
            deputy_xlsx(payload, deputy_headers(payload.correction_days)),
        ),
    )


def buttons(markup: InlineKeyboardMarkup) -> tuple[tuple[Button, ...], ...]:
    """An inline keyboard as the channel-neutral rows of buttons the sender takes."""
    return tuple(
        tuple(Button(button.text, button.callback_data or "") for button in row)
        for row in markup.inline_keyboard
    )
