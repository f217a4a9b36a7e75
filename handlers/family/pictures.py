"""Marks as pictures: a subject's chart, and the report card as a PDF or an image."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import ChartCb, ReportCb
from handlers.checks import not_found, screen
from handlers.family.base import PeriodCheck, PeriodViewing
from handlers.render import esc, header, period_title
from handlers.report_card import card_caption, card_document, card_filename
from services import charts, journal, report_card
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


async def report_button(
    query: CallbackQuery, *, callback_data: ReportCb, session: Session, viewing: PeriodViewing
) -> None:
    student, context, period = viewing.student, viewing.context, viewing.period
    await query.answer(_("Preparing the report card…"))
    card = await report_card.build(session, student, period, context)
    document = await asyncio.to_thread(card_document, card, pdf=callback_data.pdf)
    await viewing.viewed(session, "report_card")
    if query.message is not None:
        extension = "pdf" if callback_data.pdf else "png"
        await query.message.answer_document(
            BufferedInputFile(document, filename=card_filename(card, extension)),
            caption=card_caption(card),
        )


def create_router() -> Router:
    router = Router(name=__name__)
    screen(router.callback_query, chart_button, ChartCb.filter(), check=PeriodCheck())
    screen(router.callback_query, report_button, ReportCb.filter(), check=PeriodCheck())
    return router
