"""Period-end documents as sent: the class teacher's summary sheet (seed 004 §3.3.6, seed 003
§7.9), written by the archive's own writers (services/archive/xlsx.py, pdf.py) in the journal's
documentary Russian, and the deputy's school sheet (seed 004 §7.2); captions and the school
sheet in the reader's language. The writers (openpyxl, reportlab, matplotlib's fonts) are
imported when a sheet is sent, not when the bot starts."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from handlers.render import esc, period_title
from services.journal import PeriodRef
from services.notifications.payloads import ClassPeriodSheet, SchoolPeriodSheet
from services.notifications.transport import Composed

if TYPE_CHECKING:
    from services.archive import records as r


def _period(payload: ClassPeriodSheet) -> r.Period:
    from services.archive import records as r

    return r.Period(
        payload.period_id,
        payload.period_kind,
        payload.period_number,
        payload.starts_on,
        payload.ends_on,
    )


def sheet_records(payload: ClassPeriodSheet) -> tuple[r.ClassYear, r.Summary]:
    """The payload as the archive's records: one period, the subjects by their position."""
    from services.archive import records as r

    period = _period(payload)
    subjects = tuple(r.Subject(index, name, "") for index, name in enumerate(payload.subjects))
    rows = tuple(
        r.PupilSummary(
            r.Pupil(number, pupil.name, None, False),
            {
                (index, period.id): grade
                for index, grade in enumerate(pupil.grades)
                if grade is not None
            },
            pupil.absent,
            pupil.absent_valid,
            pupil.late,
            pupil.failing,
            pupil.not_attested,
        )
        for number, pupil in enumerate(payload.pupils)
    )
    year = r.ClassYear(
        school_id=0,
        school=payload.school,
        year=f"{payload.year}, {period.label}",
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        klass=payload.class_label,
        class_teacher=payload.class_teacher,
        pupils=tuple(row.pupil for row in rows),
        subjects=subjects,
        periods=(period,),
        lessons=(),
        marks=(),
        absences=(),
        finals=(),
        revisions=(),
    )
    return year, r.Summary((period,), rows)


def sheet_filename(payload: ClassPeriodSheet) -> str:
    """summary-7Б-2025-10-24.xlsx: the class and the period's last day."""
    return f"summary-{payload.class_label}-{payload.ends_on.isoformat()}.{payload.document}"


def sheet_caption(payload: ClassPeriodSheet) -> str:
    """Seed 004 §3.3.6: the period's results in short; the file has them all."""
    failing = sum(1 for pupil in payload.pupils if pupil.failing)
    not_attested = sum(1 for pupil in payload.pupils if pupil.not_attested)
    lines = [
        _("📑 Summary sheet of class {klass}: {period}").format(
            klass=esc(payload.class_label),
            period=_title(payload),
        ),
        _("Pupils in the class: {n}").format(n=len(payload.pupils)),
        _("Failing: {n}").format(n=failing),
        _("Not attested: {n}").format(n=not_attested),
    ]
    return "\n".join(lines)


def _title(payload: ClassPeriodSheet | SchoolPeriodSheet) -> str:
    return period_title(
        PeriodRef(
            payload.period_id,
            payload.period_kind,
            payload.period_number,
            payload.starts_on,
            payload.ends_on,
        )
    )


def school_caption(payload: SchoolPeriodSheet) -> str:
    """Seed 004 §7.2: the school's results of the period in short; per class in the file."""
    pupils = sum(c.pupils for c in payload.classes)
    quality = sum(c.quality * c.pupils for c in payload.classes)
    success = sum(c.success * c.pupils for c in payload.classes)
    return "\n".join(
        [
            _("📊 School summary: {period}").format(period=_title(payload)),
            _("Quality {quality}%, success {success}%").format(
                quality=round(quality / pupils) if pupils else 0,
                success=round(success / pupils) if pupils else 0,
            ),
            _("Failing: {n}").format(n=sum(c.failing for c in payload.classes)),
            _("Not attested: {n}").format(n=sum(c.not_attested for c in payload.classes)),
        ]
    )


def school_xlsx(payload: SchoolPeriodSheet) -> bytes:
    """Per class: pupils graded, quality and success in per cent, failing, not attested."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Classes")[:31]
    sheet.append([_("📊 School summary: {period}").format(period=_title(payload))])
    sheet.append([])
    sheet.append(
        [
            _("Class"),
            _("Pupils graded"),
            _("Quality, %"),
            _("Success, %"),
            _("Failing"),
            _("Not attested"),
        ]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for line in payload.classes:
        sheet.append(
            [
                line.class_label,
                line.pupils,
                line.quality,
                line.success,
                line.failing,
                line.not_attested,
            ]
        )
    sheet.column_dimensions["A"].width = 10
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_message(payload: ClassPeriodSheet | SchoolPeriodSheet) -> Composed:
    """The class's summary sheet as an XLSX or a PDF, or the school's as an XLSX, with its
    caption."""
    if isinstance(payload, SchoolPeriodSheet):
        name = f"school-summary-{payload.ends_on.isoformat()}.xlsx"
        return Composed(school_caption(payload), document=(name, school_xlsx(payload)))
    from services.archive.pdf import summary_pdf
    from services.archive.xlsx import summary_xlsx

    year, summary = sheet_records(payload)
    zone = ZoneInfo(payload.zone)
    write = summary_xlsx if payload.document == "xlsx" else summary_pdf
    content = write(year, summary, zone=zone, written=payload.written)
    return Composed(sheet_caption(payload), document=(sheet_filename(payload), content))
