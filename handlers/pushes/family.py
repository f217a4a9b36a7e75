"""The texts of pushes to families: marks, attendance, final grades, homework, digests, the week.

Made when a message is sent, from the journal as it is then, in the recipient's language
(SPEC §5).
"""

from __future__ import annotations

from collections import defaultdict

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from handlers.render import by_sex, day_short, esc, kind_text, mark_text, period_name, pgettext
from services.notifications.content import (
    AttendanceNotice,
    FinalNotice,
    HomeworkNotice,
    MarkNotice,
    MessageContent,
    WeeklyChild,
)


class Composer:
    """Turns a queued notification into the text its recipient reads."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def mark(
        self, child: str, notice: MarkNotice, *, threshold: int, sex: str | None = None
    ) -> str:
        when = day_short(notice.day)
        kind = kind_text(notice.kind_code, notice.kind_name)
        if notice.action == "removed":
            return _(
                "🗑 {child} — {subject}: the mark {was} of {day} was removed. Reason: {reason}"
            ).format(
                child=esc(child),
                was=mark_text(notice.was or "—", sex),
                subject=esc(notice.subject),
                day=when,
                reason=esc(notice.reason),
            )
        value = f"<b>{mark_text(notice.value or '', sex)}</b>"
        low = (
            notice.value is not None
            and notice.value.isdigit()
            and int(notice.value) <= max(2, threshold)
        )
        flag = "⚠️ " if low else ""
        if notice.action == "corrected" and notice.was is not None:
            return flag + _(
                "✎ {child} — {subject}: the mark of {day} ({kind}) was corrected: "
                "{was} → {value}. Reason: {reason}"
            ).format(
                child=esc(child),
                subject=esc(notice.subject),
                day=when,
                kind=kind,
                was=mark_text(notice.was, sex),
                value=value,
                reason=esc(notice.reason),
            )
        return flag + _("📘 {child} — {subject}: {value} ({kind}, {day})").format(
            child=esc(child), value=value, subject=esc(notice.subject), kind=kind, day=when
        )

    def attendance(self, child: str, notice: AttendanceNotice, sex: str | None = None) -> str:
        """Past tense agrees with the pupil's sex in Russian ("опоздала"); unknown: a noun."""
        params = {
            "child": esc(child),
            "subject": esc(notice.subject),
            "day": day_short(notice.day),
            "slot": notice.slot,
        }
        if notice.action == "removed":
            return _(
                "🚸 {child}: the absence from lesson {slot} ({subject}, {day}) was removed from "
                "the journal."
            ).format(**params)
        if notice.kind == "late":
            if notice.minutes_late:
                return by_sex(
                    sex,
                    pgettext(
                        "m",
                        "⏰ {child} was {minutes} min late for lesson {slot} ({subject}, {day}).",
                    ),
                    pgettext(
                        "f",
                        "⏰ {child} was {minutes} min late for lesson {slot} ({subject}, {day}).",
                    ),
                    _("⏰ {child} was {minutes} min late for lesson {slot} ({subject}, {day})."),
                ).format(minutes=notice.minutes_late, **params)
            return by_sex(
                sex,
                pgettext("m", "⏰ {child} was late for lesson {slot} ({subject}, {day})."),
                pgettext("f", "⏰ {child} was late for lesson {slot} ({subject}, {day})."),
                _("⏰ {child} was late for lesson {slot} ({subject}, {day})."),
            ).format(**params)
        return by_sex(
            sex,
            pgettext("m", "🚸 {child} was absent from lesson {slot} ({subject}, {day})."),
            pgettext("f", "🚸 {child} was absent from lesson {slot} ({subject}, {day})."),
            _("🚸 {child} was absent from lesson {slot} ({subject}, {day})."),
        ).format(**params)

    def finals(self, child: str, notices: list[FinalNotice], sex: str | None = None) -> str:
        by_period: dict[str, list[FinalNotice]] = defaultdict(list)
        for notice in notices:
            by_period[period_name(notice.period)].append(notice)
        lines = []
        for period, grades in by_period.items():
            lines.append(
                _("🏁 {child}: final grades for {period}").format(child=esc(child), period=period)
            )
            for grade in sorted(grades, key=lambda g: g.subject):
                corrected = (
                    " " + _("(corrected from {old})").format(old=mark_text(grade.was, sex))
                    if grade.was
                    else ""
                )
                value = mark_text(grade.value, sex)
                lines.append(f"• {esc(grade.subject)}: <b>{value}</b>{corrected}")
        return "\n".join(lines)

    def weekly(self, child: WeeklyChild) -> str:
        lines = [f"👤 <b>{esc(child.name)}</b>"]
        if child.marks:
            by_subject: dict[str, list[str]] = defaultdict(list)
            for mark in child.marks:
                by_subject[mark.subject].append(mark_text(mark.value, child.sex))
            lines.append(
                _("Marks: {marks}").format(
                    marks="; ".join(f"{esc(s)} {' '.join(v)}" for s, v in by_subject.items())
                )
            )
        else:
            lines.append(_("No marks this week."))
        if child.absent or child.late:
            lines.append(_attendance_line(child.absent, child.absent_invalid, child.late))
        if child.forecasts and child.period is not None:
            lines.append(
                _("Forecast for {period}: {grades}").format(
                    period=period_name(child.period),
                    grades=", ".join(
                        f"{esc(subject)} {mark_text(f.grade or '', child.sex)}"
                        + (" ⚠️" if (f.grade or "").isdigit() and int(f.grade or 0) <= 3 else "")
                        for subject, f in child.forecasts
                    ),
                )
            )
        return "\n".join(lines)

    def homework_line(self, notice: HomeworkNotice) -> str:
        return _("{subject} for {day}: {text}").format(
            subject=f"<b>{esc(notice.subject)}</b>",
            day=day_short(notice.due),
            text=esc(notice.text),
        )


def _attendance_line(absent: int, invalid: int, late: int) -> str:
    """The week's missed lessons and lateness in words: "no absences" rather than a zero, and
    the counts in the plural forms of the language."""
    missed = (
        ngettext(
            "Missed {n} lesson ({invalid} without a valid reason).",
            "Missed {n} lessons ({invalid} without a valid reason).",
            absent,
        ).format(n=absent, invalid=invalid)
        if absent
        else _("No missed lessons.")
    )
    if not late:
        return missed
    return missed + " " + ngettext("Late {n} time.", "Late {n} times.", late).format(n=late)


def family_text(composer: Composer, recipient: MessageContent) -> str:
    """Everything one message tells a parent or a student, in the active language."""
    parts: list[str] = []
    for child, marks in recipient.marks.items():
        sex = recipient.sexes.get(child)
        parts.extend(
            composer.mark(child, m, threshold=recipient.low_mark_threshold, sex=sex) for m in marks
        )
    for child, entries in recipient.attendance.items():
        sex = recipient.sexes.get(child)
        parts.extend(composer.attendance(child, a, sex) for a in entries)
    for child, finals in recipient.finals.items():
        parts.append(composer.finals(child, finals, recipient.sexes.get(child)))
    if recipient.homework:
        lines = []
        for child, tasks in recipient.homework.items():
            lines.append(_("📝 Homework for {child}:").format(child=esc(child)))
            lines.extend("• " + composer.homework_line(task) for task in tasks)
        parts.append("\n".join(lines))
    if recipient.week is not None:
        start, end = recipient.week
        parts.append(
            _("📅 The week {start} – {end}").format(start=day_short(start), end=day_short(end))
        )
        parts.extend(composer.weekly(child) for child in recipient.weekly)
    text = "\n\n".join(parts)
    if recipient.is_digest:
        text = _("🌙 Your evening digest") + "\n\n" + text
    return text
