"""Marks as pictures: a subject's chart, and the report card as a PDF or a phone's picture."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from aiogram import Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from handlers.callbacks import ChartCb, ReportCb
from handlers.checks import not_found, screen
from handlers.family.base import PeriodCheck, PeriodViewing
from handlers.render import esc, header, locale, period_title
from handlers.report_card import card_caption, card_document, card_filename, file_name
from services import charts, journal, report_card
from services.access import NotFound
from services.db.session import Session


def rounding_lines(round_from: Decimal) -> list[tuple[float, str]]:
    """The averages where the forecast rounds up to 3, 4 and 5 under the school's profile
    (services/forecast.py), each with its label: "4 from 3.6"."""
    lines = []
    for grade in (3, 4, 5):
        average = grade - 1 + round_from
        label = _("{grade} from {average}").format(
            grade=grade, average=format_decimal(average, "0.0#", locale=locale())
        )
        lines.append((float(average), label))
    return lines


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
        thresholds=rounding_lines(context.profile.round_from),
        period=(period.starts_on, period.ends_on),
    )
    await viewing.viewed(session, "chart")
    if query.message is not None:
        name = file_name(
            "chart",
            student.first_name,
            subject.subject,
            context.today.isoformat(),
            extension="png",
        )
        await query.message.answer_photo(
            BufferedInputFile(png, filename=name),
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
    if query.message is None:
        return
    if callback_data.pdf:
        await query.message.answer_document(
            BufferedInputFile(document, filename=card_filename(card, "pdf")),
            caption=card_caption(card),
        )
    else:
        # A photo, not a file: the phone shows it in the chat, readable without opening.
        await query.message.answer_photo(
            BufferedInputFile(document, filename=card_filename(card, "png")),
            caption=card_caption(card),
        )


def create_router() -> Router:
    router = Router(name=__name__)
    screen(router.callback_query, chart_button, ChartCb.filter(), check=PeriodCheck())
    screen(router.callback_query, report_button, ReportCb.filter(), check=PeriodCheck())
    return router
