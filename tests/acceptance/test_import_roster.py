"""`journalbot import roster`: the template filled in, imported, imported again, changed,
dry-run, and broken files that name the row and column and write nothing."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.db import models as m
from services.ingest import external
from services.ingest.roster import ClassRecord, Roster, RosterError, apply_roster
from tests.fixtures.cli import run_journalbot
from tests.fixtures.imports import MORE, BlankSchool, school_today, workbook

Kind = m.ExternalKind


async def _ids(session: AsyncSession, school: int, kind: Kind) -> dict[str, int]:
    return await external.all_of(session, school, kind)


async def _state(engine: AsyncEngine, school: int) -> dict[str, Any]:
    """Everything an import may write, to compare before and after."""
    async with AsyncSession(engine) as session:
        students = (await session.execute(select(m.Student).order_by(m.Student.id))).scalars()
        guardianships = await session.execute(
            select(
                m.Guardianship.guardian_id,
                m.Guardianship.student_id,
                m.Guardianship.relation,
                m.Guardianship.ended_on,
            ).order_by(m.Guardianship.guardian_id, m.Guardianship.student_id)
        )
        counts = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (
                m.SchoolClass,
                m.Subgroup,
                m.SubgroupMember,
                m.Guardian,
                m.Consent,
                m.Staff,
                m.StaffRoleAssignment,
                m.TeachingAssignment,
                m.Subject,
                m.ExternalId,
                m.AuditEntry,
            )
        }
        return {
            "students": [
                (s.last_name, s.first_name, s.class_id, s.sex, s.left_at) for s in students
            ],
            "guardianships": [tuple(g) for g in guardianships],
            "counts": counts,
            "codes": {k: await _ids(session, school, k) for k in Kind},
        }


def _without_audit(state: dict[str, Any]) -> dict[str, Any]:
    counts = {k: v for k, v in state["counts"].items() if k != "audit_log"}
    return {**state, "counts": counts}


def _counts(out: str, kind: str) -> tuple[int, ...]:
    """(new, changed, unchanged, left) of a kind from the summary table."""
    match = re.search(rf"^\s*{kind}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", out, re.MULTILINE)
    assert match is not None, out
    return tuple(int(g) for g in match.groups())


async def _template(database_url: str, tmp_path: Path) -> bytes:
    """The template as the command line writes it to stdout, read back as bytes."""
    target = tmp_path / "template.xlsx"
    rc, _, err = await run_journalbot(
        database_url, tmp_path, "import", "template", "roster", "-o", str(target)
    )
    assert (rc, err) == (0, ""), err
    return target.read_bytes()


async def test_template_import_again_change_and_dry_run(
    committing_engine: AsyncEngine, blank_school: BlankSchool, database_url: str, tmp_path: Path
) -> None:
    school = blank_school.school_id
    template = await _template(database_url, tmp_path)
    first = workbook(template, tmp_path / "roster.xlsx")

    rc, out, err = await run_journalbot(database_url, tmp_path, "import", "roster", str(first))
    assert rc == 0, err
    assert "roster.xlsx: roster imported, school" in out and "(Asia/Yekaterinburg)" in out
    assert _counts(out, "class") == (2, 0, 0, 0)
    assert _counts(out, "student") == (3, 0, 0, 0)
    assert _counts(out, "guardian") == (2, 0, 0, 0)
    assert _counts(out, "guardianship") == (3, 0, 0, 0)
    assert _counts(out, "staff") == (2, 0, 0, 0)
    assert _counts(out, "class_teacher") == (2, 0, 0, 0)
    async with AsyncSession(committing_engine) as session:
        students = await _ids(session, school, Kind.STUDENT)
        misha = await session.get(m.Student, students["У-1"])
        assert misha is not None
        assert (misha.last_name, misha.sex, misha.middle_name) == ("Иванов", "m", "Петрович")
        assert misha.birth_date is not None and misha.birth_date.isoformat() == "2014-05-14"
        father = await session.get(m.Guardian, (await _ids(session, school, Kind.GUARDIAN))["Р-2"])
        assert father is not None and father.phone == "+79165554433"
        consents = (await session.scalars(select(m.Consent.student_id))).all()
        assert sorted(consents) == sorted([students["У-1"], students["У-2"]])  # not У-3
        entry = await session.scalar(select(m.AuditEntry))
        assert entry is not None and entry.action == "imported"
        assert entry.actor.startswith("cli")
        digest = hashlib.sha256(first.read_bytes()).hexdigest()
        assert entry.details["sha256"] == digest and entry.details["file"] == "roster.xlsx"
        assert entry.details["counts"]["student"]["new"] == 3
        assert "Иванов" not in str(entry.details)  # no personal data in the audit log
        # A mark given in 5Б before У-2 moves: it must keep its class.
        old_class = (await _ids(session, school, Kind.CLASS))["К-5Б"]
        mark_id = await _mark(session, school, old_class, students["У-2"], blank_school)

    before = await _state(committing_engine, school)
    rc, out, err = await run_journalbot(database_url, tmp_path, "import", "roster", str(first))
    assert rc == 0, err
    for kind in ("class", "student", "guardian", "guardianship", "staff", "subgroup"):
        assert _counts(out, kind)[0:2] == (0, 0) and _counts(out, kind)[3] == 0, kind
    again = await _state(committing_engine, school)
    assert again["counts"]["audit_log"] == before["counts"]["audit_log"] + 1
    assert _without_audit(again) == _without_audit(before)  # the same file changes nothing

    # Changed: У-1 renamed, У-2 moved to 6А (and out of 5Б's subgroup), У-3 gone,
    # Р-2 no longer the guardian of У-2.
    changed_more = dict(MORE)
    changed_more["Ученики"] = [
        ["У-2", "Иванова", "Алёна", "Петровна", "ж", "03.02.2014", "К-6А", "", "да", "01.09.2024"]
    ]
    changed_more["Состав подгрупп"] = []
    changed_more["Дети представителей"] = [["Р-2", "У-1", "отец"]]
    changed = workbook(
        template,
        tmp_path / "roster-changed.xlsx",
        add=changed_more,
        set_cells={("Ученики", "У-1", "Фамилия"): "Петров"},
    )
    rc, out, err = await run_journalbot(
        database_url, tmp_path, "import", "roster", str(changed), "--dry-run"
    )
    assert rc == 0, err
    assert "dry run, nothing written" in out
    assert _counts(out, "student") == (0, 2, 0, 1)
    assert "student У-1: changed (last_name)" in out
    assert "student У-2: changed (class_id)" in out
    assert "student У-3: left" in out
    assert "guardianship Р-2/У-2: left" in out
    after_dry_run = await _state(committing_engine, school)
    assert after_dry_run == again  # nothing written, not even the audit log

    rc, out, err = await run_journalbot(database_url, tmp_path, "import", "roster", str(changed))
    assert rc == 0, err
    assert _counts(out, "student") == (0, 2, 0, 1)
    assert _counts(out, "guardianship") == (0, 0, 2, 1)
    days = {blank_school.today, school_today()}  # the command may run past midnight
    async with AsyncSession(committing_engine) as session:
        classes = await _ids(session, school, Kind.CLASS)
        by_code = {
            code: await session.get(m.Student, local)
            for code, local in (await _ids(session, school, Kind.STUDENT)).items()
        }
        assert by_code["У-1"] is not None and by_code["У-1"].last_name == "Петров"
        moved = by_code["У-2"]
        assert moved is not None and moved.class_id == classes["К-6А"]
        gone = by_code["У-3"]
        assert gone is not None and gone.left_at in days  # marked, not deleted
        lesson_class = await session.scalar(
            select(m.Lesson.class_id)
            .join(m.Mark, m.Mark.lesson_id == m.Lesson.id)
            .where(m.Mark.id == mark_id)
        )
        assert lesson_class == old_class  # earlier marks keep their class
        members = (await session.scalars(select(m.SubgroupMember.student_id))).all()
        assert moved.id not in members
        ended = await session.scalar(
            select(m.Guardianship.ended_on).where(m.Guardianship.student_id == moved.id)
        )
        assert ended in days  # the row is kept, ended
        assert await session.scalar(select(func.count()).select_from(m.Guardianship)) == 3


async def _mark(
    session: AsyncSession, school: int, class_id: int, student: int, blank: BlankSchool
) -> int:
    """A lesson of 5Б yesterday with a mark for the student: history before a move."""
    staff = (await _ids(session, school, Kind.STAFF))["С-1"]
    subject = m.Subject(school_id=school, name="История")
    session.add(subject)
    await session.flush()
    lesson = m.Lesson(
        school_id=school,
        class_id=class_id,
        subject_id=subject.id,
        teacher_id=staff,
        date=blank.today - timedelta(days=1),
        slot=1,
        starts_at=time(8, 30),
        ends_at=time(9, 15),
    )
    session.add(lesson)
    await session.flush()
    mark = m.Mark(student_id=student, lesson_id=lesson.id, value="5", author_id=staff)
    session.add(mark)
    await session.flush()
    mark_id = mark.id
    await session.commit()
    return mark_id


async def _refused(
    engine: AsyncEngine, database_url: str, tmp_path: Path, school: int, path: Path
) -> str:
    """The import of a broken file: exit code 1, nothing written; its stderr."""
    before = await _state(engine, school)
    rc, out, err = await run_journalbot(database_url, tmp_path, "import", "roster", str(path))
    assert rc == 1, (out, err)
    assert "nothing written" in err
    assert await _state(engine, school) == before
    return err


async def test_broken_files_name_the_row_and_column_and_write_nothing(
    committing_engine: AsyncEngine, blank_school: BlankSchool, database_url: str, tmp_path: Path
) -> None:
    school = blank_school.school_id
    template = await _template(database_url, tmp_path)
    engine = committing_engine

    wrong_header = workbook(
        template, tmp_path / "header.xlsx", headers={("Ученики", "Фамилия"): "Фамилиия"}
    )
    err = await _refused(engine, database_url, tmp_path, school, wrong_header)
    assert (
        "header.xlsx, sheet «Ученики», row 1, column «Фамилия»: empty, expected a column «Фамилия»"
        in err
    )

    unknown_class = workbook(
        template, tmp_path / "class.xlsx", set_cells={("Ученики", "У-3", "Код класса"): "К-9Я"}
    )
    err = await _refused(engine, database_url, tmp_path, school, unknown_class)
    assert (
        "class.xlsx, sheet «Ученики», row 4, column «Код класса»: 'К-9Я', "
        "expected the code of a row of «Классы»" in err
    )

    impossible = workbook(
        template,
        tmp_path / "date.xlsx",
        set_cells={("Ученики", "У-2", "Дата рождения"): "31.02.2014"},
    )
    err = await _refused(engine, database_url, tmp_path, school, impossible)
    assert (
        "date.xlsx, sheet «Ученики», row 3, column «Дата рождения»: '31.02.2014', "
        "expected a date such as 01.09.2026 (there is no such day)" in err
    )

    duplicate = dict(MORE)
    duplicate["Сотрудники"] = [
        *MORE["Сотрудники"],
        ["С-1", "Другая", "Анна", "", "ж", "", "да", "нет", "нет"],
    ]
    twice = workbook(template, tmp_path / "twice.xlsx", add=duplicate)
    err = await _refused(engine, database_url, tmp_path, school, twice)
    assert (
        "twice.xlsx, sheet «Сотрудники», row 4, column «Код»: 'С-1', "
        "expected an id not used before (row 2 has it)" in err
    )

    # A CSV saved by Russian Excel: Windows-1251, `;`; the kind is told by its headers.
    lines = [
        "Код;Фамилия;Имя;Отчество;Пол;Дата рождения;Код класса;Телефон;"
        "Согласие на обработку ПДн;Дата согласия",
        "У-7;Ёлкина;Дарья;;ж;01.03.2015;К-5Б;;да;01.09.2024",
        "У-8;Щукин;Фёдор;;муж.;01.03.2015;К-5Б;;да;01.09.2024",
    ]
    csv_path = tmp_path / "ученики.csv"
    csv_path.write_bytes("\r\n".join(lines).encode("cp1251"))
    err = await _refused(engine, database_url, tmp_path, school, csv_path)
    assert "ученики.csv, sheet «Ученики», row 3, column «Пол»: 'муж.', expected one of «м»" in err
    assert "row 2, column «Код класса»: 'К-5Б'" in err  # no class 5Б imported yet

    # Every problem of a file is told at once, not one per run.
    many = workbook(
        template,
        tmp_path / "many.xlsx",
        set_cells={
            ("Ученики", "У-2", "Пол"): "x",
            ("Ученики", "У-3", "Дата рождения"): "2013-13-01",
        },
    )
    err = await _refused(engine, database_url, tmp_path, school, many)
    assert "row 3, column «Пол»" in err and "row 4, column «Дата рождения»" in err
    # and the rows that refer to the bad ones: У-2 in a subgroup and as a child
    assert "sheet «Состав подгрупп», row 3, column «Код ученика»: 'У-2'" in err
    assert "4 problem(s) in 4 row(s) of many.xlsx" in err


async def test_skip_bad_rows_imports_the_rest_and_marks_nobody_left(
    committing_engine: AsyncEngine, blank_school: BlankSchool, database_url: str, tmp_path: Path
) -> None:
    template = await _template(database_url, tmp_path)
    rc, _, err = await run_journalbot(
        database_url, tmp_path, "import", "roster", str(workbook(template, tmp_path / "a.xlsx"))
    )
    assert rc == 0, err
    bad = workbook(
        template,
        tmp_path / "b.xlsx",
        set_cells={("Ученики", "У-2", "Дата рождения"): "32.01.2014"},
        drop=[("Ученики", 4)],  # У-3 not listed: yet not marked left, rows were skipped
    )
    rc, out, err = await run_journalbot(
        database_url, tmp_path, "import", "roster", str(bad), "--skip-bad-rows"
    )
    assert rc == 0, err
    assert "row 3, column «Дата рождения»" in err
    assert "1 bad row(s) skipped; nobody was marked left" in out
    assert _counts(out, "student")[3] == 0
    async with AsyncSession(committing_engine) as session:
        left = await session.scalar(select(func.count()).where(m.Student.left_at.is_not(None)))
        assert left == 0


async def test_a_utf8_csv_with_commas_imports(
    committing_engine: AsyncEngine, blank_school: BlankSchool, database_url: str, tmp_path: Path
) -> None:
    csv_path = tmp_path / "classes.csv"
    csv_path.write_bytes(
        "\ufeffКод,Параллель,Буква,Смена,Классный руководитель\nК-1,1,а,1,\n".encode()
    )
    rc, out, err = await run_journalbot(database_url, tmp_path, "import", "roster", str(csv_path))
    assert rc == 0, err
    assert _counts(out, "class") == (1, 0, 0, 0)
    async with AsyncSession(committing_engine) as session:
        klass = await session.scalar(select(m.SchoolClass))
        assert klass is not None and (klass.grade, klass.letter) == (1, "А")


async def test_a_school_without_this_years_calendar_gets_a_clear_error(
    session: AsyncSession,
) -> None:
    school = m.School(name="Школа без года", timezone="Europe/Moscow")
    session.add(school)
    await session.flush()
    roster = Roster(classes=(ClassRecord("К-1", 1, "А"),))
    with pytest.raises(RosterError, match=r"has no academic year holding .*: add the year first"):
        await apply_roster(session, school.id, roster, complete=True, now=datetime.now(UTC))
