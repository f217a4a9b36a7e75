"""/healthz, /readyz and /metrics, and a process that exits when its notifications die."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.app
from bot.app import ProcessFailed, run_bot, run_worker
from bot.cli.common import CommandError
from bot.cli.run import cmd_run
from bot.health import health_app, start_health_server
from bot.settings import Settings
from bot.testing.fake_api import FakeBotAPI
from services.health import REGISTRY
from tests.fixtures.bot import TEST_TOKEN, help_update
from tests.fixtures.cli import free_port, journalbot_env, running_journalbot

MAX_DUE_AGE = 300.0


@pytest.fixture
async def health(committing_engine: AsyncEngine) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(
        TestServer(health_app(committing_engine, max_due_age_seconds=MAX_DUE_AGE))
    )
    await client.start_server()
    yield client
    await client.close()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's registry of background tasks, restored after the test."""
    monkeypatch.setattr(REGISTRY, "tasks", {"consumer": True, "sender": True, "scheduler": True})
    monkeypatch.setattr(REGISTRY, "failed", None)


async def _pending(engine: AsyncEngine, *, due_since: datetime, chat_id: int = 881) -> None:
    """A pending message due since `due_since` (Python's clock, not the database's)."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO accounts (id, channel_user_id, chat_id, language)"
                " VALUES (:id, :id, :id, 'ru')"
                " ON CONFLICT DO NOTHING"
            ),
            {"id": chat_id},
        )
        await connection.execute(
            text(
                "INSERT INTO notifications"
                " (account_id, chat_id, category, dedup_key, not_before, created_at)"
                " VALUES (:id, :id, 'marks', :key, :due, :due)"
            ),
            {"id": chat_id, "key": f"health-{due_since.timestamp()}", "due": due_since},
        )


async def test_healthz_is_ok(health: TestClient[Any, Any]) -> None:
    response = await health.get("/healthz")
    assert response.status == 200
    assert await response.text() == "ok"


async def test_readyz_ready_then_not_when_a_task_is_dead_or_has_given_up(
    health: TestClient[Any, Any], registry: None
) -> None:
    response = await health.get("/readyz")
    assert response.status == 200
    assert await response.json() == {
        "ready": True,
        "checks": {"database": "ok", "tasks": "ok", "queue": "ok"},
    }
    REGISTRY.set("sender", False)
    response = await health.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["ready"] is False
    assert body["checks"]["tasks"] == "not running: sender"
    REGISTRY.set("sender", True)
    REGISTRY.failed = "scheduler"
    response = await health.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["tasks"] == "gave up: scheduler"


async def test_readyz_is_not_ready_when_the_oldest_due_message_is_too_old(
    committing_engine: AsyncEngine, health: TestClient[Any, Any], registry: None
) -> None:
    now = datetime.now(UTC)
    await _pending(committing_engine, due_since=now - timedelta(seconds=MAX_DUE_AGE / 2))
    # Held for later (quiet hours): not due, so it does not count however old it is.
    await _pending(committing_engine, due_since=now + timedelta(hours=9), chat_id=882)
    assert (await health.get("/readyz")).status == 200
    await _pending(committing_engine, due_since=now - timedelta(seconds=MAX_DUE_AGE * 3))
    response = await health.get("/readyz")
    assert response.status == 503
    checks = (await response.json())["checks"]
    assert checks["queue"].startswith("oldest due message waited ")
    assert checks["database"] == "ok" and checks["tasks"] == "ok"


async def test_readyz_is_not_ready_when_the_database_is_away(registry: None) -> None:
    from services.db.session import create_engine

    port = free_port()
    engine = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none", pool_size=1)
    client: TestClient[Any, Any] = TestClient(
        TestServer(health_app(engine, max_due_age_seconds=MAX_DUE_AGE))
    )
    await client.start_server()
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        checks = (await response.json())["checks"]
        assert checks["database"].startswith("unreachable")
        assert checks["queue"] == "unknown"
        metrics = _samples(await (await client.get("/metrics")).text())
        assert metrics[("journalbot_database_up", ())] == 0
    finally:
        await client.close()
        await engine.dispose()


def _samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


async def test_metrics_parse_and_move_when_an_update_is_handled(
    committing_engine: AsyncEngine,
    health: TestClient[Any, Any],
    dispatcher: Dispatcher,
    bot: Bot,
    fake_api: FakeBotAPI,
) -> None:
    from aiogram.types import Update

    now = datetime.now(UTC)
    await _pending(committing_engine, due_since=now - timedelta(seconds=120))
    await _pending(committing_engine, due_since=now + timedelta(hours=1), chat_id=882)
    response = await health.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    before = _samples(await response.text())
    assert before[("journalbot_queue_depth", ())] == 2
    assert before[("journalbot_queue_due", ())] == 1
    assert before[("journalbot_queue_oldest_due_seconds", ())] >= 120
    assert before[("journalbot_database_up", ())] == 1
    assert ("journalbot_outbox_lag_seconds", ()) in before

    update = Update.model_validate(help_update(1), context={"bot": bot})
    await dispatcher.feed_update(bot, update)
    assert fake_api.sent_messages(77)

    after = _samples(await (await health.get("/metrics")).text())
    key = ("journalbot_updates_total", (("kind", "message"),))
    assert after[key] == before.get(key, 0) + 1
    count = ("journalbot_update_seconds_count", (("kind", "message"),))
    assert after[count] == before.get(count, 0) + 1


async def test_a_taken_health_port_is_a_warning_not_a_failure(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(health_host="127.0.0.1", health_port=port)
        assert await start_health_server(engine, settings) is None
    assert "health server not started" in caplog.text
    assert await start_health_server(engine, Settings(health_port=0)) is None


# --- the process goes down with its notifications --------------------------------------------


async def _dying(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the supervisor gave up")


@pytest.fixture
def notifications_die(monkeypatch: pytest.MonkeyPatch, registry: None) -> None:
    """The process's notifications fail at once, as when their supervisor gives up."""
    monkeypatch.setattr(bot.app, "run_notifications", _dying)


def _settings(api: FakeBotAPI, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        bot_token=TEST_TOKEN,
        telegram_api_url=api.url,
        data_dir=tmp_path,
        code_secret="health-test-secret",
        health_port=0,
        **extra,
    )


@pytest.mark.usefixtures("notifications_die")
async def test_run_bot_stops_polling_and_fails_when_the_notifications_die(
    database_url: str, fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    settings = _settings(fake_api, tmp_path)
    with pytest.raises(ProcessFailed):
        await asyncio.wait_for(run_bot(settings, database_url), 60)
    assert REGISTRY.failed == "notifications"
    # `journalbot run` turns it into one line and exit status 1.
    settings = _settings(fake_api, tmp_path, database_url=database_url)
    with pytest.raises(CommandError, match="notifications stopped"):
        await asyncio.wait_for(cmd_run(settings, argparse.Namespace()), 60)


async def test_run_bot_stops_the_webhook_server_when_the_notifications_die(
    database_url: str,
    fake_api: FakeBotAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registry: None,
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def dies_later(*args: object, **kwargs: object) -> None:
        started.set()
        await release.wait()
        raise RuntimeError("the supervisor gave up")

    monkeypatch.setattr(bot.app, "run_notifications", dies_later)
    port = free_port()
    settings = _settings(
        fake_api,
        tmp_path,
        webhook_url="https://bot.school.example",
        webhook_secret="s3cret-value",
        webhook_host="127.0.0.1",
        webhook_port=port,
    )
    running = asyncio.create_task(run_bot(settings, database_url))
    await fake_api.wait_for("setWebhook", timeout=60)
    await started.wait()
    release.set()
    with pytest.raises(ProcessFailed):
        await asyncio.wait_for(running, 60)
    # The webhook server is gone with it.
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.post(f"http://127.0.0.1:{port}/telegram/webhook", json={})


@pytest.mark.usefixtures("notifications_die")
async def test_run_worker_fails_when_the_notifications_die(
    database_url: str, fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    with pytest.raises(ProcessFailed):
        await asyncio.wait_for(run_worker(_settings(fake_api, tmp_path), database_url), 60)


# --- served by the real processes ----------------------------------------------------------


async def _get(url: str) -> tuple[int, str]:
    """GET `url`, retrying while the process is still starting (a minute at most)."""
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(60):
            while True:
                try:
                    async with http.get(url) as response:
                        return response.status, await response.text()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)


@pytest.mark.parametrize("command", [["run"], ["notify", "worker"]], ids=["run", "worker"])
async def test_the_processes_serve_health_and_metrics(
    committing_engine: AsyncEngine,
    database_url: str,
    fake_api: FakeBotAPI,
    tmp_path: Path,
    command: list[str],
) -> None:
    port = free_port()
    env = journalbot_env(
        database_url,
        tmp_path,
        code_secret="health-test-secret",
        api_url=fake_api.url,
        HEALTH_HOST="127.0.0.1",
        HEALTH_PORT=str(port),
    )
    async with running_journalbot(
        env, tmp_path, *command, stdout=asyncio.subprocess.DEVNULL
    ) as process:
        base = f"http://127.0.0.1:{port}"
        assert await _get(base + "/healthz") == (200, "ok")
        status, body = await _get(base + "/readyz")
        assert status in {200, 503} and '"database": "ok"' in body
        status, page = await _get(base + "/metrics")
        assert status == 200
        names = {family.name for family in text_string_to_metric_families(page)}
        assert {"journalbot_updates", "journalbot_messages", "journalbot_queue_depth"} <= names
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
