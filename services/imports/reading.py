"""What every format's reader shares: a file's tables told apart as the format's sheets, their
rows keyed by the format's own headers, parsed into records, and ids kept unique."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

from services.imports.layout import Sheet
from services.imports.tabular import BadRow, Cells, Problems, Row, Table, first_seen, header_key

R = TypeVar("R")
# Picks the sheet a CSV is from its header keys (header_key), or None.
Guess = Callable[[set[str]], Sheet | None]


def _sheet_of(
    table: Table, sheets: Sequence[Sheet], guess: Guess, problems: Problems
) -> Sheet | None:
    """The format's sheet a table is: by its name, or for a CSV by its headers."""
    by_name = {header_key(s.name): s for s in sheets}
    if (sheet := by_name.get(header_key(table.sheet))) is not None:
        return sheet
    if table.file.lower().endswith((".csv", ".txt")):
        if (sheet := guess({header_key(h) for h in table.headers})) is not None:
            return sheet
        expected = "the headers of one sheet: " + "; ".join(s.name for s in sheets)
    else:
        expected = "a sheet named " + ", ".join(f"«{s.name}»" for s in sheets)
    problems.add(BadRow(table.file, table.sheet, table.header_row, "", table.sheet, expected))
    return None


def _canonical(table: Table, sheet: Sheet) -> Table:
    """Rows keyed by the format's own headers, whatever case or spacing the file used."""
    own = {header_key(h): h for h in sheet.headers}
    rows = tuple(
        Row(
            table.file,
            sheet.name,
            r.number,
            {own.get(header_key(k), k): v for k, v in r.cells.items()},
        )
        for r in table.rows
    )
    return Table(table.file, sheet.name, sheet.headers, rows, table.header_row)


def format_tables(
    tables: Iterable[Table],
    sheets: Sequence[Sheet],
    problems: Problems,
    *,
    required: Mapping[str, Sequence[str]],
    guess: Guess,
) -> Iterator[tuple[Sheet, Table]]:
    """Each table the format knows, as its sheet with the format's headers; a table that is no
    sheet of it, or lacks a required column (`required` by kind), is a problem and left out
    (every row of it would be wrong)."""
    for table in tables:
        sheet = _sheet_of(table, sheets, guess, problems)
        if sheet is None:
            continue
        named = table.as_sheet(sheet.name)
        missing = named.missing(required[sheet.kind])
        if missing:
            problems.extend(missing)
            continue
        yield sheet, _canonical(named, sheet)


def parse_rows(
    table: Table | None, build: Callable[[Cells], R], problems: Problems
) -> list[tuple[R, Row]]:
    """The table's good rows as records, with the row each came from."""
    if table is None:
        return []
    parsed = []
    for row in table.rows:
        record = problems.record(row, build)
        if record is not None:
            parsed.append((record, row))
    return parsed


def unique(
    parsed: list[tuple[R, Row]], key: Callable[[R], str], column: str, problems: Problems
) -> list[tuple[R, Row]]:
    """Rows whose key the file used before are wrong: the first one stays."""
    bad = list(first_seen(((key(r), row) for r, row in parsed), column))
    problems.extend(bad)
    numbers = {b.row for b in bad}
    return [(r, row) for r, row in parsed if row.number not in numbers]
