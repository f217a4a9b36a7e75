"""The texts of the class teacher's daily attendance check (seed 001 §4.2.3) and of the alert
of too few marks (seed 003 §8.4, seed 004 §5.2), made when sent in the reader's language
(services/duties.py gathers the facts)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.family.records import REASONS
from handlers.render import day_short, esc
from services.notifications.payloads import ClassDay, DayAbsence, FewMarks


def _absence(entry: DayAbsence) -> str:
    lessons = ", ".join(str(slot) for slot in entry.slots)
    what = (
        ngettext("late for lesson {lessons}", "late for lessons {lessons}", len(entry.slots))
        if entry.late
        else ngettext(
            "absent from lesson {lessons}", "absent from lessons {lessons}", len(entry.slots)
        )
    ).format(lessons=lessons)
    known = REASONS.get(entry.reason)
    reason = str(known) if known is not None else esc(entry.reason)
    validity = _("valid") if entry.valid else f"<b>{_('not valid')}</b>"
    return f"• {esc(entry.name)}: {what} ({reason}, {validity})"


def class_day_text(payload: ClassDay) -> str:
    """Who missed or was late for which lessons and why, or everyone present; and the lessons
    whose attendance is not taken yet."""
    lines = [
        _("🚸 Class {label}: attendance on {day}").format(
            label=esc(payload.class_label), day=day_short(payload.day)
        ),
        "",
    ]
    lines.extend(_absence(entry) for entry in payload.absences)
    if not payload.absences:
        lines.append(_("Everyone was present."))
    if payload.untaken:
        lines.append("")
        lines.append(_("<b>Attendance not taken yet:</b>"))
        lines.extend(
            _("• lesson {n}, {subject}").format(n=slot, subject=esc(subject))
            for slot, subject in payload.untaken
        )
    return "\n".join(lines)


def few_marks_text(payload: FewMarks) -> str:
    """Per subject (and its teacher, for the class teacher) the students with fewer numeric
    marks than the school's `min_marks`, and how many they have."""
    lines = [
        _("⚠️ Class {label}: the period ends on {day}, too few marks").format(
            label=esc(payload.class_label), day=day_short(payload.ends_on)
        ),
        ngettext(
            "Students with fewer than {n} mark so far:",
            "Students with fewer than {n} marks so far:",
            payload.min_marks,
        ).format(n=payload.min_marks),
    ]
    for subject in payload.subjects:
        lines.append("")
        head = f"<b>{esc(subject.subject)}</b>"
        lines.append(head if payload.staff_id is not None else f"{head}, {esc(subject.teacher)}")
        lines.extend(
            ngettext("• {name}: {n} mark", "• {name}: {n} marks", marks).format(
                name=esc(name), n=marks
            )
            for name, marks in subject.students
        )
    return "\n".join(lines)
