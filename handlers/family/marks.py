"""Marks: a period by subject, today, a week, one subject, the forecast."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import ChartCb, FinalsCb, MarksCb, MarksView, ReportCb
from handlers.checks import not_found, screen
from handlers.family.base import PeriodCheck, PeriodViewing
from handlers.keyboards import BTN_MARKS, Keyboard, period_row
from handlers.render import (
    REVIEW,
    day_long,
    day_short,
    esc,
    header,
    kind_text,
    mark_text,
    number,
    period_title,
    review_legend,
    review_text,
    show,
    weight_text,
)
from services import journal
from services.access import NotFound, StudentRef
from services.db.session import Session
from services.forecast import HINT_LIMIT, Forecast, Hint
from services.journal import (
    MarkItem,
    PeriodFinal,
    PeriodRef,
    PlannedWork,
    SchoolContext,
    SubjectMarks,
)

# Marks heavier than an everyday one (control work, dictation) are shown in bold.
HEAVY = 2
# The week screen goes back at most this many weeks: a school year and a half.
MAX_WEEKS_BACK = 80
# Planned control and written works are shown this far ahead.
PLANNED_AHEAD = timedelta(days=13)


def _mark(item: MarkItem) -> str:
    if item.under_review:
        return REVIEW
    text = mark_text(item.value)
    if item.weight >= HEAVY:
        text = f"<b>{text}</b>"
    if item.previous is not None:
        text += "✎"
    return text


def _review_note(items: Iterable[MarkItem]) -> list[str]:
    """The legend of 🔍, when a mark on the screen is under review."""
    if not any(item.under_review for item in items):
        return []
    return [review_legend()]


def _correction(item: MarkItem) -> str:
    if item.previous is None:
        return ""
    return " " + _("(corrected from {old}: {reason})").format(
        old=mark_text(item.previous), reason=esc(item.reason)
    )


def _about(item: MarkItem) -> str:
    """The lesson's topic and the teacher's comment, beside the mark."""
    parts = []
    if item.topic:
        parts.append(_("topic: {topic}").format(topic=esc(item.topic)))
    if item.comment:
        parts.append(_("comment: {comment}").format(comment=f"<i>{esc(item.comment)}</i>"))
    return "".join(" · " + part for part in parts)


def _hint_text(hint: Hint, *, raising: bool) -> str:
    n = hint.count
    text = (
        ngettext("{n} more 5 would make it {grade}", "{n} more 5s would make it {grade}", n)
        if raising
        else ngettext("{n} more 2 would make it {grade}", "{n} more 2s would make it {grade}", n)
    )
    return text.format(n=n, grade=hint.becomes)


def _beyond_text(grade: str, *, raising: bool) -> str:
    """A change that more than HINT_LIMIT everyday marks would take: said, not left out."""
    n = HINT_LIMIT
    target = int(grade) + (1 if raising else -1)
    text = (
        ngettext(
            "more than {n} more 5 would be needed to make it {grade}",
            "more than {n} more 5s would be needed to make it {grade}",
            n,
        )
        if raising
        else ngettext(
            "more than {n} more 2 would be needed to make it {grade}",
            "more than {n} more 2s would be needed to make it {grade}",
            n,
        )
    )
    return text.format(n=n, grade=target)


def forecast_lines(result: Forecast, *, min_marks: int) -> list[str]:
    """The average, the forecast and what it takes to change it (seed 004 §9.2)."""
    if result.grade is None:
        return [_("No marks yet, so no forecast.")]
    if result.average is None:
        return [
            _("Forecast for the period: <b>{grade}</b>.").format(grade=mark_text(result.grade))
        ]
    lines = [
        _("Weighted average: {average}. Forecast for the period: <b>{grade}</b>.").format(
            average=number(result.average), grade=result.grade
        )
    ]
    hints = []
    for hint, beyond, raising in (
        (result.raise_hint, result.raise_beyond, True),
        (result.drop_hint, result.drop_beyond, False),
    ):
        if hint is not None:
            hints.append(_hint_text(hint, raising=raising))
        elif beyond:
            hints.append(_beyond_text(result.grade, raising=raising))
    if hints:
        lines.append("; ".join(hints) + ".")
    if result.too_few:
        n = result.numeric_count
        lines.append(
            ngettext(
                "Only {n} mark so far: at least {min} are needed for a period grade.",
                "Only {n} marks so far: at least {min} are needed for a period grade.",
                n,
            ).format(n=n, min=min_marks)
        )
    return lines


def final_lines(result: Forecast, final: PeriodFinal | None, sex: str | None = None) -> list[str]:
    """A period that is over, or whose final grade is in: the grade instead of a forecast."""
    if final is None:
        lines = [_("The period is over; the final grade has not been entered yet.")]
    elif final.under_review:
        lines = [_("Final grade for the period: {grade}.").format(grade=review_text())]
    else:
        lines = [
            _("Final grade for the period: <b>{grade}</b>.").format(
                grade=mark_text(final.value, sex)
            )
        ]
    if result.average is not None:
        lines.append(_("Weighted average: {average}.").format(average=number(result.average)))
    return lines


def _settled(context: SchoolContext, period: PeriodRef, final: PeriodFinal | None) -> bool:
    """Whether the period's result is known: it has ended, or the grade is already in."""
    return final is not None or period.ends_on < context.today


def planned_lines(works: Sequence[PlannedWork]) -> list[str]:
    """The control and written works of the next two weeks."""
    lines = ["", _("<b>Control and written works in the next two weeks</b>")]
    if not works:
        lines.append(_("None are planned."))
    for work in works:
        topic = f" ({esc(work.topic)})" if work.topic else ""
        lines.append(
            f"• {day_short(work.day)}, "
            + _("lesson {slot}").format(slot=work.slot)
            + f" — {esc(work.subject)}: {kind_text(work.kind_code, work.kind_name)}{topic}"
        )
    return lines


def _nav(student: StudentRef, period: PeriodRef, here: MarksView) -> Keyboard:
    builder = Keyboard()
    views = (
        (MarksView.PERIOD, _("📘 Period")),
        (MarksView.TODAY, _("Today")),
        (MarksView.WEEK, _("Week")),
        (MarksView.FORECAST, _("📈 Forecast")),
    )
    for view, label in views:
        if view is not here:
            builder.button(text=label, callback_data=MarksCb(s=student.id, v=view, p=period.id))
    builder.adjust(4)
    return builder


# --- the period by subject ---------------------------------------------------------------------


def _final_tail(final: PeriodFinal | None, sex: str | None) -> str:
    if final is None:
        return ""
    grade = review_text() if final.under_review else f"<b>{mark_text(final.value, sex)}</b>"
    return " · " + _("final: {grade}").format(grade=grade)


def period_text(
    student: StudentRef,
    period: PeriodRef,
    subjects: Sequence[SubjectMarks],
    finals: Mapping[int, PeriodFinal] | None = None,
    planned: Sequence[PlannedWork] | None = None,
) -> str:
    """The period by subject, each with its final grade once it is in; `planned`, for the
    current period, the control and written works of the next two weeks."""
    finals = finals or {}
    lines = [header(student), _("📘 Marks, {period}").format(period=period_title(period)), ""]
    if not any(s.marks for s in subjects):
        lines.append(_("No marks in this period yet."))
        if planned is not None:
            lines.extend(planned_lines(planned))
        return "\n".join(lines)
    for subject in subjects:
        final = _final_tail(finals.get(subject.subject_id), student.sex)
        if subject.marks:
            marks = " ".join(_mark(i) for i in subject.marks)
            average = subject.forecast.average
            tail = (
                " — " + _("avg. {average}").format(average=number(average))
                if average is not None
                else ""
            )
            lines.append(f"<b>{esc(subject.subject)}</b>: {marks}{tail}{final}")
        else:
            lines.append(f"<b>{esc(subject.subject)}</b>: " + _("no marks yet") + final)
    if planned is not None:
        lines.extend(planned_lines(planned))
    lines.append("")
    lines.append(_("Bold: control and other heavy work; ✎: corrected mark."))
    lines.extend(_review_note(i for subject in subjects for i in subject.marks))
    return "\n".join(lines)


def period_keyboard(
    student: StudentRef,
    context: SchoolContext,
    period: PeriodRef,
    subjects: Sequence[SubjectMarks],
) -> InlineKeyboardMarkup:
    builder = _nav(student, period, MarksView.PERIOD)
    subject_rows = Keyboard()
    for subject in subjects:
        if subject.marks:
            subject_rows.button(
                text=subject.subject,
                callback_data=MarksCb(
                    s=student.id, v=MarksView.SUBJECT, p=period.id, sub=subject.subject_id
                ),
            )
    subject_rows.adjust(2)
    builder.attach(subject_rows)
    period_row(builder, context, period, lambda p: MarksCb(s=student.id, v=MarksView.PERIOD, p=p))
    extra = Keyboard()
    extra.button(text=_("🏁 Final grades"), callback_data=FinalsCb(s=student.id))
    extra.button(text=_("📄 Report card"), callback_data=ReportCb(s=student.id, p=period.id))
    extra.button(
        text=_("🖼 As a picture"), callback_data=ReportCb(s=student.id, p=period.id, pdf=False)
    )
    extra.adjust(1, 2)
    builder.attach(extra)
    return builder.as_markup()


async def period_screen(
    event: Message | CallbackQuery, *, session: Session, viewing: PeriodViewing
) -> None:
    student, context, period = viewing.student, viewing.context, viewing.period
    subjects = await journal.period_subjects(session, student, period, context.profile)
    finals = await journal.period_finals(session, student, period, context.profile)
    planned = None
    if period.holds(context.today):
        today = context.today
        planned = await journal.planned_works(
            session, student, start=today, end=today + PLANNED_AHEAD
        )
    await viewing.viewed(session, "marks")
    await show(
        event,
        period_text(student, period, subjects, finals, planned),
        period_keyboard(student, context, period, subjects),
    )


# --- today and a week ------------------------------------------------------------------------


def days_text(student: StudentRef, title: str, items: Sequence[MarkItem], empty: str) -> str:
    lines = [header(student), title, ""]
    if not items:
        lines.append(empty)
        return "\n".join(lines)
    current: date | None = None
    for item in items:
        if item.day != current:
            if current is not None:
                lines.append("")
            lines.append(f"<b>{day_long(item.day)}</b>")
            current = item.day
        lines.append(
            f"{esc(item.subject)}: {_mark(item)} · {kind_text(item.kind_code, item.kind_name)}"
            f"{_correction(item)}{_about(item)}"
        )
    note = _review_note(items)
    return "\n".join([*lines, "", *note] if note else lines)


async def today_screen(
    event: Message | CallbackQuery, *, session: Session, viewing: PeriodViewing
) -> None:
    student, today = viewing.student, viewing.context.today
    items = await journal.marks(
        session, student, start=today, end=today, profile=viewing.context.profile
    )
    text = days_text(
        student,
        _("📘 Marks for today, {day}").format(day=day_long(today)),
        items,
        _("No marks today."),
    )
    await viewing.viewed(session, "marks_today")
    await show(event, text, _nav(student, viewing.period, MarksView.TODAY).as_markup())


async def week_screen(
    event: Message | CallbackQuery,
    *,
    session: Session,
    viewing: PeriodViewing,
    callback_data: MarksCb | None = None,
) -> None:
    """This week's marks (/week), or a week before from the buttons."""
    student, context, period = viewing.student, viewing.context, viewing.period
    weeks_back = callback_data.w if callback_data is not None else 0
    if isinstance(event, CallbackQuery) and not 0 <= weeks_back <= MAX_WEEKS_BACK:
        await not_found(event, session, viewing.account_id, student.id)
        return
    monday = context.today - timedelta(days=context.today.weekday(), weeks=weeks_back)
    sunday = monday + timedelta(days=6)
    items = await journal.marks(
        session, student, start=monday, end=sunday, profile=context.profile
    )
    text = days_text(
        student,
        _("📘 Marks for the week {start} – {end}").format(
            start=day_short(monday), end=day_short(sunday)
        ),
        items,
        _("No marks this week."),
    )
    builder = Keyboard()
    if weeks_back < MAX_WEEKS_BACK:
        builder.button(
            text=_("◀ Previous week"),
            callback_data=MarksCb(s=student.id, v=MarksView.WEEK, p=period.id, w=weeks_back + 1),
        )
    if weeks_back > 0:
        builder.button(
            text=_("Next week ▶"),
            callback_data=MarksCb(s=student.id, v=MarksView.WEEK, p=period.id, w=weeks_back - 1),
        )
    builder.attach(_nav(student, period, MarksView.WEEK))
    await viewing.viewed(session, "marks_week")
    await show(event, text, builder.as_markup())


# --- one subject and the forecast ---------------------------------------------------------------


def subject_text(
    student: StudentRef,
    period: PeriodRef,
    subject: SubjectMarks,
    *,
    min_marks: int,
    final: PeriodFinal | None = None,
    settled: bool = False,
) -> str:
    """One subject's marks with their topics and comments; the forecast, or once the period
    is `settled` its final grade."""
    lines = [
        header(student),
        _("📘 {subject}, {period}").format(
            subject=esc(subject.subject), period=period_title(period)
        ),
        "",
    ]
    if not subject.marks:
        lines.append(_("No marks in this period yet."))
    for item in subject.marks:
        weight = (
            " " + _("(weight {weight})").format(weight=weight_text(item.weight))
            if item.weight != 1
            else ""
        )
        value = review_text() if item.under_review else f"<b>{mark_text(item.value)}</b>"
        lines.append(
            f"{day_short(item.day)}: {value} · "
            f"{kind_text(item.kind_code, item.kind_name)}{weight}{_correction(item)}"
            f"{_about(item)}"
        )
    lines.append("")
    if settled:
        lines.extend(final_lines(subject.forecast, final, student.sex))
    else:
        lines.extend(forecast_lines(subject.forecast, min_marks=min_marks))
    note = _review_note(subject.marks)
    return "\n".join([*lines, "", *note] if note else lines)


async def subject_screen(
    query: CallbackQuery, *, callback_data: MarksCb, session: Session, viewing: PeriodViewing
) -> None:
    student, context, period = viewing.student, viewing.context, viewing.period
    subject_id = callback_data.sub
    try:
        subject = await journal.subject_marks(
            session, student, period, subject_id, context.profile
        )
    except NotFound:
        # A subject the student does not take, or another school's: a forged or stale button.
        await not_found(query, session, viewing.account_id, student.id)
        return
    final = (await journal.period_finals(session, student, period, context.profile)).get(
        subject_id
    )
    builder = Keyboard()
    builder.button(
        text=_("📈 Chart"), callback_data=ChartCb(s=student.id, sub=subject_id, p=period.id)
    )
    builder.button(
        text=_("◀ All subjects"),
        callback_data=MarksCb(s=student.id, v=MarksView.PERIOD, p=period.id),
    )
    await viewing.viewed(session, "marks_subject")
    await show(
        query,
        subject_text(
            student,
            period,
            subject,
            min_marks=context.profile.min_marks,
            final=final,
            settled=_settled(context, period, final),
        ),
        builder.as_markup(),
    )


def forecast_text(
    student: StudentRef,
    period: PeriodRef,
    subjects: Sequence[SubjectMarks],
    *,
    min_marks: int,
    finals: Mapping[int, PeriodFinal] | None = None,
    ended: bool = False,
) -> str:
    """The forecast of each subject; a subject whose final grade is in, or every subject of a
    period that has `ended`, shows the final grade instead."""
    finals = finals or {}
    title = _("🏁 Results of {period}") if ended else _("📈 Forecast of final grades, {period}")
    lines = [header(student), title.format(period=period_title(period))]
    settled = {s.subject_id for s in subjects if ended or s.subject_id in finals}
    shown = [s for s in subjects if s.forecast.grade is not None or s.subject_id in finals]
    if not shown:
        lines.extend(["", _("No marks in this period yet, so there is nothing to forecast.")])
        return "\n".join(lines)
    for subject in shown:
        lines.append("")
        lines.append(f"<b>{esc(subject.subject)}</b>")
        if subject.subject_id in settled:
            lines.extend(
                final_lines(subject.forecast, finals.get(subject.subject_id), student.sex)
            )
        else:
            lines.extend(forecast_lines(subject.forecast, min_marks=min_marks))
    listed = {s.subject_id for s in shown}
    without = [s.subject for s in subjects if s.subject_id not in listed]
    if without:
        lines.append("")
        lines.append(_("No marks yet: {subjects}.").format(subjects=esc(", ".join(without))))
    if not ended:
        lines.append("")
        lines.append(
            _(
                "The forecast is the weighted average rounded by the school's rule; the "
                "teacher sets the final grade."
            )
        )
    return "\n".join(lines)


async def forecast_screen(
    event: Message | CallbackQuery, *, session: Session, viewing: PeriodViewing
) -> None:
    """The forecast of the period's grades (/forecast); a period over shows its results."""
    student, context, period = viewing.student, viewing.context, viewing.period
    subjects = await journal.period_subjects(session, student, period, context.profile)
    finals = await journal.period_finals(session, student, period, context.profile)
    builder = _nav(student, period, MarksView.FORECAST)
    period_row(
        builder, context, period, lambda p: MarksCb(s=student.id, v=MarksView.FORECAST, p=p)
    )
    await viewing.viewed(session, "forecast")
    await show(
        event,
        forecast_text(
            student,
            period,
            subjects,
            min_marks=context.profile.min_marks,
            finals=finals,
            ended=period.ends_on < context.today,
        ),
        builder.as_markup(),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    commands: tuple[tuple[Callable[..., Awaitable[None]], Command], ...] = (
        (period_screen, Command("marks")),
        (today_screen, Command("today")),
        (week_screen, Command("week")),
        (forecast_screen, Command("forecast")),
    )
    screen(router.message, period_screen, F.text == BTN_MARKS, check=PeriodCheck())
    for shown, command in commands:
        screen(router.message, shown, command, check=PeriodCheck())
    views: tuple[tuple[MarksView, Callable[..., Awaitable[None]]], ...] = (
        (MarksView.PERIOD, period_screen),
        (MarksView.TODAY, today_screen),
        (MarksView.WEEK, week_screen),
        (MarksView.SUBJECT, subject_screen),
        (MarksView.FORECAST, forecast_screen),
    )
    for view, handler in views:
        screen(router.callback_query, handler, MarksCb.filter(F.v == view), check=PeriodCheck())
    return router
