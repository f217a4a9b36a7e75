"""The report card (services/report_card.py) in the reader's language: as a document for the
marks screen's button and for the card each family gets at a period's end."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.render import day_long, esc, mark_text, number, period_title
from services import charts
from services.report_card import CardRow, ReportCard

# Marks beyond this many characters are cut on the card; the screen has them all.
_MARKS_WIDTH = 48


def _final(row: CardRow) -> str:
    if row.final_under_review:
        return _("under review")
    if row.final is None:
        return "—"
    if row.final_was is not None:
        return f"{mark_text(row.final)} ({mark_text(row.final_was)})"
    return mark_text(row.final)


def _row(row: CardRow) -> charts.ReportRow:
    marks = " ".join(mark_text(item.value) for item in row.marks)
    return charts.ReportRow(
        subject=row.subject,
        marks=marks if len(marks) <= _MARKS_WIDTH else marks[: _MARKS_WIDTH - 1] + "…",
        average=number(row.average) if row.average else "—",
        forecast=mark_text(row.forecast) if row.forecast else "—",
        absences=str(row.absences),
        final=_final(row),
    )


def card_document(card: ReportCard, *, pdf: bool) -> bytes:
    """One A4 page as a PDF, or the same page as a PNG."""
    student = card.student
    teacher = (
        [_("Class teacher: {name}").format(name=card.class_teacher)] if card.class_teacher else []
    )
    return charts.report_card(
        [_row(row) for row in card.rows],
        title=_("Report card"),
        lines=[
            f"{student.name}, {student.class_label}",
            card.school,
            _("{period}, academic year {year}").format(
                period=period_title(card.period), year=card.year
            ),
            *teacher,
        ],
        columns=[
            _("Subject"),
            _("Marks"),
            _("Average"),
            _("Forecast"),
            _("Absent"),
            _("Grade"),
        ],
        footer=_("Made by the school journal bot on {day}.").format(day=day_long(card.made_on)),
        pdf=pdf,
    )


def card_filename(card: ReportCard, extension: str) -> str:
    """report-card-Misha-2026-10-31.pdf: whose and which period, without internal ids."""
    return f"report-card-{card.student.first_name}-{card.period.ends_on.isoformat()}.{extension}"


def card_caption(card: ReportCard) -> str:
    return (
        esc(f"{card.student.name}, {card.student.class_label}")
        + "\n"
        + esc(period_title(card.period))
    )


def period_end_caption(card: ReportCard) -> str:
    """The message with a family's card at the period's end."""
    return _("📄 Report card: {period}").format(period=esc(period_title(card.period))) + (
        "\n" + esc(f"{card.student.name}, {card.student.class_label}")
    )
