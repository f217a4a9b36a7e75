"""Spreadsheets as tables of text, and typed cell parsers that report where a value is wrong.

Every import reads its file through here, so that XLSX and CSV (UTF-8 or Windows-1251, as Excel
saves it) look alike and every problem is told the same way: file, sheet, row, column, the value
and what was expected. Cells are kept as stripped text; XLSX dates become ISO text, so the one
date parser reads both a typed `01.09.2026` and an Excel date cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Generic, TypeVar, cast

T = TypeVar("T")

# Whole-row problems (a missing column, a file that cannot be read) name no single column.
WHOLE_ROW = ""


@dataclass(frozen=True, slots=True)
class BadRow:
    """One problem in a file, precise enough to find and fix the cell in Excel."""

    file: str
    sheet: str
    row: int
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        where = f"{self.file}, sheet «{self.sheet}», row {self.row}"
        if self.column:
            where += f", column «{self.column}»"
        shown = f"{self.value[:60]!r}" if self.value else "empty"
        return f"{where}: {shown}, expected {self.expected}"


class Expected(ValueError):
    """Raised by a cell parser: the text says what a good value looks like."""


@dataclass(frozen=True, slots=True)
class Row:
    """A row of a sheet: its number as Excel shows it, and header → cell text (stripped)."""

    file: str
    sheet: str
    number: int
    cells: Mapping[str, str]

    def text(self, column: str) -> str:
        return self.cells.get(column, "")

    def bad(self, column: str, expected: str, value: str | None = None) -> BadRow:
        shown = self.text(column) if value is None else value
        return BadRow(self.file, self.sheet, self.number, column, shown, expected)


@dataclass(frozen=True, slots=True)
class Table:
    """A sheet: its name, its headers (row `header_row`) and its non-empty rows below them."""

    file: str
    sheet: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    header_row: int = 1

    def as_sheet(self, name: str) -> Table:
        """The same table under another sheet name: a CSV's kind chosen by its headers."""
        rows = tuple(Row(self.file, name, r.number, r.cells) for r in self.rows)
        return Table(self.file, name, self.headers, rows, self.header_row)

    def missing(self, wanted: Iterable[str]) -> list[BadRow]:
        """A problem for each wanted header the sheet lacks (a misspelt one shows up here)."""
        have = {header_key(h) for h in self.headers}
        return [
            BadRow(self.file, self.sheet, self.header_row, name, "", f"a column «{name}»")
            for name in wanted
            if header_key(name) not in have
        ]


class UnreadableFile(Exception):
    """The file is not a workbook or a CSV that can be read at all."""


def header_key(text: str) -> str:
    """Headers match whatever their case, spacing or ё."""
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def cell_text(value: object) -> str:
    """A cell as text: dates as ISO, whole numbers without `.0`, everything stripped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(file: str, sheet: str, lines: Iterable[Sequence[object]]) -> Table | None:
    """The first non-empty line is the header; fully empty lines below it are skipped."""
    headers: tuple[str, ...] | None = None
    header_row = 0
    rows: list[Row] = []
    for number, line in enumerate(lines, start=1):
        texts = [cell_text(v) for v in line]
        if not any(texts):
            continue
        if headers is None:
            headers, header_row = tuple(texts), number
            continue
        cells = {h: texts[i] if i < len(texts) else "" for i, h in enumerate(headers) if h}
        rows.append(Row(file, sheet, number, cells))
    if headers is None:
        return None
    return Table(file, sheet, tuple(h for h in headers if h), tuple(rows), header_row)


def read_xlsx(path: Path) -> list[Table]:
    """Every sheet of a workbook that has a header row, in the workbook's order."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile(f"{path.name}: not an XLSX workbook ({type(exc).__name__})") from None
    try:
        tables = [_table(path.name, ws.title, ws.iter_rows(values_only=True)) for ws in book]
    finally:
        book.close()
    return [t for t in tables if t is not None]


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1251: what Excel saves."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _delimiter(text: str) -> str:
    """Russian Excel writes `;`, others `,`; the header line tells which."""
    header = text.split("\n", 1)[0]
    return max(";,\t", key=header.count)


def read_csv(path: Path, data: bytes | None = None) -> Table | None:
    """A CSV is one sheet, named after the file until its headers tell its kind."""
    text = decode_csv(path.read_bytes() if data is None else data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    return _table(path.name, path.stem, reader)


def read_tables(path: Path) -> list[Table]:
    """The tables of an XLSX or CSV file; UnreadableFile when it is neither."""
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return read_xlsx(path)
    if path.suffix.lower() in {".csv", ".txt"}:
        table = read_csv(path)
        return [] if table is None else [table]
    raise UnreadableFile(f"{path.name}: expected an .xlsx or .csv file")


# --- cells of a row, parsed; a failed cell is recorded and the row dropped ---------------


@dataclass
class Cells:
    """One row read cell by cell; each failure becomes a BadRow and a stand-in value.

    The stand-in (None) lets a record be built in one expression; `Problems.record` drops
    the record whenever any of its cells failed, so the stand-in never travels further.
    """

    row: Row
    problems: list[BadRow] = field(default_factory=list)

    def get(self, column: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(self.row.text(column))
        except Expected as exc:
            self.problems.append(self.row.bad(column, str(exc)))
            return cast(T, None)

    def fail(self, column: str, expected: str, value: str | None = None) -> None:
        self.problems.append(self.row.bad(column, expected, value))


@dataclass
class Problems:
    """Every problem of a file, collected before anything is written."""

    items: list[BadRow] = field(default_factory=list)
    bad_rows: set[tuple[str, int]] = field(default_factory=set)

    def record(self, row: Row, build: Callable[[Cells], T]) -> T | None:
        """The row's record, or None (its problems noted) when a cell was wrong."""
        cells = Cells(row)
        built = build(cells)
        if cells.problems:
            self.extend(cells.problems)
            return None
        return built

    def add(self, problem: BadRow) -> None:
        self.items.append(problem)
        self.bad_rows.add((problem.sheet, problem.row))

    def extend(self, problems: Iterable[BadRow]) -> None:
        for problem in problems:
            self.add(problem)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Checked(Generic[T]):
    """What a format's reader hands the import: the records, the problems, the rows read."""

    value: T
    problems: Problems
    rows: int


# --- parsers: text in, a value out, or Expected("what a good value looks like") ------------


def text(max_length: int) -> Callable[[str], str]:
    """Non-empty text of at most `max_length` characters."""

    def parse(value: str) -> str:
        if not value:
            raise Expected("a value (the cell is required)")
        if len(value) > max_length:
            raise Expected(f"at most {max_length} characters")
        return value

    return parse


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """An empty cell is None; anything else must parse."""

    def parse_optional(value: str) -> T | None:
        return parse(value) if value else None

    return parse_optional


_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")


def date_cell(value: str) -> date:
    """dd.mm.yyyy, yyyy-mm-dd or an Excel date cell; an impossible day is refused."""
    expected = "a date such as 01.09.2026"
    if (match := _DMY.fullmatch(value)) is not None:
        day, month, year = (int(g) for g in match.groups())
    elif (match := _ISO.fullmatch(value)) is not None:
        year, month, day = (int(g) for g in match.groups())
    else:
        raise Expected(expected)
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise Expected(f"{expected} (there is no such day)") from None
    if not 1900 <= parsed.year <= 2100:
        raise Expected(f"{expected} (a year from 1900 to 2100)")
    return parsed


def time_cell(value: str) -> time:
    """HH:MM (or HH:MM:SS, as an Excel time cell reads)."""
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?", value)
    try:
        if match is None:
            raise ValueError
        return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    except ValueError:
        raise Expected("a time such as 08:30") from None


def int_in(low: int, high: int) -> Callable[[str], int]:
    """A whole number from `low` to `high`."""

    def parse(value: str) -> int:
        if not re.fullmatch(r"[+-]?\d{1,9}", value) or not low <= int(value) <= high:
            raise Expected(f"a whole number from {low} to {high}")
        return int(value)

    return parse


def choice(options: Mapping[str, T]) -> Callable[[str], T]:
    """One of the listed words (as the template's drop-down offers them), any case, ё or е."""
    keyed = {header_key(k): v for k, v in options.items()}
    listed = ", ".join(f"«{k}»" for k in options)

    def parse(value: str) -> T:
        try:
            return keyed[header_key(value)]
        except KeyError:
            raise Expected(f"one of {listed}") from None

    return parse


def phone(value: str) -> str:
    """A Russian number in any spelling, normalised to +7XXXXXXXXXX."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] in "78":
        return f"+7{digits[1:]}"
    if len(digits) == 10 and digits[0] == "9":
        return f"+7{digits}"
    raise Expected("a phone number such as +7 916 123-45-67")


def phones(value: str) -> tuple[str, ...]:
    """Several numbers separated by `,` or `;`."""
    return tuple(phone(p) for p in re.split(r"[;,]", value) if p.strip())


def words(parse: Callable[[str], T]) -> Callable[[str], tuple[T, ...]]:
    """A list in one cell, separated by `,` or `;`, each item parsed."""

    def parse_list(value: str) -> tuple[T, ...]:
        return tuple(parse(item.strip()) for item in re.split(r"[;,]", value) if item.strip())

    return parse_list


def external_id(value: str) -> str:
    """The journal program's id of a row: up to 64 characters, no spaces inside."""
    if not value:
        raise Expected("an id (the cell is required)")
    if len(value) > 64 or any(c.isspace() for c in value):
        raise Expected("an id of at most 64 characters without spaces")
    return value


def first_seen(rows: Iterable[tuple[str, Row]], column: str) -> Iterable[BadRow]:
    """A problem for each key seen before in the file: ids must be unique in it."""
    seen: dict[str, int] = {}
    for key, row in rows:
        if key in seen:
            yield row.bad(column, f"an id not used before (row {seen[key]} has it)")
        else:
            seen[key] = row.number
