"""A mark sent through the ingest API reaches families exactly as one written by SQL; the
`journalbot api` command line issues, lists and revokes tokens."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import time_machine
from aiogram import Bot
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.i18n import make_i18n
from bot.notifications import run_notifications
from bot.settings import Settings
from bot.testing.fake_api import FakeBotAPI
from services.db import models as m
from tests.fixtures.api import api_client, bearer, issue_token, name_rows
from tests.fixtures.cli import free_port, journalbot_env, run_journalbot, running_journalbot
from tests.fixtures.notifications import write_mark
from tests.fixtures.schools import FATHER, MOTHER, SON, Family

SCHOOL_DAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def school_day_noon() -> Iterator[None]:
    with time_machine.travel(SCHOOL_DAY_NOON, tick=True):
        yield


async def _school_of(engine: AsyncEngine, family: Family) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(
                    text("SELECT school_id FROM students WHERE id = :s"), {"s": family.student_id}
                )
            ).scalar_one()
        )


async def _events(engine: AsyncEngine) -> list[tuple[str, str, int, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT kind, table_name, student_id, lesson_id FROM journal_events ORDER BY id")
        )
        return [tuple(row) for row in rows]


async def test_an_api_mark_makes_the_same_event_as_an_sql_mark(
    committing_engine: AsyncEngine, family: Family
) -> None:
    school_id = await _school_of(committing_engine, family)
    async with AsyncSession(committing_engine) as session:
        await name_rows(
            session,
            school_id,
            {
                m.ExternalKind.STUDENT: {"S": family.student_id},
                m.ExternalKind.LESSON: {"L": family.lesson_id},
            },
        )
        await session.commit()
    token = await issue_token(committing_engine, school_id)
    before = len(await _events(committing_engine))
    await write_mark(committing_engine, family, "4")
    by_sql = (await _events(committing_engine))[before:]
    async with api_client(committing_engine) as client:
        record = {"external_id": "M", "student_ref": "S", "lesson_ref": "L", "value": "4"}
        assert (
            await client.post("/api/v1/marks", json=record, headers=bearer(token))
        ).status == 200
        by_api = (await _events(committing_engine))[before + 1 :]
        assert by_api == by_sql == [("mark.new", "marks", family.student_id, family.lesson_id)]
        fixed = {**record, "value": "2", "reason": "ошибка при вводе"}
        assert (
            await client.post("/api/v1/marks", json=fixed, headers=bearer(token))
        ).status == 200
        removed = {**record, "value": None, "reason": "ошибка"}
        assert (
            await client.post("/api/v1/marks", json=removed, headers=bearer(token))
        ).status == 200
    kinds = [kind for kind, *_ in await _events(committing_engine)]
    assert kinds[before + 2 :] == ["mark.corrected", "mark.removed"]


def _texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [str(r.params["text"]) for r in api.sent_messages(chat)]


async def test_an_api_mark_and_its_correction_reach_every_linked_person(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, bot: Bot
) -> None:
    school_id = await _school_of(committing_engine, family)
    async with AsyncSession(committing_engine) as session:
        await name_rows(
            session,
            school_id,
            {
                m.ExternalKind.STUDENT: {"S": family.student_id},
                m.ExternalKind.LESSON: {"L": family.lesson_id},
            },
        )
        await session.execute(
            text("UPDATE work_kinds SET code = 'control' WHERE id = :k"), {"k": family.control}
        )
        await session.commit()
    token = await issue_token(committing_engine, school_id)
    stop = asyncio.Event()
    settings = Settings(default_locale="ru", telegram_api_url=fake_api.url)
    url = committing_engine.url.render_as_string(hide_password=False)
    task = asyncio.create_task(
        run_notifications(
            committing_engine, url, bot=bot, i18n=make_i18n(), settings=settings, stop=stop
        )
    )
    record: dict[str, Any] = {
        "external_id": "M",
        "student_ref": "S",
        "lesson_ref": "L",
        "value": "5",
        "work_kind": "control",
    }
    try:
        await asyncio.sleep(0.2)  # listening
        async with api_client(committing_engine) as client:
            sent = await client.post("/api/v1/marks", json=record, headers=bearer(token))
            assert sent.status == 200
            await fake_api.wait_for("sendMessage", 3, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    # The very texts test_notifications expects of a mark written with bare SQL.
    assert _texts(fake_api, MOTHER) == [
        "📘 Миша Иванов — Алгебра: <b>5</b> (контрольная работа, пн, 23 нояб.)"
    ]
    assert _texts(fake_api, FATHER) == [
        "📘 Миша Иванов — Алгебра: <b>5</b> (control work, Mon, 23 Nov)"
    ]
    assert len(_texts(fake_api, SON)) == 1


async def test_the_command_line_issues_lists_and_revokes_tokens(
    database_url: str, committing_engine: AsyncEngine, tmp_path: Path, family: Family
) -> None:
    school_id = await _school_of(committing_engine, family)
    status, out, err = await run_journalbot(
        database_url, tmp_path, "api", "token", "issue", "--school", str(school_id), "--name", "ЭЖ"
    )
    assert status == 0, err
    token = out.splitlines()[1]
    assert len(token) >= 40 and "shown only this once" in err
    status, out, _ = await run_journalbot(database_url, tmp_path, "api", "token", "list")
    assert status == 0
    assert "1 token(s)" in out and "ЭЖ" in out and "never used" in out and "MSK" in out
    assert token not in out
    token_id = out.splitlines()[1].split()[0]
    status, out, _ = await run_journalbot(
        database_url, tmp_path, "api", "token", "revoke", token_id
    )
    assert status == 0 and "revoked" in out
    status, _, err = await run_journalbot(
        database_url, tmp_path, "api", "token", "revoke", "999999"
    )
    assert status == 1 and "no API token 999999" in err
    status, _, err = await run_journalbot(
        database_url, tmp_path, "api", "token", "issue", "--school", "999999", "--name", "x"
    )
    assert status == 1 and "no school 999999" in err


async def _about(port: int, token: str) -> tuple[int, Any]:
    """GET /api/v1/token, once the server answers (it may still be starting)."""
    url = f"http://127.0.0.1:{port}/api/v1/token"
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as answer:
                    return answer.status, await answer.json(content_type=None)
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError("the API never answered")


@pytest.mark.parametrize("command", ["api", "run"])
async def test_journalbot_api_and_run_with_api_port_serve_the_api(
    database_url: str,
    *,
    committing_engine: AsyncEngine,
    tmp_path: Path,
    family: Family,
    fake_api: FakeBotAPI,
    command: str,
) -> None:
    school_id = await _school_of(committing_engine, family)
    token = await issue_token(committing_engine, school_id, "served")
    port = free_port()
    env = journalbot_env(
        database_url,
        tmp_path,
        code_secret="api-test",
        api_url=fake_api.url,
        API_PORT=str(port),
        API_HOST="127.0.0.1",
        HEALTH_PORT="0",
    )
    async with running_journalbot(env, tmp_path, command) as process:
        status, body = await _about(port, token)
        assert (status, body) == (200, {"school_id": school_id, "name": "served"})
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert token not in stderr.decode()
