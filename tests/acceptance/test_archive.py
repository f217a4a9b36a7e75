"""`journalbot archive`: a class's year as XLSX and PDF with checksums, verified and tampered."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.archive import CORRECTED_DAY, SchoolYear
from tests.fixtures.cli import run_journalbot

JOURNAL = "7Б/2025-26_7Б_journal.xlsx"
SUMMARY = "7Б/2025-26_7Б_summary.xlsx"
FILES = [
    "7Б/2025-26_7Б_journal.pdf",
    JOURNAL,
    "7Б/2025-26_7Б_summary.pdf",
    SUMMARY,
    "manifest.json",
    "manifest.sha256",
]


async def _archive(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    return await run_journalbot(database_url, tmp_path, "archive", *args)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _on_clock(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A moment as a spreadsheet holds it: the school's clock, no zone."""
    return datetime.combine(day, time(hour, minute))


def _hidden_or(path: Path, parent: Path) -> list[Path]:
    """`path` if it exists, and the hidden entries of `parent` (an archive being written)."""
    return [p for p in parent.iterdir() if p == path or p.name.startswith(".")]


def _rows(sheet: Worksheet, header_row: int = 1) -> tuple[list[Any], dict[str, tuple[Any, ...]]]:
    """The header's values, and the rows below it by the pupil's name (column B)."""
    header = [cell.value for cell in sheet[header_row]]
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=header_row + 1) if row[1].value}
    return header, rows


def _check_journal(path: Path) -> None:
    book = load_workbook(path)
    assert book.sheetnames == [
        "Сведения",
        "Алгебра",
        "Русский язык",
        "Уроки и темы",
        "Пропуски",
        "Исправления",
    ]
    info = {row[0]: row[1] for row in book["Сведения"].iter_rows(max_col=2, values_only=True)}
    assert info["Школа"] == "Школа № 5" and info["Класс"] == "7Б"
    assert info["Классный руководитель"] == "Смирнова О."
    assert info["Выгружено"].endswith("(Asia/Yekaterinburg)")

    header, rows = _rows(book["Алгебра"])
    corrected = header.index(_on_clock(CORRECTED_DAY))
    misha, kolya = rows["Иванов Миша"], rows["Петров Коля"]
    assert misha[corrected].value == "4"  # the current revision, the history beside it
    assert "3 → 4, 07.10.2025 10:00, Петрова А. И.: ошибка ввода" in misha[corrected].comment.text
    assert kolya[header.index(_on_clock(date(2025, 9, 15)))].value == "н"
    assert kolya[header.index(_on_clock(date(2025, 9, 22)))].value == "2"
    assert misha[header.index("1 четв.")].value == "5"
    assert kolya[header.index("Год")].value == "2"
    assert kolya[header.index("Пропущено уроков")].value == 3
    assert misha[header.index("Пропущено уроков")].value == 0

    header, rows = _rows(book["Русский язык"])
    assert rows["Иванов Миша"][header.index("1 четв.")].value == "5"
    assert rows["Сидорова Аня"][header.index("Год")].value == "н/а"

    history = list(book["Исправления"].iter_rows(min_row=2, values_only=True))
    assert history == [
        (
            "отметка",
            "Иванов Миша",
            "Алгебра",
            "06.10.2025, урок 2",
            "3",
            "4",
            _on_clock(date(2025, 10, 7), 10, 0),  # 05:00 UTC on the school's clock
            "Петрова А. И.",
            "ошибка ввода",
        ),
        (
            "итоговая",
            "Иванов Миша",
            "Русский язык",
            "1 четв.",
            "4",
            "5",
            _on_clock(date(2025, 11, 6), 10, 0),
            "Смирнова О.",
            "пересчёт после зачёта",
        ),
    ]
    lessons = list(book["Уроки и темы"].iter_rows(min_row=2, values_only=True))
    homework = [row for row in lessons if row[8]]
    assert homework == [
        (
            _on_clock(date(2025, 10, 6)),
            2,
            "Алгебра",
            None,
            "Петрова А. И.",
            None,
            "Алгебра: тема 6",
            None,
            "№ 12, 14",
        )
    ]
    absences = list(book["Пропуски"].iter_rows(min_row=2, values_only=True))
    assert len(absences) == 4
    assert absences[0] == (
        _on_clock(date(2025, 9, 15)), 2, "Алгебра", "Петров Коля", "н", "болезнь", "да", None
    )  # fmt: skip


def _check_summary(path: Path) -> None:
    sheet = load_workbook(path)["Сводная ведомость"]
    top = next(row[0].row for row in sheet.iter_rows() if row[0].value == "№")
    subjects = [cell.value for cell in sheet[top]]
    periods = [cell.value for cell in sheet[top + 1]]
    algebra = subjects.index("Алгебра")
    russian = subjects.index("Русский язык")
    assert periods[algebra : algebra + 5] == ["1 четв.", "2 четв.", "3 четв.", "4 четв.", "Год"]
    _, rows = _rows(sheet, top + 1)
    kolya, anya, misha = rows["Петров Коля"], rows["Сидорова Аня"], rows["Иванов Миша"]
    assert [c.value for c in kolya[algebra : algebra + 5]] == ["2", "2", "3", "2", "2"]
    assert misha[russian].value == "5"  # the corrected first quarter
    absent = subjects.index("Пропущено уроков")
    assert [c.value for c in kolya[absent : absent + 5]] == [3, 1, 1, "Алгебра", None]
    assert [c.value for c in anya[absent : absent + 5]] == [0, 0, 0, None, "Русский язык"]
    assert [c.value for c in misha[absent : absent + 5]] == [0, 0, 0, None, None]
    totals = {row[1]: row[2] for row in sheet.iter_rows(min_row=top + 5, values_only=True)}
    assert totals["Учеников в классе"] == 3
    assert totals["Неуспевающих"] == 1 and totals["Не аттестованных"] == 1


async def test_archive_of_a_class_year_is_verified_and_tampering_is_named(
    committing_engine: AsyncEngine, school_year: SchoolYear, database_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    rc, out, err = await _archive(
        database_url, tmp_path, "--year", "2025/26", "--class", "7Б", "--to", str(root)
    )
    assert rc == 0, err
    assert f"archive of 2025/26, school {school_year.school_id} (Школа № 5)" in out
    assert "(Asia/Yekaterinburg)" in out.splitlines()[0]
    assert f"7Б: 3 pupils, 2 subjects, {school_year.lessons} lessons" in out
    assert _files(root) == FILES
    assert not _hidden_or(tmp_path / "none", tmp_path)  # no staging directory left

    info = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert (info["school_id"], info["year"], info["timezone"]) == (
        school_year.school_id,
        "2025/26",
        "Asia/Yekaterinburg",
    )
    assert datetime.fromisoformat(info["written_at"]).utcoffset() == timedelta(hours=5)
    assert info["keep_years"] == {"journal": 5, "summary": 25}
    [entry] = info["classes"]
    assert entry["klass"] == "7Б" and entry["pupils"] == 3
    assert entry["lessons"] == school_year.lessons
    assert (entry["corrections"], entry["absences"], entry["final_grades"]) == (2, 4, 30)

    listed = (root / "manifest.sha256").read_text(encoding="utf-8").splitlines()
    assert [line.split("  ", 1)[1] for line in listed] == FILES[:-1]
    for line in listed:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):  # the manifest is the tool's own format
        check = ["sha256sum", "--check", "--quiet", "manifest.sha256"]
        assert subprocess.run(check, cwd=root, check=False).returncode == 0  # noqa: ASYNC221

    _check_journal(root / JOURNAL)
    _check_summary(root / SUMMARY)
    for pdf in ("7Б/2025-26_7Б_journal.pdf", "7Б/2025-26_7Б_summary.pdf"):
        assert (root / pdf).read_bytes().startswith(b"%PDF-")

    rc, out, _ = await _archive(database_url, tmp_path, "verify", str(root))
    assert rc == 0 and f"{root}: all 5 files intact (2025/26, school" in out

    with (root / SUMMARY).open("ab") as file:
        file.write(b"\0")
    rc, out, err = await _archive(database_url, tmp_path, "verify", str(root))
    assert rc == 1
    assert err == f"journalbot: {root}: altered: {SUMMARY}\n"
    assert "1 problem(s), 4 files intact" in out

    (root / "7Б" / "notes.txt").write_text("mine")
    (root / "manifest.json").unlink()
    rc, out, err = await _archive(database_url, tmp_path, "verify", str(root))
    assert rc == 1
    assert err.splitlines() == [
        f"journalbot: {root}: altered: {SUMMARY}",
        f"journalbot: {root}: missing: manifest.json",
        f"journalbot: {root}: extra: 7Б/notes.txt",
    ]
    assert "3 problem(s), 3 files intact" in out


async def test_whole_year_without_class_writes_every_class(
    committing_engine: AsyncEngine, school_year: SchoolYear, database_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "all" / "2025"
    rc, out, err = await _archive(database_url, tmp_path, "--year", "2025-2026", "--to", str(root))
    assert rc == 0, err
    info = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["klass"] for entry in info["classes"]] == ["7Б", "8А"]
    assert info["classes"][1]["pupils"] == 1 and info["classes"][1]["lessons"] == 1
    rc, out, _ = await _archive(database_url, tmp_path, "verify", str(root))
    assert rc == 0 and "all 9 files intact" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "2030/31"), "school {school} has no academic year 2030/31 (it has: 2025/26)"),
        (("--year", "2025/26", "--class", "9Я"), "no class 9Я in 2025/26; classes: 7Б, 8А"),
        (
            ("--year", "2025/26", "--class", "7B"),
            "no class 7B in 2025/26 (class letters are Cyrillic); classes: 7Б, 8А",
        ),
        (("--year", "2025"), "'2025': expected an academic year such as 2025/26"),
        (
            ("--year", "2025/27"),
            "'2025/27': an academic year spans two years in a row, e.g. 2025/26",
        ),
        (("--year", "2025/26", "--school", "999999"), "no school 999999"),
    ],
)
async def test_bad_input_is_one_line_and_writes_nothing(
    committing_engine: AsyncEngine,
    school_year: SchoolYear,
    database_url: str,
    tmp_path: Path,
    *,
    args: tuple[str, ...],
    message: str,
) -> None:
    root = tmp_path / "archive"
    rc, out, err = await _archive(database_url, tmp_path, *args, "--to", str(root))
    assert rc == 1
    assert err.startswith(f"journalbot: {message.format(school=school_year.school_id)}")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert out == ""
    assert not _hidden_or(root, tmp_path)


async def test_unwritable_or_used_directory_is_refused(
    committing_engine: AsyncEngine, school_year: SchoolYear, database_url: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    inside_a_file = blocker / "archive"
    rc, _, err = await _archive(
        database_url, tmp_path, "--year", "2025/26", "--to", str(inside_a_file)
    )
    assert rc == 1
    refusal = f"cannot write to {inside_a_file}: {blocker} is not a writable directory"
    assert err == f"journalbot: {refusal}\n"
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("")
    rc, _, err = await _archive(database_url, tmp_path, "--year", "2025/26", "--to", str(used))
    assert rc == 1 and err == f"journalbot: {used} is not empty: give a new or empty directory\n"
    assert _files(used) == ["old.txt"]

    rc, _, err = await _archive(database_url, tmp_path, "verify", str(used))
    assert rc == 1 and err == f"journalbot: {used}: missing: manifest.sha256\n"
