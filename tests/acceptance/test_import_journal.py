"""`journalbot import journal FILE`: a workbook in, the journal written, or a broken file named
by row and column with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.imports import journal_format as f
from tests.fixtures.cli import run_journalbot
from tests.fixtures.journal_import import CLASS, LESSON_DAY, STUDENT, TEACHER, RosterSchool

DAY = LESSON_DAY.strftime("%d.%m.%Y")
DUE = (LESSON_DAY + timedelta(days=2)).strftime("%d.%m.%Y")
Sheets = dict[str, list[list[object]]]


def good_sheets() -> Sheets:
    """A lesson with homework, two marks, a lateness and a quarter grade; every cell as the
    template's columns expect."""
    return {
        f.LESSONS.name: [
            [
                "Л-1",
                DAY,
                3,
                "10:20",
                "11:05",
                CLASS,
                "",
                "Геометрия",
                TEACHER,
                "",
                "Углы",
                "214",
                "test",
            ]
        ],
        f.HOMEWORK.name: [["ДЗ-1", "Л-1", DUE, "№ 12, 14", TEACHER]],
        f.MARKS_SHEET.name: [
            ["О-1", STUDENT, "Л-1", "5", "test", "", "", "", TEACHER],
            ["О-2", "S-2", "Л-1", "н/а", "", "", "болел", "", TEACHER],
        ],
        f.ATTENDANCE.name: [["П-1", STUDENT, "Л-1", "опоздал", 7, "", "нет", TEACHER]],
        f.FINAL_GRADES.name: [["И-1", STUDENT, "Геометрия", "четверть", 2, "5", "", TEACHER]],
    }


def workbook(path: Path, sheets: Sheets) -> Path:
    """An XLSX with the format's headers and the given rows (row 2 onwards)."""
    book = Workbook()
    book.remove(book.active)
    by_name = {s.name: s for s in f.SHEETS}
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        ws.append(list(by_name[name].headers))
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


async def journal_rows(engine: AsyncEngine) -> tuple[int, ...]:
    """How many lessons, homework, marks, absences, final grades and events there are."""
    tables = ("lessons", "homework", "marks", "attendance", "final_grades", "journal_events")
    async with engine.connect() as connection:
        counts = []
        for table in tables:
            counts.append(
                (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            )
        return tuple(int(c or 0) for c in counts)


async def journalbot(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    return await run_journalbot(database_url, tmp_path, "import", "journal", *args)


async def test_first_import_is_a_backfill_and_reimport_changes_nothing(
    committing_engine: AsyncEngine,
    committed_journal_school: RosterSchool,
    database_url: str,
    tmp_path: Path,
) -> None:
    path = workbook(tmp_path / "journal.xlsx", good_sheets())
    school = committed_journal_school.school.school_id
    before = await journal_rows(committing_engine)
    rc, out, err = await journalbot(database_url, tmp_path, str(path), "--school", str(school))
    assert rc == 0, err
    assert "back-fill" in out
    after = await journal_rows(committing_engine)
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == (1, 1, 2, 1, 1, 0)

    rc, out, err = await journalbot(database_url, tmp_path, str(path), "--school", str(school))
    assert rc == 0, err
    assert "later load" in out
    assert await journal_rows(committing_engine) == after
    async with committing_engine.connect() as connection:
        audits = (
            (
                await connection.execute(
                    text("SELECT details FROM audit_log WHERE action = 'imported' ORDER BY id")
                )
            )
            .scalars()
            .all()
        )
    assert len(audits) == 2
    assert audits[1]["format"] == "journal"
    assert audits[1]["counts"]["mark"] == {"new": 0, "changed": 0, "unchanged": 2, "left": 0}
    assert len(audits[0]["sha256"]) == 64


async def test_later_import_corrects_and_pushes(
    committing_engine: AsyncEngine,
    committed_journal_school: RosterSchool,
    database_url: str,
    tmp_path: Path,
) -> None:
    school = str(committed_journal_school.school.school_id)
    await journalbot(
        database_url,
        tmp_path,
        str(workbook(tmp_path / "a.xlsx", good_sheets())),
        "--school",
        school,
    )
    sheets = good_sheets()
    sheets[f.MARKS_SHEET.name][0] = [
        "О-1",
        STUDENT,
        "Л-1",
        "4",
        "test",
        "",
        "",
        "ошибка ввода",
        TEACHER,
    ]
    sheets[f.MARKS_SHEET.name].append(["О-3", STUDENT, "Л-1", "3", "", "", "", "", TEACHER])
    rc, _out, err = await journalbot(
        database_url, tmp_path, str(workbook(tmp_path / "b.xlsx", sheets)), "--school", school
    )
    assert rc == 0, err
    async with committing_engine.connect() as connection:
        events = (
            (await connection.execute(text("SELECT kind FROM journal_events ORDER BY id")))
            .scalars()
            .all()
        )
        reason = (
            await connection.execute(
                text("SELECT reason FROM current_marks WHERE replaces_id IS NOT NULL")
            )
        ).scalar()
    assert sorted(events) == ["mark.corrected", "mark.new"]
    assert reason == "ошибка ввода"


def _broken(sheets: Sheets, sheet: str, row: int, column: int, value: object) -> Sheets:
    sheets[sheet][row][column] = value
    return sheets


def _duplicate(sheets: Sheets) -> Sheets:
    marks = sheets[f.MARKS_SHEET.name]
    marks[1][0] = marks[0][0]
    return sheets


BROKEN: dict[str, tuple[Callable[[Sheets], Sheets], str]] = {
    "unknown class": (
        lambda s: _broken(s, f.LESSONS.name, 0, 5, "К-404"),
        f"sheet «{f.LESSONS.name}», row 2, column «{f.CLASS_CODE}»: 'К-404'",
    ),
    "impossible date": (
        lambda s: _broken(s, f.LESSONS.name, 0, 1, "31.02.2026"),
        f"sheet «{f.LESSONS.name}», row 2, column «{f.DATE}»: '31.02.2026', expected a date",
    ),
    "duplicate id": (
        _duplicate,
        f"sheet «{f.MARKS_SHEET.name}», row 3, column «{f.CODE}»: 'О-1', expected an id not used",
    ),
    "mark off the scale": (
        lambda s: _broken(s, f.MARKS_SHEET.name, 0, 3, "6"),
        f"sheet «{f.MARKS_SHEET.name}», row 2, column «{f.MARK}»: '6', expected one of «5»",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_broken_file_names_row_and_column_and_writes_nothing(
    case: str,
    committing_engine: AsyncEngine,
    committed_journal_school: RosterSchool,
    database_url: str,
    tmp_path: Path,
) -> None:
    breaking, message = BROKEN[case]
    path = workbook(tmp_path / "broken.xlsx", breaking(good_sheets()))
    before = await journal_rows(committing_engine)
    school = str(committed_journal_school.school.school_id)
    rc, _out, err = await journalbot(database_url, tmp_path, str(path), "--school", school)
    assert rc == 1
    assert message in err
    assert "nothing written" in err
    assert await journal_rows(committing_engine) == before


async def test_skip_bad_rows_writes_the_rest(
    committing_engine: AsyncEngine,
    committed_journal_school: RosterSchool,
    database_url: str,
    tmp_path: Path,
) -> None:
    sheets = _broken(good_sheets(), f.MARKS_SHEET.name, 1, 1, "S-404")  # an unknown pupil
    path = workbook(tmp_path / "partly.xlsx", sheets)
    before = await journal_rows(committing_engine)
    school = str(committed_journal_school.school.school_id)
    rc, _out, err = await journalbot(
        database_url, tmp_path, str(path), "--school", school, "--skip-bad-rows"
    )
    assert rc == 0, err
    assert f"row 3, column «{f.STUDENT_CODE}»: 'S-404'" in err
    after = await journal_rows(committing_engine)
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == (1, 1, 1, 1, 1, 0)


async def test_dry_run_shows_changes_and_writes_nothing(
    committing_engine: AsyncEngine,
    committed_journal_school: RosterSchool,
    database_url: str,
    tmp_path: Path,
) -> None:
    path = workbook(tmp_path / "journal.xlsx", good_sheets())
    before = await journal_rows(committing_engine)
    school = str(committed_journal_school.school.school_id)
    rc, out, err = await journalbot(
        database_url, tmp_path, str(path), "--school", school, "--dry-run"
    )
    assert rc == 0, err
    assert "dry run" in out
    assert "mark О-1: new" in out
    assert await journal_rows(committing_engine) == before
    async with committing_engine.connect() as connection:
        audits = await connection.execute(text("SELECT count(*) FROM audit_log"))
        assert audits.scalar() == 0


def test_template_sheets_are_the_formats() -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from services.imports.template import TEMPLATES

    book = load_workbook(BytesIO(TEMPLATES["journal"]()))
    assert book.sheetnames == [s.name for s in f.SHEETS]
    assert [c.value for c in book[f.MARKS_SHEET.name][1]] == list(f.MARKS_SHEET.headers)
