"""The texts of pushes to staff: reminders of journal entries (their texts live with the
/reminders screen) and the weekly summaries, made when sent in the reader's language
(services/reports.py gathers the facts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.render import day_short, esc
from handlers.teacher.reminders import CATEGORY_NAMES, reminder_keyboard, reminder_text
from services import reports
from services.notifications.transport import Button, Composed
from services.reminders import Category

# Telegram's limits: a message's text and a document's caption.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def _week(payload: dict[str, Any]) -> str:
    return "{start} – {end}".format(
        start=day_short(date.fromisoformat(payload["start"])),
        end=day_short(date.fromisoformat(payload["end"])),
    )


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


def class_week_text(payload: dict[str, Any]) -> str:
    """Seed 000 §6.3, seed 004 §3.3.1: absences (valid or not), 2s and failing forecasts,
    subjects whose teachers are behind."""
    lines = [
        _("🏫 Class {label}: the week {week}").format(
            label=esc(payload.get("class", "")), week=_week(payload)
        ),
        "",
        _("<b>Absences</b> (lessons: with a valid reason / without · late):"),
    ]
    absent = [s for s in payload["students"] if s["valid"] or s["invalid"] or s["late"]]
    lines.extend(
        f"• {esc(s['name'])}: {s['valid']} / <b>{s['invalid']}</b> · {s['late']}"
        if s["invalid"]
        else f"• {esc(s['name'])}: {s['valid']} / 0 · {s['late']}"
        for s in absent
    )
    if not absent:
        lines.append(_("nobody missed a lesson."))
    lines.append("")
    lines.append(_("<b>2s this week and failing forecasts:</b>"))
    worry = [s for s in payload["students"] if s["twos"] or s["failing"]]
    for student in worry:
        parts = []
        if student["twos"]:
            parts.append(_("2s in {subjects}").format(subjects=esc(", ".join(student["twos"]))))
        if student["failing"]:
            parts.append(
                _("forecast 2 in {subjects}").format(subjects=esc(", ".join(student["failing"])))
            )
        lines.append(f"• {esc(student['name'])}: " + "; ".join(parts))
    if not worry:
        lines.append(_("none."))
    lines.append("")
    lines.append(_("<b>Subjects with overdue journal entries:</b>"))
    for subject, count in payload["behind"]:
        lines.append(f"• {esc(subject)}: {count}")
    if not payload["behind"]:
        lines.append(_("none, the journal is up to date."))
    return _fit(lines, TEXT_LIMIT)


def deputy_caption(payload: dict[str, Any]) -> str:
    """Seed 004 §7.1, §4.6.5: the week's journal keeping in short; the file has it all."""
    teachers = payload["teachers"]
    lessons = sum(t["lessons"] for t in teachers)
    expected = sum(t["homework_expected"] for t in teachers)
    lines = [
        _("📊 Journal keeping, the week {week}").format(week=_week(payload)),
        _(
            "Lessons: {n}. Entered on time: topics {topic}%, attendance {att}%, homework {hw}%."
        ).format(
            n=lessons,
            topic=reports.share(
                sum(t["topic"] for t in teachers), sum(t["topic_due"] for t in teachers)
            ),
            att=reports.share(
                sum(t["attendance"] for t in teachers), sum(t["attendance_due"] for t in teachers)
            ),
            hw=reports.share(sum(t["homework"] for t in teachers), expected),
        ),
        _("Marks given: {n}. Overdue entries: {overdue}.").format(
            n=sum(t["marks"] for t in teachers), overdue=len(payload["overdue"])
        ),
    ]
    behind = [t for t in teachers if t["overdue"]][:5]
    if behind:
        lines.append(_("Most behind:"))
        lines.extend(f"• {esc(t['name'])}: {t['overdue']}" for t in behind)
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


def deputy_filename(payload: dict[str, Any]) -> str:
    return f"journal-{payload['start']}-{payload['end']}.xlsx"


def staff_message(payload: dict[str, Any]) -> Composed:
    """A reminder, the class teacher's week or the deputy's week with its XLSX."""
    kind = payload.get("kind")
    if kind == "reminder":
        return Composed(reminder_text(payload), buttons(reminder_keyboard(payload)))
    if kind == "class_week":
        return Composed(class_week_text(payload))
    return Composed(
        deputy_caption(payload),
        document=(deputy_filename(payload), reports.deputy_xlsx(payload, deputy_headers())),
    )


def buttons(markup: InlineKeyboardMarkup) -> tuple[tuple[Button, ...], ...]:
    """An inline keyboard as the channel-neutral rows of buttons the sender takes."""
    return tuple(
        tuple(Button(button.text, button.callback_data or "") for button in row)
        for row in markup.inline_keyboard
    )
