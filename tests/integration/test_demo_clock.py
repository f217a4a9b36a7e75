"""The demo's sandbox and chat: the cast's teacher, absences only from lessons that have begun,
a progress bar over the whole load, one prompt per line."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.demo.shell import Shell
from bot.settings import Settings
from services import demo
from services.demo import sandbox
from services.demo.sandbox import Role

TODAY = date(2026, 11, 23)  # a Monday of the second quarter


@pytest.fixture
async def loaded(committing_engine: AsyncEngine) -> list[tuple[str, int, int]]:
    """The demo school, loaded once per test; what the progress bar was told."""
    told: list[tuple[str, int, int]] = []
    await demo.seed_demo(
        committing_engine,
        seed=1,
        today=TODAY,
        progress=lambda stage, done, total: told.append((stage, done, total)),
    )
    return told


async def test_the_load_is_told_to_its_end_and_the_cast_teacher_is_no_class_teacher(
    committing_engine: AsyncEngine, loaded: list[tuple[str, int, int]]
) -> None:
    stages = list(dict.fromkeys(stage for stage, _, _ in loaded))
    # Building the journal, writing it (most of the time), then sequences, commit, statistics.
    assert stages == ["school 1/1: journal", "school 1/1: writing", "finishing"]
    for stage in stages:
        done = [(d, t) for s, d, t in loaded if s == stage]
        assert done[-1][0] == done[-1][1], stage  # each reaches 100 %
        assert [d for d, _ in done] == sorted(d for d, _ in done), stage
    writing = [d for s, d, _ in loaded if s == "school 1/1: writing"]
    assert len(writing) > 3  # the bar moves while the rows are written
    assert loaded[-1] == ("finishing", 2, 2)
    cast = await sandbox.cast(committing_engine)
    async with committing_engine.connect() as connection:
        roles = (
            await connection.execute(
                text("SELECT role FROM staff_roles WHERE staff_id = :s"), {"s": cast.teacher_id}
            )
        ).all()
        teaches = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM teaching_assignments t JOIN students s"
                    " ON s.class_id = t.class_id WHERE s.id = :child AND t.staff_id = :t"
                ),
                {"child": cast.child_ids[0], "t": cast.teacher_id},
            )
        ).scalar_one()
    # A subject teacher: nobody's class teacher, no deputy.
    assert {role for (role,) in roles} == {"subject_teacher"}
    assert teaches > 0  # but teaches the first child's class
    assert cast.teacher_id != cast.class_teacher_id


async def test_an_absence_only_from_a_lesson_that_has_begun(
    committing_engine: AsyncEngine, loaded: list[tuple[str, int, int]]
) -> None:
    cast = await sandbox.cast(committing_engine)
    child = cast.child_ids[0]
    zone = await sandbox.school_zone(committing_engine, cast.school_id, "Europe/Moscow")
    early = datetime.combine(TODAY, time(7), zone)
    with pytest.raises(sandbox.NotBegun) as refused:
        await sandbox.add_absence(committing_engine, child, early)
    first = refused.value.first
    assert first is not None and first > time(7)
    async with committing_engine.connect() as connection:
        absences = (await connection.execute(text("SELECT count(*) FROM attendance"))).scalar()
    # A mark at 07:00 goes to the last lesson that took place: Friday's, not Monday's.
    mark = await sandbox.add_mark(committing_engine, child, "5", None, early)
    async with committing_engine.connect() as connection:
        day = (
            await connection.execute(
                text(
                    "SELECT l.date FROM marks m JOIN lessons l ON l.id = m.lesson_id"
                    " WHERE m.student_id = :s ORDER BY m.id DESC LIMIT 1"
                ),
                {"s": child},
            )
        ).scalar_one()
    assert mark.detail == "5" and day < TODAY
    # Once the first lesson has begun it can be missed.
    begun = datetime.combine(TODAY, first, zone)
    event = await sandbox.add_absence(committing_engine, child, begun)
    async with committing_engine.connect() as connection:
        lesson = (
            await connection.execute(
                text(
                    "SELECT l.date, l.starts_at FROM attendance a JOIN lessons l"
                    " ON l.id = a.lesson_id WHERE a.student_id = :s ORDER BY a.updated_at DESC,"
                    " a.id DESC LIMIT 1"
                ),
                {"s": child},
            )
        ).one()
        after = (await connection.execute(text("SELECT count(*) FROM attendance"))).scalar()
    assert event.subject and tuple(lesson) == (TODAY, first)
    assert after == (absences or 0) + 1


async def test_one_prompt_per_line_even_when_a_push_arrives_meanwhile(
    committing_engine: AsyncEngine,
    database_url: str,
    loaded: list[tuple[str, int, int]],
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    shell = Shell(
        Settings(default_locale="ru"),
        committing_engine,
        database_url,
        out=out,
        color=False,
        files_dir=tmp_path,
        role=Role.PARENT,
    )
    try:
        await shell.start()
        # :mark makes a push that arrives while the line is still being handled.
        await shell.run_lines(io.StringIO(":mark 5\n:who\n"), echo=False, prompt=True)
    finally:
        await shell.close()
    transcript = out.getvalue()
    assert "(the teacher puts 5 in " in transcript
    assert "📘 " in transcript  # the push itself
    # A prompt for each of the two lines and one for the end of input: never two in a row.
    assert transcript.count("parent> ") == 3
    assert "parent> parent> " not in transcript
    assert "parent> \nparent> " not in transcript
