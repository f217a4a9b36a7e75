"""Blank workbooks for the administrator: one sheet per kind, headers, an example, drop-downs.

`journalbot import template KIND` writes one; a format adds itself to TEMPLATES with its
sheets (services.imports.layout), and the example row of each sheet imports as it stands.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date

from services.imports import roster_format
from services.imports.layout import Column, Sheet

EXAMPLE_ROW = 2
VALIDATED_ROWS = 2000  # drop-downs reach this far down: a school's roster fits
DATE_FORMAT = "DD.MM.YYYY"


def _header(ws: object, index: int, column: Column) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    cell = ws.cell(row=1, column=index, value=column.header)  # type: ignore[attr-defined]
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor="DDEBF7")
    if column.note:
        cell.comment = Comment(column.note, "journalbot")


def _example(ws: object, index: int, column: Column) -> None:
    value = column.example
    if value == "":
        return
    cell = ws.cell(row=EXAMPLE_ROW, column=index, value=value)  # type: ignore[attr-defined]
    if isinstance(value, date):
        cell.number_format = DATE_FORMAT


def _drop_down(ws: object, letter: str, choices: Sequence[str]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    listed = ",".join(choices)
    validation = DataValidation(
        type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True
    )
    validation.error = "Выберите значение из списка: " + ", ".join(choices)
    ws.add_data_validation(validation)  # type: ignore[attr-defined]
    validation.add(f"{letter}{EXAMPLE_ROW}:{letter}{VALIDATED_ROWS}")


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX with the sheets: bold headers frozen on top, widths, the example row, lists."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        ws.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            _header(ws, index, column)
            _example(ws, index, column)
            ws.column_dimensions[letter].width = max(column.width, len(column.header) + 2)
            if column.choices:
                _drop_down(ws, letter, column.choices)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def roster_template() -> bytes:
    return workbook(roster_format.SHEETS)


def journal_template() -> bytes:
    """Lessons, homework, marks, attendance, final grades: the example rows refer to the
    roster template's example rows, so the two filled in once import in turn."""
    from services.imports import journal_format

    return workbook(journal_format.SHEETS)


# `journalbot import template KIND`.
TEMPLATES: dict[str, Callable[[], bytes]] = {
    "roster": roster_template,
    "journal": journal_template,
}
