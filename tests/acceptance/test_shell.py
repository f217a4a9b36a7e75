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
    assert "(you press [2]" in parts[4] and "Сейчас открыт дневник: " in parts[4]
    assert first_child not in parts[4].split("Сейчас открыт дневник: ", 1)[1].split("\n", 1)[0]
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


CLOCK_SCRIPT = """\
:as teacher
:time wed 07:00
:as parent
:absence
:time 06:00
:time 09:30
:absence
:time fri 16:00
:as class-teacher
:as deputy
"""


def _bar_lines(err: str) -> list[str]:
    """The progress bar's states as printed (it redraws its line with a carriage return)."""
    return [line for line in err.replace("\r", "\n").splitlines() if "%" in line]


async def test_the_demos_clock_goes_forward_only_and_brings_the_friday_reports(
    shell_url: str, tmp_path: Path
) -> None:
    code, transcript, err = await run_journalbot(
        shell_url, tmp_path, "shell", "--as", "parent", stdin=CLOCK_SCRIPT.encode(), seconds=300
    )
    assert code == 0, err[-2000:]
    # Every line of the script, echoed after its prompt, then what came of it.
    steps = transcript.split("> :")[1:]
    assert [s.split("\n", 1)[0] for s in steps] == [line[1:] for line in CLOCK_SCRIPT.splitlines()]
    as_teacher, wed, _parent, absence_early, backwards, later, absence, friday, ct, deputy = steps
    # :as teacher is a subject teacher of the child's class who is no class teacher: no
    # «Мой класс» on the keyboard; the class teacher has it.
    assert "Вы привязаны как сотрудник школы" in as_teacher
    assert "keyboard: " in as_teacher and "🏫 Мой класс" not in as_teacher
    assert "🏫 Мой класс" in ct
    teacher_name = as_teacher.split("сотрудник школы: ", 1)[1].split(".", 1)[0]
    class_teacher_name = ct.split("сотрудник школы: ", 1)[1].split(".", 1)[0]
    assert teacher_name != class_teacher_name
    # :time with a day goes to that day ahead; the clock never goes back.
    assert "(the school's clock shows Wed " in wed and " 07:00;" in wed
    assert "never goes back" in backwards and "06:00;" not in backwards
    assert "the scheduler ran" not in backwards
    # :absence only for a lesson that has begun: at 07:00 none has.
    school_day = "no lesson of the child has begun yet today" in absence_early
    assert school_day or "the child has no lessons today" in absence_early
    assert "is marked absent" not in absence_early and "🚸" not in absence_early
    assert " 09:30;" in later
    if school_day:
        # The same day at 09:30 a lesson has begun: the absence is written and pushed.
        assert "is marked absent from " in absence and "🚸 " in absence
    # Friday 16:00: the weekly reports run and reach the class teacher and the deputy.
    assert "(the school's clock shows Fri " in friday and " 16:00;" in friday
    assert "weekly_reports" in friday
    assert "messages arrived for: " in friday and "class-teacher" in friday and "deputy" in friday
    assert "🏫 " in ct and "класс: неделя" in ct
    assert "📎 file saved to " in deputy and "📊 Ведение журнала, неделя" in deputy
    # The progress bar covers the whole load: the journal, its writing, then the sequences,
    # the commit and the statistics, each to 100 %.
    bar = _bar_lines(err)
    stages = [line.split("[", 1)[0].strip() for line in bar]
    assert stages[0].startswith("school 1/1: journal")
    assert "school 1/1: writing" in stages
    assert stages[-1] == "finishing"
    for stage in ("school 1/1: journal", "school 1/1: writing", "finishing"):
        assert any(line.startswith(stage) and "100.0%" in line for line in bar), stage
    assert "100.0% 2/2" in bar[-1]


PERIOD_END_SCRIPT = """\
:final
:time period-end
:wait 10
:as class-teacher
"""


async def test_a_seed004_school_at_a_terms_end_sends_the_summary_sheet_and_report_cards(
    shell_url: str, tmp_path: Path
) -> None:
    """Issue 15, seed 004 §3.3.6, §4.6.4: the demo school under the seed-004 profile; the
    parent's child gets the term's final grades, the clock moves past their deadline, and the
    class teacher's summary sheet (XLSX and PDF) and the family's report card arrive."""
    code, _out, err = await run_journalbot(shell_url, tmp_path, "seed-demo", seconds=300)
    assert code == 0, err[-2000:]
    code, out, err = await run_journalbot(
        shell_url, tmp_path, "school", "set-profile", "--school", "1", "seed004"
    )
    assert code == 0 and "seed004" in out, (out, err)
    code, transcript, err = await run_journalbot(
        shell_url,
        tmp_path,
        "shell",
        "--as",
        "parent",
        stdin=PERIOD_END_SCRIPT.encode(),
        seconds=300,
    )
    assert code == 0, err[-2000:]
    steps = transcript.split("> :")[1:]
    final, period_end, _wait, class_teacher = steps
    assert "(final grades of the period entered for " in final
    if "no term of this school year ends ahead" in period_end:
        # June and July: the demo's school year is over; nothing is due and nothing is sent.
        assert "the scheduler ran" not in period_end
        return
    assert "the scheduler ran: " in period_end and "period_documents" in period_end
    # The parent's report card: a PDF file with its caption.
    assert "📎 file saved to " in period_end and "report-card-" in period_end
    assert "📄 Табель успеваемости: " in period_end
    # The class teacher: the class's summary sheet, as XLSX and as PDF.
    assert "📑 Сводная ведомость класса " in class_teacher
    files = [line for line in class_teacher.splitlines() if "📎 file saved to " in line]
    assert any(f.endswith(".xlsx") for f in files) and any(f.endswith(".pdf") for f in files)
    assert (tmp_path / "demo-files").is_dir()
