"""The report card (services/report_card.py) in the reader's language: an A4 PDF for the marks
screen's button and for the card each family gets at a period's end, and a picture sized for
a phone."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from handlers.render import SPECIAL_MARKS, esc, locale, number, period_name, period_title
from services import charts
from services.notifications.transport import Composed
from services.report_card import CardRow, ReportCard

# Characters a file name may not hold on the readers' systems.
_NOT_IN_NAMES = str.maketrans({c: "_" for c in '/\\:*?"<>|'})


def _mark(value: str) -> str:
    """A mark as the card prints it: plain text (the PDF escapes it), a special one as a word."""
    word = SPECIAL_MARKS.get(value)
    return str(word) if word is not None else value


def day_with_year(day: date) -> str:
    """1 December 2026: a date on a document people keep."""
    return format_date(day, "d MMMM y", locale=locale())


def _final(row: CardRow) -> str:
    if row.final_under_review:
        return _("under review")
    if row.final is None:
        return "—"
    if row.final_was is not None:
        return f"{_mark(row.final)} ({_mark(row.final_was)})"
    return _mark(row.final)


def _row(row: CardRow) -> charts.ReportRow:
    return charts.ReportRow(
        subject=row.subject,
        marks=tuple(
            charts.CardMark(_mark(item.value), corrected=item.previous is not None)
            for item in row.marks
        ),
        average=number(row.average) if row.average else "—",
        forecast=_mark(row.forecast) if row.forecast else "—",
        absences=str(row.absences),
        final=_final(row),
        final_corrected=row.final_was is not None and not row.final_under_review,
    )


def card_texts(card: ReportCard) -> charts.CardTexts:
    """The card's heading, columns, legend and footer in the reader's language."""
    student, period = card.student, card.period
    teacher = (
        (_("Class teacher: {name}").format(name=card.class_teacher),) if card.class_teacher else ()
    )
    dated = _("{period} ({start} – {end})").format(
        period=period_name(period),
        start=day_with_year(period.starts_on),
        end=day_with_year(period.ends_on),
    )
    return charts.CardTexts(
        title=_("Report card"),
        lines=(
            f"{student.name}, {student.class_label}",
            card.school,
            _("{period}, academic year {year}").format(period=dated, year=card.year),
            *teacher,
        ),
        columns=(_("Subject"), _("Marks"), _("Average"), _("Forecast"), _("Absent"), _("Grade")),
        legend=_("corrected after it was entered; a period grade shows the one it replaced"),
        footer=_("Made by the school journal bot on {day}.").format(
            day=day_with_year(card.made_on)
        ),
    )


def card_document(card: ReportCard, *, pdf: bool) -> bytes:
    """The card as an A4 PDF, or as a PNG picture a phone shows whole (charts.PICTURE_WIDTH
    pixels wide)."""
    rows = [_row(row) for row in card.rows]
    texts = card_texts(card)
    return charts.report_card_pdf(rows, texts) if pdf else charts.report_card_png(rows, texts)


def file_name(*parts: str, extension: str) -> str:
    """report-card-Misha-Ivanov-2026-10-31.pdf: whose and when, never an internal id."""
    words = "-".join("-".join(part.split()) for part in parts if part)
    return f"{words.translate(_NOT_IN_NAMES)}.{extension}"


def card_filename(card: ReportCard, extension: str) -> str:
    """report-card-Misha-2026-10-31.pdf: whose and which period, without internal ids."""
    return file_name(
        "report-card",
        card.student.first_name,
        card.period.ends_on.isoformat(),
        extension=extension,
    )


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


def leaver_caption(card: ReportCard, left_on: date) -> str:
    """Seed 003 §7.7: the family of a pupil who left gets the year's marks to hand on."""
    return _(
        "📄 {name}: leaving the school. The marks of the school year up to {day}: keep this"
        " report for the next school."
    ).format(name=esc(card.student.name), day=day_with_year(left_on))


def card_message(card: ReportCard, left_on: date | None) -> Composed:
    """The card a family gets without asking, as a PDF: at a period's end, or the year's up
    to the day the pupil left (`left_on`)."""
    caption = period_end_caption(card) if left_on is None else leaver_caption(card, left_on)
    return Composed(caption, document=(card_filename(card, "pdf"), card_document(card, pdf=True)))
