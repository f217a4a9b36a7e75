"""`journalbot run` as a real process against the fake Bot API: polling, webhook, stop, errors."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.testing.fake_api import FakeBotAPI
from tests.fixtures.bot import TEST_TOKEN


def _env(database_url: str, api_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "DATABASE_URL"}
    }
    env.update(
        BOT_TOKEN=TEST_TOKEN,
        DATABASE_URL=database_url,
        TELEGRAM_API_URL=api_url,
        DATA_DIR=str(tmp_path),
        CODE_SECRET="run-test-secret",
        **extra,
    )
    return env


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=str(cwd),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


async def test_polling_answers_and_stops_gracefully_on_sigterm(
    committing_engine: AsyncEngine, database_url: str, api: FakeBotAPI, tmp_path: Path
) -> None:
    process = await _start(_env(database_url, api.url, tmp_path), tmp_path)
    try:
        await api.wait_for("getUpdates", timeout=60)
        commands = api.of("setMyCommands")
        assert {c.params.get("language_code") for c in commands} >= {"ru", "en", "tt"}
        api.push_message(4242, "/start", language_code="en")
        [reply] = await api.wait_for("sendMessage", timeout=30)
        assert reply.params["chat_id"] == 4242
        assert "send me the access code" in reply.params["text"]
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    log = stderr.decode()
    assert "stopped" in log
    assert "Traceback" not in log
    assert TEST_TOKEN not in log


async def test_bad_token_is_one_clear_line(database_url: str, tmp_path: Path) -> None:
    async with FakeBotAPI(tokens={"1:other-token-aaaaaaaaaaaaaaaaaaaa"}) as api:
        process = await _start(_env(database_url, api.url, tmp_path), tmp_path)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    last = stderr.decode().strip().splitlines()[-1]
    assert last == "journalbot: BOT_TOKEN was rejected by the Bot API (Unauthorized)"


async def test_unreachable_bot_api_is_one_clear_line(database_url: str, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    process = await _start(_env(database_url, f"http://127.0.0.1:{port}", tmp_path), tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"journalbot: cannot reach the Bot API at http://127.0.0.1:{port}")


async def test_webhook_checks_the_secret(
    committing_engine: AsyncEngine, database_url: str, api: FakeBotAPI, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _env(
        database_url,
        api.url,
        tmp_path,
        WEBHOOK_URL="https://bot.school.example",
        WEBHOOK_SECRET="s3cret-value",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    process = await _start(env, tmp_path)
    try:
        [hook] = await api.wait_for("setWebhook", timeout=60)
        assert hook.params["url"] == "https://bot.school.example/telegram/webhook"
        assert hook.params["secret_token"] == "s3cret-value"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1,
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                "chat": {"id": 77, "type": "private", "first_name": "A"},
                "from": {"id": 77, "is_bot": False, "first_name": "A", "language_code": "en"},
            },
        }
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as bad:
                assert bad.status == 401
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            ) as good:
                assert good.status == 200
        [reply] = await api.wait_for("sendMessage", timeout=30)
        assert reply.params["chat_id"] == 77 and "What I can do" in reply.params["text"]
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
