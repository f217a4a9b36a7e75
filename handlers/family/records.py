"""Attendance of a period and the final grades of the year."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from handlers.callbacks import AttendanceCb, FinalsCb, MarksCb, MarksView, YearsCb
from handlers.checks import screen
from handlers.family.base import PeriodCheck, PeriodViewing, StudentCheck, Viewing
from handlers.keyboards import BTN_ATTENDANCE, BTN_FINALS, Keyboard, period_row
from handlers.render import (
    day_short,
    esc,
    header,
    mark_text,
    period_short,
    period_title,
    review_legend,
    review_text,
    show,
)
from services import journal
from services.access import StudentRef
from services.db.session import Session
from services.journal import AttendanceSummary, FinalRow, PeriodRef, SchoolContext

REASONS = {
    "illness": __("illness"),
    "certificate": __("medical certificate"),
    "parent_request": __("parent's request"),
    "school_event": __("school event"),
    "other": __("other reason"),
    "unknown": __("reason not given"),
}
# The latest entries listed one by one; older ones are counted in the totals only.
RECENT = 15


def _reason(code: str) -> str:
    known = REASONS.get(code)
    return str(known) if known is not None else esc(code)


def attendance_text(student: StudentRef, period: PeriodRef, summary: AttendanceSummary) -> str:
    lines = [header(student), _("🚸 Attendance, {period}").format(period=period_title(period)), ""]
    if not summary.items:
        lines.append(_("No absences or lateness in this period."))
        return "\n".join(lines)
    absent, valid = summary.absent, summary.absent_valid
    lines.append(
        ngettext(
            "Missed {n} lesson: {valid} for a valid reason, {invalid} without one.",
            "Missed {n} lessons: {valid} for a valid reason, {invalid} without one.",
            absent,
        ).format(n=absent, valid=valid, invalid=absent - valid)
        if absent
        else _("No missed lessons.")
    )
    if summary.days_missed:
        lines.append(
            ngettext(
                "Days with absences: {n}.", "Days with absences: {n}.", summary.days_missed
            ).format(n=summary.days_missed)
        )
    if summary.late:
        lines.append(
            ngettext("Late {n} time.", "Late {n} times.", summary.late).format(n=summary.late)
        )
    lines.extend(["", _("<b>By subject</b> (missed / late):")])
    for subject, missed, late in summary.per_subject():
        lines.append(f"{esc(subject)}: {missed} / {late}")
    lines.extend(["", _("<b>Latest</b>:")])
    for item in summary.items[:RECENT]:
        valid_text = _("valid") if item.is_valid else _("not valid")
        if item.kind == "late":
            what = (
                _("late by {minutes} min").format(minutes=item.minutes_late)
                if item.minutes_late
                else _("late")
            )
        else:
            what = _("absent")
        lines.append(
            f"{day_short(item.day)}, "
            + _("lesson {slot}").format(slot=item.slot)
            + f", {esc(item.subject)}: {what} · {_reason(item.reason)} ({valid_text})"
        )
    older = len(summary.items) - RECENT
    if older > 0:
        lines.append(
            ngettext("… and {n} earlier entry.", "… and {n} earlier entries.", older).format(
                n=older
            )
        )
    return "\n".join(lines)


async def attendance_screen(
    event: Message | CallbackQuery, *, session: Session, viewing: PeriodViewing
) -> None:
    student, context, period = viewing.student, viewing.context, viewing.period
    summary = await journal.attendance(session, student, period)
    builder = Keyboard()
    period_row(builder, context, period, lambda p: AttendanceCb(s=student.id, p=p))
    await viewing.viewed(session, "attendance")
    await show(event, attendance_text(student, period, summary), builder.as_markup())


# --- final grades ------------------------------------------------------------------------------


def finals_text(student: StudentRef, context: SchoolContext, rows: Sequence[FinalRow]) -> str:
    lines = [header(student), _("🏁 Final grades of the school year"), ""]
    if not rows:
        lines.append(_("No final grades yet this school year."))
        return "\n".join(lines)
    columns = [*context.terms, *((context.year,) if context.year else ())]
    for row in rows:
        cells = []
        for period in columns:
            grade = row.grades.get(period.id)
            if grade is None:
                if period.ends_on < context.today:
                    cells.append(f"{period_short(period)}: —")
                continue
            value, before = grade
            text = f"<b>{mark_text(value, student.sex)}</b>"
            if period.id in row.under_review:
                # Against the school's profile (services/forbidden.py): the value is not shown.
                text = review_text()
            elif before is not None:
                text += " " + _("(corrected from {old})").format(
                    old=mark_text(before, student.sex)
                )
            cells.append(f"{period_short(period)}: {text}")
        lines.append(f"{esc(row.subject)} — " + ", ".join(cells))
    if context.terms:
        lines.append("")
        lines.append(_roman_note(context.terms[0].kind))
    if any(row.under_review for row in rows):
        lines.append(review_legend())
    return "\n".join(lines)


def _roman_note(kind: str) -> str:
    if kind == "trimester":
        return _("I, II, III: the trimesters of the school year.")
    if kind == "half_year":
        return _("I, II: the half-years of the school year.")
    return _("I–IV: the quarters of the school year.")


def finals_keyboard(student: StudentRef) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("📘 Marks"), callback_data=MarksCb(s=student.id, v=MarksView.PERIOD))
    builder.button(
        text=_("📈 Forecast"), callback_data=MarksCb(s=student.id, v=MarksView.FORECAST)
    )
    builder.button(text=_("🗂 Earlier years"), callback_data=YearsCb(s=student.id))
    return builder.as_markup()


async def finals_screen(
    event: Message | CallbackQuery, *, session: Session, viewing: Viewing
) -> None:
    student, context = viewing.student, viewing.context
    rows = await journal.finals(session, student, context)
    await viewing.viewed(session, "finals")
    await show(event, finals_text(student, context, rows), finals_keyboard(student))


def create_router() -> Router:
    router = Router(name=__name__)
    for trigger in (F.text == BTN_ATTENDANCE, Command("attendance")):
        screen(router.message, attendance_screen, trigger, check=PeriodCheck())
    screen(router.callback_query, attendance_screen, AttendanceCb.filter(), check=PeriodCheck())
    for trigger in (F.text == BTN_FINALS, Command("finals")):
        screen(router.message, finals_screen, trigger, check=StudentCheck())
    screen(router.callback_query, finals_screen, FinalsCb.filter(), check=StudentCheck())
    return router
