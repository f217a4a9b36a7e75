"""The texts of pushes to staff: reminders of journal entries (their texts live with the
/reminders screen) and the weekly summaries with the deputy's XLSX, made when sent in the
reader's language (services/reports.py gathers the facts)."""

from __future__ import annotations

import io
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.render import day_short, esc
from handlers.teacher.reminders import CATEGORY_NAMES, reminder_keyboard, reminder_text
from services.notifications.payloads import ClassWeek, DeputyWeek, Reminder, StaffPayload
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
    behind = [t for t in teachers if t.overdue][:5]
    if behind:
        lines.append(_("Most behind:"))
        lines.extend(f"• {esc(t.name)}: {t.overdue}" for t in behind)
    lines.append(_("Per teacher and every overdue entry: in the attached file."))
    return _fit(lines, CAPTION_LIMIT)


def deputy_headers() -> dict[str, str]:
    headers = {
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
                share(teacher.topic, teacher.topic_due),
                share(teacher.attendance, teacher.attendance_due),
                share(teacher.homework, teacher.homework_expected),
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
    for gap in payload.overdue:
        overdue.append(
            [
                _cell(gap.teacher),
                _cell(gap.class_label),
                _cell(gap.subject),
                gap.day,
                headers["category:" + gap.category],
                gap.missing or None,
            ]
        )
    for ws in (sheet, overdue):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(45, max(10, width + 2))
    for row in overdue.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = "DD.MM.YYYY"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def staff_message(payload: StaffPayload) -> Composed:
    """A reminder, the class teacher's week or the deputy's week with its XLSX."""
    if isinstance(payload, Reminder):
        return Composed(reminder_text(payload), buttons(reminder_keyboard(payload)))
    if isinstance(payload, ClassWeek):
        return Composed(class_week_text(payload))
    return Composed(
        deputy_caption(payload),
        document=(deputy_filename(payload), deputy_xlsx(payload, deputy_headers())),
    )


def buttons(markup: InlineKeyboardMarkup) -> tuple[tuple[Button, ...], ...]:
    """An inline keyboard as the channel-neutral rows of buttons the sender takes."""
    return tuple(
        tuple(Button(button.text, button.callback_data or "") for button in row)
        for row in markup.inline_keyboard
    )
