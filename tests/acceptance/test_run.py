"""`journalbot run` as a real process against the fake Bot API: polling, webhook, stop, errors."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.testing.fake_api import FakeBotAPI
from tests.fixtures.bot import TEST_TOKEN, help_update
from tests.fixtures.cli import free_port, journalbot_env, running_journalbot, start_journalbot


def _env(database_url: str, api_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return journalbot_env(
        database_url, tmp_path, code_secret="run-test-secret", api_url=api_url, **extra
    )


async def test_polling_answers_and_stops_gracefully_on_sigterm(
    committing_engine: AsyncEngine, database_url: str, fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    env = _env(database_url, fake_api.url, tmp_path)
    async with running_journalbot(env, tmp_path, "run") as process:
        await fake_api.wait_for("getUpdates", timeout=60)
        commands = fake_api.of("setMyCommands")
        assert {c.params.get("language_code") for c in commands} >= {"ru", "en", "tt"}
        fake_api.push_message(4242, "/start", language_code="en")
        [reply] = await fake_api.wait_for("sendMessage", timeout=30)
        assert reply.params["chat_id"] == 4242
        assert "send me the access code" in reply.params["text"]
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    log = stderr.decode()
    assert "stopped" in log
    assert "Traceback" not in log
    assert TEST_TOKEN not in log


async def test_bad_token_is_one_clear_line(database_url: str, tmp_path: Path) -> None:
    async with FakeBotAPI(tokens={"1:other-token-aaaaaaaaaaaaaaaaaaaa"}) as api:
        process = await start_journalbot(_env(database_url, api.url, tmp_path), tmp_path, "run")
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    last = stderr.decode().strip().splitlines()[-1]
    assert last == "journalbot: BOT_TOKEN was rejected by the Bot API (Unauthorized)"


async def test_unreachable_bot_api_is_one_clear_line(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = _env(database_url, f"http://127.0.0.1:{port}", tmp_path)
    process = await start_journalbot(env, tmp_path, "run")
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"journalbot: cannot reach the Bot API at http://127.0.0.1:{port}")


async def test_webhook_checks_the_secret(
    committing_engine: AsyncEngine, database_url: str, fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    port = free_port()
    env = _env(
        database_url,
        fake_api.url,
        tmp_path,
        WEBHOOK_URL="https://bot.school.example",
        WEBHOOK_SECRET="s3cret-value",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    async with running_journalbot(env, tmp_path, "run") as process:
        [hook] = await fake_api.wait_for("setWebhook", timeout=60)
        assert hook.params["url"] == "https://bot.school.example/telegram/webhook"
        assert hook.params["secret_token"] == "s3cret-value"
        update = help_update(1)
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
        [reply] = await fake_api.wait_for("sendMessage", timeout=30)
        assert reply.params["chat_id"] == 77 and "What I can do" in reply.params["text"]
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
