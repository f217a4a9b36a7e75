"""Earlier school years, read only (seed 000 §2.2, seed 001 §2.2: marks "for the whole time
the journal has been kept"): the list of a student's earlier years, and for one of them the
final grades of its terms and the marks per subject with their average."""

from __future__ import annotations

from collections import Counter

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import FinalsCb, YearsCb
from handlers.checks import not_found, screen
from handlers.family.base import StudentCheck, Viewing
from handlers.keyboards import Keyboard
from handlers.render import esc, header, mark_text, number, period_short, review_text, show
from services.access import NotFound
from services.db.session import Session
from services.journal.years import PastYear, YearRecord, past_year, past_years


def years_text(viewing: Viewing, years: list[PastYear]) -> str:
    lines = [header(viewing.student), _("🗂 Earlier school years"), ""]
    if not years:
        lines.append(_("The journal has no earlier years of this student."))
    else:
        lines.append(_("Choose a year: its marks and final grades, read only."))
    return "\n".join(lines)


def years_keyboard(viewing: Viewing, years: list[PastYear]) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for year in years:
        label = f"{year.label}, {year.class_label}" if year.class_label else year.label
        builder.button(text=label, callback_data=YearsCb(s=viewing.student.id, y=year.id))
    builder.button(
        text=_("🏁 This year's final grades"), callback_data=FinalsCb(s=viewing.student.id)
    )
    return builder.adjust(2).as_markup()


def _marks_line(record: YearRecord) -> list[str]:
    lines = []
    for subject in record.subjects:
        counted = [item.value for item in subject.marks if not item.under_review]
        tally = Counter(counted)
        values = " ".join(
            f"{mark_text(value)}×{tally[value]}" for value in sorted(tally, reverse=True)
        )
        average = subject.forecast.average
        line = f"{esc(subject.subject)}: " + ngettext(
            "{n} mark", "{n} marks", len(counted)
        ).format(n=len(counted))
        if values:
            line += f" ({values})"
        if average is not None:
            line += ", " + _("average {value}").format(value=number(average))
        lines.append(line)
    return lines


def year_text(viewing: Viewing, record: YearRecord) -> str:
    year, context = record.year, record.context
    title = (
        _("🗂 School year {year}, class {klass}").format(
            year=year.label, klass=esc(year.class_label)
        )
        if year.class_label
        else _("🗂 School year {year}").format(year=year.label)
    )
    lines = [header(viewing.student), title, _("Read only: the journal as it was kept."), ""]
    columns = [*context.terms, *((context.year,) if context.year else ())]
    lines.append("<b>" + _("Final grades") + "</b>")
    if not record.finals:
        lines.append(_("No final grades that year."))
    for row in record.finals:
        cells = []
        for period in columns:
            grade = row.grades.get(period.id)
            if grade is None:
                continue
            shown = review_text() if period.id in row.under_review else mark_text(grade[0])
            cells.append(f"{period_short(period)}: <b>{shown}</b>")
        lines.append(f"{esc(row.subject)} — " + (", ".join(cells) or "—"))
    lines.append("")
    lines.append("<b>" + _("Marks of the year") + "</b>")
    lines.extend(_marks_line(record) or [_("No marks that year.")])
    return "\n".join(lines)


async def years_screen(
    query: CallbackQuery, *, callback_data: YearsCb, session: Session, viewing: Viewing
) -> None:
    today = viewing.context.today
    if callback_data.y == 0:
        years = await past_years(session, viewing.student, today)
        await viewing.viewed(session, "earlier_years")
        await show(query, years_text(viewing, years), years_keyboard(viewing, years))
        return
    try:
        record = await past_year(
            session, viewing.student, callback_data.y, today, viewing.context.timezone
        )
    except NotFound:
        await not_found(query, session, viewing.account_id, viewing.student.id)
        return
    await viewing.viewed(session, "earlier_year")
    back = Keyboard()
    back.button(text=_("⬅️ Earlier years"), callback_data=YearsCb(s=viewing.student.id))
    await show(query, year_text(viewing, record), back.as_markup())


def create_router() -> Router:
    router = Router(name=__name__)
    screen(router.callback_query, years_screen, YearsCb.filter(), check=StudentCheck())
    return router
