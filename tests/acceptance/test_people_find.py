"""`journalbot people find`: pupils, guardians and staff by a name, a class, a phone or a
code, with the ids `codes` and `access revoke` take and whether they are linked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.db import models as m
from services.imports.roster import check_roster
from services.imports.tabular import read_tables
from services.ingest import external
from services.ingest.roster import apply_roster
from services.people import FoundPerson, find_people
from tests.fixtures.cli import run_journalbot
from tests.fixtures.imports import BlankSchool, workbook

Kind = m.ExternalKind


async def _import(session: AsyncSession, school: int, template: bytes, tmp_path: Path) -> None:
    """The template's roster with more rows, imported in the test's own transaction."""
    checked = check_roster(read_tables(workbook(template, tmp_path / "roster.xlsx")), {})
    assert not checked.problems
    await apply_roster(session, school, checked.value, complete=True, now=datetime.now(UTC))


def _shown(found: list[FoundPerson]) -> set[tuple[str, str]]:
    return {(p.external_id or "", p.person.kind.value) for p in found}


async def test_find_by_name_class_phone_and_code(
    session: AsyncSession, roster_template_bytes: bytes, tmp_path: Path
) -> None:
    school = m.School(name="Школа", timezone="Europe/Moscow")
    session.add(school)
    await session.flush()
    today = datetime.now(UTC).date()
    session.add(
        m.AcademicYear(
            school_id=school.id,
            name="y",
            starts_on=today - timedelta(days=200),
            ends_on=today + timedelta(days=200),
        )
    )
    await _import(session, school.id, roster_template_bytes, tmp_path)

    async def find(text: str) -> set[tuple[str, str]]:
        return _shown(await find_people(session, text, school_id=school.id))

    # Part of a name, any case, ё or е; every word must match.
    assert await find("семен") == {("У-3", "student")}
    assert await find("ИВАНОВ") == {
        ("У-1", "student"),
        ("У-2", "student"),
        ("Р-1", "guardian"),
        ("Р-2", "guardian"),
    }
    assert await find("иванов ильич") == {("Р-2", "guardian")}
    assert await find("алена") == {("У-2", "student")}
    # A class: its pupils, their guardians, its class teacher.
    expected_5b = {
        ("У-1", "student"),
        ("У-2", "student"),
        ("Р-1", "guardian"),
        ("Р-2", "guardian"),
        ("С-1", "staff"),
    }
    assert await find("5Б") == expected_5b
    assert await find("5 б") == expected_5b
    # A phone in any spelling, and the program's code.
    assert await find("+7 (916) 555-44-33") == {("Р-2", "guardian")}
    assert await find("8 916 111 22 33") == {("У-3", "student")}
    assert await find("С-2") == {("С-2", "staff")}
    assert await find("Никого Такого") == set()

    mother = (await external.resolve(session, school.id, Kind.GUARDIAN, ["Р-1"]))["Р-1"]
    account = m.Account(channel_user_id=7001, chat_id=7001)
    session.add(account)
    await session.flush()
    session.add(m.AccountLink(account_id=account.id, role="guardian", guardian_id=mother))
    await session.flush()
    [found] = [p for p in await find_people(session, "Ольга", school_id=school.id)]
    assert (str(found.person), found.linked, found.classes) == (
        f"guardian:{mother}",
        True,
        ("5Б",),
    )
    [father] = await find_people(session, "Ильич", school_id=school.id)
    assert not father.linked and father.classes == ("5Б",)


async def test_the_command_prints_ids_classes_and_links(
    committing_engine: AsyncEngine,
    blank_school: BlankSchool,
    roster_template_bytes: bytes,
    database_url: str,
    tmp_path: Path,
) -> None:
    path = workbook(roster_template_bytes, tmp_path / "roster.xlsx")
    rc, _, err = await run_journalbot(database_url, tmp_path, "import", "roster", str(path))
    assert rc == 0, err
    async with AsyncSession(committing_engine) as session:
        pupil = await external.resolve(session, blank_school.school_id, Kind.STUDENT, ["У-1"])
    rc, out, err = await run_journalbot(database_url, tmp_path, "people", "find", "михаил")
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"1 found for 'михаил' in school {blank_school.school_id}:"
    assert f"student:{pupil['У-1']}" in lines[1]
    assert "Иванов Михаил Петрович" in lines[1] and "5Б" in lines[1]
    assert "code У-1" in lines[1] and lines[1].endswith("not linked")

    rc, out, _ = await run_journalbot(database_url, tmp_path, "people", "find", "Жуков")
    assert rc == 0
    assert out.startswith(f"Nobody in school {blank_school.school_id} matches 'Жуков'")

    rc, _, err = await run_journalbot(
        database_url, tmp_path, "people", "find", "Иванов", "--school", "999"
    )
    assert (rc, err) == (1, "journalbot: no school 999\n")
