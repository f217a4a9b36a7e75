"""`journalbot shell`: the demo's offline chat driven by a script (SPEC §6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.db.session import asyncpg_dsn, with_database
from tests.fixtures.cli import run_journalbot

SCRIPT = """\
📘 Отметки
:mark 5
👥 Другой ребёнок
2
:as teacher
:time 20:00
:help
"""


@pytest.fixture
async def shell_url(database_url: str) -> AsyncIterator[str]:
    """An empty database of its own: the shell migrates it and loads the demo school."""
    # A name of its own, so that two runs on one server do not meet.
    name = f"journalbot_shell_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(database_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_scripted_session_links_reads_switches_and_receives_pushes(
    shell_url: str, tmp_path: Path
) -> None:
    code, transcript, err = await run_journalbot(
        shell_url, tmp_path, "shell", "--as", "parent", stdin=SCRIPT.encode(), seconds=300
    )
    assert code == 0, err[-2000:]
    # Linked with a one-time code, as a parent of two children.
    assert "(you link your account with the code from the school: /start " in transcript
    assert "Готово! Аккаунт привязан." in transcript
    parts = transcript.split("parent> ")
    # The marks screen names the child and lists subjects with averages.
    marks_screen = parts[1]
    assert "👤 " in marks_screen and "📘 Отметки, " in marks_screen and "ср. " in marks_screen
    first_child = marks_screen.split("👤 ", 1)[1].split(",", 1)[0]
    # The teacher's mark arrives as a push naming the child, the mark and the kind of work.
    push = parts[2]
    assert f"📘 {first_child} — " in push and ": 5 (" in push
    # The child switcher: two children, the second pressed.
    assert "[1] ✅" in parts[3] and "[2] " in parts[3]
    assert "(you press [2]" in parts[4] and "Сейчас показан: " in parts[4]
    assert first_child not in parts[4].split("Сейчас показан: ", 1)[1].split("\n", 1)[0]
    # The teacher, linked meanwhile, gets the evening reminder with snooze buttons.
    teacher = transcript.split("teacher> :time 20:00", 1)[1]
    assert "the scheduler ran: evening" in teacher
    assert "⏰ Скоро срок записей в журнале:" in teacher
    assert "нет темы" in teacher or "посещаемость не отмечена" in teacher
    assert "😴" in teacher and "до завтра" in teacher
    assert ":as parent|student|teacher|class-teacher|deputy" in transcript  # :help


async def test_the_demo_refuses_a_real_schools_database(shell_url: str, tmp_path: Path) -> None:
    """Fake accounts, marks and clocks never reach a real journal."""

    async def journalbot(*args: str, stdin: bytes = b"") -> tuple[int, str]:
        code, out, err = await run_journalbot(shell_url, tmp_path, *args, stdin=stdin)
        return code, out + err

    assert (await journalbot("db", "upgrade"))[0] == 0
    admin = await asyncpg.connect(asyncpg_dsn(shell_url))
    try:
        await admin.execute("INSERT INTO schools (name) VALUES ('Гимназия № 2')")
    finally:
        await admin.close()
    code, output = await journalbot("shell", stdin=b":mark 5\n")
    assert code == 1
    assert "the database holds a real school's journal" in output
    assert "you link your account" not in output
