"""Marks: a period by subject, today, a week, one subject, the forecast; charts, report card."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.family.base import (
    not_found,
    period_of_menu,
    period_of_query,
)
from handlers.keyboards import (
    BTN_MARKS,
    ChartCb,
    FinalsCb,
    Keyboard,
    MarksCb,
    MarksView,
    ReportCb,
)
from handlers.render import (
    day_long,
    day_short,
    esc,
    header,
    kind_text,
    mark_text,
    number,
    period_short,
    period_title,
    show,
    weight_text,
)
from services import audit, charts, journal
from services.access import NotFound, StudentRef
from services.accounts import AccountPrefs
from services.db.session import Session
from services.forecast import Forecast
from services.journal import MarkItem, PeriodRef, SchoolContext, SubjectMarks

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")

# Marks heavier than an everyday one (control work, dictation) are shown in bold.
HEAVY = 2


def _mark(item: MarkItem) -> str:
    text = mark_text(item.value)
    if item.weight >= HEAVY:
        text = f"<b>{text}</b>"
    if item.previous is not None:
        text += "✎"
    return text


def _correction(item: MarkItem) -> str:
    if item.previous is None:
        return ""
    return " " + _("(corrected from {old}: {reason})").format(
        old=mark_text(item.previous), reason=esc(item.reason)
    )


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
    if result.raise_hint is not None:
        n = result.raise_hint.count
        hints.append(
            ngettext(
                "{n} more 5 would make it {grade}",
                "{n} more 5s would make it {grade}",
                n,
            ).format(n=n, grade=result.raise_hint.becomes)
        )
    if result.drop_hint is not None:
        n = result.drop_hint.count
        hints.append(
            ngettext(
                "{n} more 2 would make it {grade}",
                "{n} more 2s would make it {grade}",
                n,
            ).format(n=n, grade=result.drop_hint.becomes)
        )
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


def period_row(
    builder: Keyboard,
    context: SchoolContext,
    selected: PeriodRef,
    make: Callable[[int], CallbackData],
) -> None:
    started = [t for t in context.terms if t.starts_on <= context.today]
    if len(started) < 2:
        return
    row = Keyboard()
    for term in started:
        label = ("✅ " if term.id == selected.id else "") + period_short(term)
        row.button(text=label, callback_data=make(term.id))
    builder.attach(row)


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


def period_text(student: StudentRef, period: PeriodRef, subjects: Sequence[SubjectMarks]) -> str:
    lines = [header(student), _("📘 Marks, {period}").format(period=period_title(period)), ""]
    if not any(s.marks for s in subjects):
        lines.append(_("No marks in this period yet."))
        return "\n".join(lines)
    for subject in subjects:
        if subject.marks:
            marks = " ".join(_mark(i) for i in subject.marks)
            average = subject.forecast.average
            tail = (
                " — " + _("avg. {average}").format(average=number(average))
                if average is not None
                else ""
            )
            lines.append(f"<b>{esc(subject.subject)}</b>: {marks}{tail}")
        else:
            lines.append(f"<b>{esc(subject.subject)}</b>: " + _("no marks yet"))
    lines.append("")
    lines.append(_("Bold: control and other heavy work; ✎: corrected mark."))
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
    event: Message | CallbackQuery,
    session: Session,
    *,
    account_id: int,
    student: StudentRef,
    context: SchoolContext,
    period: PeriodRef,
) -> None:
    subjects = await journal.period_subjects(session, student, period, context.profile)
    await audit.viewed(session, account_id=account_id, student_id=student.id, screen="marks")
    await show(
        event,
        period_text(student, period, subjects),
        period_keyboard(student, context, period, subjects),
    )


@router.message(Command("marks"))
@router.message(F.text == BTN_MARKS)
async def marks_menu(
    message: Message, session: Session, account_prefs: AccountPrefs | None
) -> None:
    view = await period_of_menu(message, session, account_prefs)
    if view is None:
        return
    assert message.from_user is not None
    await period_screen(
        message,
        session,
        account_id=message.from_user.id,
        student=view.student,
        context=view.context,
        period=view.period,
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
            f"{_correction(item)}"
        )
    return "\n".join(lines)


async def _day_screen(
    query: CallbackQuery,
    session: Session,
    student: StudentRef,
    context: SchoolContext,
    period: PeriodRef,
) -> None:
    today = context.today
    items = await journal.marks(session, student, start=today, end=today)
    text = days_text(
        student,
        _("📘 Marks for today, {day}").format(day=day_long(today)),
        items,
        _("No marks today."),
    )
    await audit.viewed(
        session, account_id=query.from_user.id, student_id=student.id, screen="marks_today"
    )
    await show(query, text, _nav(student, period, MarksView.TODAY).as_markup())


async def _week_screen(
    query: CallbackQuery,
    session: Session,
    *,
    student: StudentRef,
    context: SchoolContext,
    period: PeriodRef,
    weeks_back: int,
) -> None:
    weeks_back = max(0, min(weeks_back, 60))
    monday = context.today - timedelta(days=context.today.weekday(), weeks=weeks_back)
    sunday = monday + timedelta(days=6)
    items = await journal.marks(session, student, start=monday, end=sunday)
    text = days_text(
        student,
        _("📘 Marks for the week {start} – {end}").format(
            start=day_short(monday), end=day_short(sunday)
        ),
        items,
        _("No marks this week."),
    )
    builder = Keyboard()
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
    await audit.viewed(
        session, account_id=query.from_user.id, student_id=student.id, screen="marks_week"
    )
    await show(query, text, builder.as_markup())


# --- one subject and the forecast ---------------------------------------------------------------


def subject_text(
    student: StudentRef, period: PeriodRef, subject: SubjectMarks, *, min_marks: int
) -> str:
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
        comment = f" — <i>{esc(item.comment)}</i>" if item.comment else ""
        lines.append(
            f"{day_short(item.day)}: <b>{mark_text(item.value)}</b> · "
            f"{kind_text(item.kind_code, item.kind_name)}{weight}{_correction(item)}{comment}"
        )
    lines.append("")
    lines.extend(forecast_lines(subject.forecast, min_marks=min_marks))
    return "\n".join(lines)


async def _subject_screen(
    query: CallbackQuery,
    session: Session,
    *,
    student: StudentRef,
    context: SchoolContext,
    period: PeriodRef,
    subject_id: int,
) -> None:
    try:
        subject = await journal.subject_marks(
            session, student, period, subject_id, context.profile
        )
    except NotFound:
        await not_found(query, session)
        return
    builder = Keyboard()
    builder.button(
        text=_("📈 Chart"), callback_data=ChartCb(s=student.id, sub=subject_id, p=period.id)
    )
    builder.button(
        text=_("◀ All subjects"),
        callback_data=MarksCb(s=student.id, v=MarksView.PERIOD, p=period.id),
    )
    await audit.viewed(
        session, account_id=query.from_user.id, student_id=student.id, screen="marks_subject"
    )
    await show(
        query,
        subject_text(student, period, subject, min_marks=context.profile.min_marks),
        builder.as_markup(),
    )


def forecast_text(
    student: StudentRef, period: PeriodRef, subjects: Sequence[SubjectMarks], *, min_marks: int
) -> str:
    lines = [
        header(student),
        _("📈 Forecast of final grades, {period}").format(period=period_title(period)),
    ]
    shown = [s for s in subjects if s.forecast.grade is not None]
    if not shown:
        lines.extend(["", _("No marks in this period yet, so there is nothing to forecast.")])
        return "\n".join(lines)
    for subject in shown:
        lines.append("")
        lines.append(f"<b>{esc(subject.subject)}</b>")
        lines.extend(forecast_lines(subject.forecast, min_marks=min_marks))
    without = [s.subject for s in subjects if s.forecast.grade is None]
    if without:
        lines.append("")
        lines.append(_("No marks yet: {subjects}.").format(subjects=esc(", ".join(without))))
    lines.append("")
    lines.append(
        _(
            "The forecast is the weighted average rounded by the school's rule; the teacher "
            "sets the final grade."
        )
    )
    return "\n".join(lines)


async def _forecast_screen(
    query: CallbackQuery,
    session: Session,
    student: StudentRef,
    context: SchoolContext,
    period: PeriodRef,
) -> None:
    subjects = await journal.period_subjects(session, student, period, context.profile)
    builder = _nav(student, period, MarksView.FORECAST)
    period_row(
        builder, context, period, lambda p: MarksCb(s=student.id, v=MarksView.FORECAST, p=p)
    )
    await audit.viewed(
        session, account_id=query.from_user.id, student_id=student.id, screen="forecast"
    )
    await show(
        query,
        forecast_text(student, period, subjects, min_marks=context.profile.min_marks),
        builder.as_markup(),
    )


@router.callback_query(MarksCb.filter())
async def marks_button(query: CallbackQuery, callback_data: MarksCb, session: Session) -> None:
    shown = await period_of_query(query, session, callback_data.s, callback_data.p)
    if shown is None:
        return
    student, context, period = shown
    view = callback_data.v
    if view is MarksView.PERIOD:
        await period_screen(
            query,
            session,
            account_id=query.from_user.id,
            student=student,
            context=context,
            period=period,
        )
    elif view is MarksView.TODAY:
        await _day_screen(query, session, student, context, period)
    elif view is MarksView.WEEK:
        await _week_screen(
            query,
            session,
            student=student,
            context=context,
            period=period,
            weeks_back=callback_data.w,
        )
    elif view is MarksView.SUBJECT:
        await _subject_screen(
            query,
            session,
            student=student,
            context=context,
            period=period,
            subject_id=callback_data.sub,
        )
    else:
        await _forecast_screen(query, session, student, context, period)


# --- pictures ---------------------------------------------------------------------------------


@router.callback_query(ChartCb.filter())
async def chart_button(query: CallbackQuery, callback_data: ChartCb, session: Session) -> None:
    view = await period_of_query(query, session, callback_data.s, callback_data.p)
    if view is None:
        return
    student, context, period = view
    try:
        subject = await journal.subject_marks(
            session, student, period, callback_data.sub, context.profile
        )
    except NotFound:
        await not_found(query, session)
        return
    await query.answer(_("Drawing the chart…"))
    labels = charts.ChartLabels(
        title=subject.subject,
        subtitle=f"{student.name}, {student.class_label} · {period_title(period)}",
        marks=_("marks (bigger dot: heavier work)"),
        average=_("weighted average"),
        empty=_("No marks in this period yet."),
    )
    points = [charts.ChartPoint(i.day, i.value, i.weight) for i in subject.marks]
    png = await asyncio.to_thread(
        charts.subject_chart,
        points,
        labels,
        round_from=context.profile.round_from,
        period=(period.starts_on, period.ends_on),
    )
    await audit.viewed(
        session, account_id=query.from_user.id, student_id=student.id, screen="chart"
    )
    if query.message is not None:
        await query.message.answer_photo(
            BufferedInputFile(png, filename="chart.png"),
            caption=header(student) + "\n" + esc(subject.subject),
        )


def _absences(summary: journal.AttendanceSummary) -> dict[str, int]:
    return {subject: absent for subject, absent, _late in summary.per_subject()}


@router.callback_query(ReportCb.filter())
async def report_button(query: CallbackQuery, callback_data: ReportCb, session: Session) -> None:
    view = await period_of_query(query, session, callback_data.s, callback_data.p)
    if view is None:
        return
    student, context, period = view
    await query.answer(_("Preparing the report card…"))
    subjects = await journal.period_subjects(session, student, period, context.profile)
    absences = _absences(await journal.attendance(session, student, period))
    finals = {row.subject: row.grades for row in await journal.finals(session, student, context)}
    rows = []
    for subject in subjects:
        marks = " ".join(mark_text(i.value) for i in subject.marks)
        final = finals.get(subject.subject, {}).get(period.id)
        rows.append(
            charts.ReportRow(
                subject=subject.subject,
                marks=marks if len(marks) <= 48 else marks[:47] + "…",
                average=number(subject.forecast.average) if subject.forecast.average else "—",
                forecast=mark_text(subject.forecast.grade) if subject.forecast.grade else "—",
                absences=str(absences.get(subject.subject, 0)),
                final=mark_text(final[0]) if final else "—",
            )
        )
    document = await asyncio.to_thread(
        charts.report_card,
        rows,
        title=_("Report card"),
        lines=[
            f"{student.name}, {student.class_label}",
            context.school_name,
            period_title(period),
        ],
        columns=[
            _("Subject"),
            _("Marks"),
            _("Average"),
            _("Forecast"),
            _("Absent"),
            _("Grade"),
        ],
        footer=_("Made by the school journal bot on {day}.").format(day=day_long(context.today)),
        pdf=callback_data.pdf,
    )
    await audit.viewed(
        session, account_id=query.from_user.id, student_id=student.id, screen="report_card"
    )
    if query.message is not None:
        extension = "pdf" if callback_data.pdf else "png"
        await query.message.answer_document(
            BufferedInputFile(document, filename=f"report-card-{student.id}.{extension}"),
            caption=header(student) + "\n" + esc(period_title(period)),
        )
