"""Marks as pictures: a subject's chart, and the report card as a PDF or an image."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import ChartCb, ReportCb
from handlers.checks import not_found, screen
from handlers.family.base import PeriodCheck, PeriodViewing
from handlers.render import day_long, esc, header, mark_text, number, period_title
from services import charts, journal
from services.access import NotFound
from services.db.session import Session


async def chart_button(
    query: CallbackQuery, *, callback_data: ChartCb, session: Session, viewing: PeriodViewing
) -> None:
    student, context, period = viewing.student, viewing.context, viewing.period
    try:
        subject = await journal.subject_marks(
            session, student, period, callback_data.sub, context.profile
        )
    except NotFound:
        await not_found(query, session, viewing.account_id)
        return
    await query.answer(_("Drawing the chart…"))
    labels = charts.ChartLabels(
        title=subject.subject,
        subtitle=f"{student.name}, {student.class_label} · {period_title(period)}",
        marks=_("marks (bigger dot: heavier work)"),
        average=_("weighted average"),
        empty=_("No marks in this period yet."),
    )
    # A mark under review (services/forbidden.py) is neither drawn nor averaged.
    points = [
        charts.ChartPoint(i.day, i.value, i.weight) for i in subject.marks if not i.under_review
    ]
    png = await asyncio.to_thread(
        charts.subject_chart,
        points,
        labels,
        round_from=context.profile.round_from,
        period=(period.starts_on, period.ends_on),
    )
    await viewing.viewed(session, "chart")
    if query.message is not None:
        await query.message.answer_photo(
            BufferedInputFile(png, filename="chart.png"),
            caption=header(student) + "\n" + esc(subject.subject),
        )


def _absences(summary: journal.AttendanceSummary) -> dict[str, int]:
    return {subject: absent for subject, absent, _late in summary.per_subject()}


async def report_button(
    query: CallbackQuery, *, callback_data: ReportCb, session: Session, viewing: PeriodViewing
) -> None:
    student, context, period = viewing.student, viewing.context, viewing.period
    await query.answer(_("Preparing the report card…"))
    subjects = await journal.period_subjects(session, student, period, context.profile)
    absences = _absences(await journal.attendance(session, student, period))
    finals = {row.subject: row for row in await journal.finals(session, student, context)}
    rows = []
    for subject in subjects:
        # Marks under review (services/forbidden.py) are not on the report card.
        marks = " ".join(mark_text(i.value) for i in subject.marks if not i.under_review)
        row = finals.get(subject.subject)
        final = row.grades.get(period.id) if row is not None else None
        if row is not None and period.id in row.under_review:
            final = (_("under review"), None)
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
    await viewing.viewed(session, "report_card")
    if query.message is not None:
        extension = "pdf" if callback_data.pdf else "png"
        await query.message.answer_document(
            BufferedInputFile(document, filename=f"report-card-{student.id}.{extension}"),
            caption=header(student) + "\n" + esc(period_title(period)),
        )


def create_router() -> Router:
    router = Router(name=__name__)
    screen(router.callback_query, chart_button, ChartCb.filter(), check=PeriodCheck())
    screen(router.callback_query, report_button, ReportCb.filter(), check=PeriodCheck())
    return router
