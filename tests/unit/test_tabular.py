"""Reading spreadsheets: CSV encodings and delimiters, XLSX cells, parsers and problems."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.imports import tabular as t


def _csv(tmp_path: Path, text: str, encoding: str, name: str = "people.csv") -> t.Table:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    [table] = t.read_tables(path)
    return table


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [";", ","])
def test_csv_in_any_excel_encoding_and_delimiter(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    text = delimiter.join(["Фамилия", "Имя"]) + "\r\n\r\n" + delimiter.join(["Ёлкин ", "Пётр"])
    table = _csv(tmp_path, text + "\r\n", encoding)
    assert table.headers == ("Фамилия", "Имя")
    [row] = table.rows
    assert (row.number, row.cells) == (3, {"Фамилия": "Ёлкин", "Имя": "Пётр"})
    assert (row.file, row.sheet) == ("people.csv", "people")


def test_xlsx_cells_become_text_with_excel_row_numbers(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "Ученики"
    ws.append([])
    ws.append(["Код", "Дата", "Время", "Телефон", "Пусто"])
    ws.append(["У-1", datetime(2014, 5, 14), time(8, 30), 79161234567, None])  # noqa: DTZ001
    ws.append([None, None, None, None, None])
    ws.append([" У-2 ", date(2015, 1, 2), "9:05", 5.0, ""])
    book.save(tmp_path / "r.xlsx")
    [table] = t.read_tables(tmp_path / "r.xlsx")
    assert (table.sheet, table.header_row) == ("Ученики", 2)
    assert [(r.number, r.cells) for r in table.rows] == [
        (
            3,
            {
                "Код": "У-1",
                "Дата": "2014-05-14",
                "Время": "08:30:00",
                "Телефон": "79161234567",
                "Пусто": "",
            },
        ),
        (5, {"Код": "У-2", "Дата": "2015-01-02", "Время": "9:05", "Телефон": "5", "Пусто": ""}),
    ]
    assert t.date_cell(table.rows[0].text("Дата")) == date(2014, 5, 14)
    assert t.time_cell(table.rows[0].text("Время")) == time(8, 30)


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    with pytest.raises(t.UnreadableFile, match="not an XLSX workbook"):
        t.read_tables(tmp_path / "x.xlsx")
    with pytest.raises(t.UnreadableFile, match="no such file"):
        t.read_tables(tmp_path / "missing.csv")
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(t.UnreadableFile, match=r"expected an \.xlsx or \.csv"):
        t.read_tables(tmp_path / "x.pdf")


def test_parsers() -> None:
    assert t.date_cell("01.09.2026") == date(2026, 9, 1)
    assert t.date_cell("2026-09-01") == date(2026, 9, 1)
    for bad, why in (
        ("31.02.2026", "no such day"),
        ("1.9.26", "01.09.2026"),
        ("01.09.1800", "1900"),
    ):
        with pytest.raises(t.Expected, match=why):
            t.date_cell(bad)
    assert t.time_cell("8.30") == time(8, 30)
    with pytest.raises(t.Expected):
        t.time_cell("25:00")
    assert t.int_in(1, 11)("11") == 11
    with pytest.raises(t.Expected, match="from 1 to 11"):
        t.int_in(1, 11)("12")
    assert t.phone("8 (916) 123-45-67") == t.phone("+7 916 1234567") == "+79161234567"
    assert t.phone("9161234567") == "+79161234567"
    assert t.phones("89161234567; +7 495 123 45 67") == ("+79161234567", "+74951234567")
    with pytest.raises(t.Expected, match="phone"):
        t.phone("12345")
    sex = t.choice({"м": "m", "ж": "f"})
    assert (sex("М"), sex(" ж ".strip())) == ("m", "f")
    relation = t.choice({"опекун": "guardian", "мать": "mother"})
    with pytest.raises(t.Expected, match="one of «опекун», «мать»"):
        relation("тётя")
    assert t.choice({"Учёба": 1})("учеба") == 1  # ё and е alike
    assert t.optional(t.phone)("") is None
    with pytest.raises(t.Expected, match="at most 3"):
        t.text(3)("four")
    with pytest.raises(t.Expected, match="required"):
        t.text(3)("")
    with pytest.raises(t.Expected, match="without spaces"):
        t.external_id("a b")


def test_problems_are_collected_with_their_place() -> None:
    row = t.Row("roster.xlsx", "Ученики", 7, {"Пол": "x", "Код": "У-1"})
    problems = t.Problems()
    built = problems.record(
        row, lambda c: (c.get("Код", t.external_id), c.get("Пол", t.choice({"м": "m"})))
    )
    assert built is None
    [problem] = problems.items
    assert (
        str(problem)
        == "roster.xlsx, sheet «Ученики», row 7, column «Пол»: 'x', expected one of «м»"
    )
    assert problems.bad_rows == {("Ученики", 7)}
    assert problems.record(row, lambda c: c.get("Код", t.external_id)) == "У-1"
    table = t.Table("f.csv", "Ученики", ("Фамилия ",), ())
    [missing] = table.missing(["фамилия", "Имя"])
    assert (
        str(missing)
        == "f.csv, sheet «Ученики», row 1, column «Имя»: empty, expected a column «Имя»"
    )


def test_a_bad_link_row_leaves_every_link_of_its_sheet_as_it_is(tmp_path: Path) -> None:
    """With --skip-bad-rows, a skipped child row must not end the guardianship it meant."""
    from openpyxl import load_workbook

    from services.imports.roster import check_roster
    from services.imports.template import roster_template

    path = tmp_path / "r.xlsx"
    path.write_bytes(roster_template())
    book = load_workbook(path)
    book["Дети представителей"].append(["Р-1", "У-1", "тётя"])
    book.save(path)
    checked = check_roster(t.read_tables(path), {})
    [problem] = checked.problems.items
    assert (problem.sheet, problem.row, problem.column) == (
        "Дети представителей",
        3,
        "Кем приходится",
    )
    [guardian] = checked.value.guardians or ()
    assert guardian.children is None  # not (): nothing would be ended
    [staff] = checked.value.staff or ()
    assert staff.teaching is not None and len(staff.teaching) == 1
