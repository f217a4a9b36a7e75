"""A sender killed with SIGKILL in the middle of a batch loses nothing when it comes back."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.testing.fake_api import FakeBotAPI
from tests.fixtures.cli import journalbot_env, start_journalbot
from tests.fixtures.notifications import write_mark
from tests.fixtures.schools import Family

CONCURRENCY = 4
PARENTS = 100


async def _worker(database_url: str, api_url: str, tmp_path: Path) -> asyncio.subprocess.Process:
    env = journalbot_env(
        database_url,
        tmp_path,
        code_secret="crash-test-secret",
        api_url=api_url,
        NOTIFY_RATE="500",
        NOTIFY_LEASE_SECONDS="2",
        NOTIFY_CONCURRENCY=str(CONCURRENCY),
        LOG_LEVEL="WARNING",
    )
    return await start_journalbot(
        env, tmp_path, "notify", "worker", stdout=asyncio.subprocess.DEVNULL
    )


async def _statuses(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT status FROM notifications"))
        return Counter(status for (status,) in rows)


async def test_kill_minus_nine_mid_batch_then_restart_delivers_everything(
    committing_engine: AsyncEngine,
    family: Family,
    tmp_path: Path,
) -> None:
    # A hundred more parents, each in a chat of their own.
    async with committing_engine.begin() as connection:
        await connection.execute(
            text(
                """
                WITH g AS (
                    INSERT INTO guardians (last_name, first_name)
                    SELECT 'Родитель', 'N' || n FROM generate_series(1, :n) n RETURNING id
                ), ship AS (
                    INSERT INTO guardianships (guardian_id, student_id)
                    SELECT id, :s FROM g RETURNING guardian_id
                ), acc AS (
                    INSERT INTO accounts (id, channel_user_id, chat_id, language)
                    SELECT 700000 + guardian_id, 700000 + guardian_id, 700000 + guardian_id, 'ru'
                    FROM ship
                    RETURNING id
                )
                INSERT INTO account_links (account_id, role, guardian_id)
                SELECT id, 'guardian', id - 700000 FROM acc
                """
            ),
            {"n": PARENTS, "s": family.student_id},
        )
        # The worker is another process on the real clock, which may stand at night or on a
        # Sunday evening: no quiet hours, and no weekly digest to count among the marks.
        await connection.execute(text("UPDATE accounts SET quiet_from = quiet_to"))
        await connection.execute(
            text(
                "INSERT INTO notification_prefs (account_id, category, mode)"
                " SELECT id, 'weekly', 'off' FROM accounts"
            )
        )
    database_url = committing_engine.url.render_as_string(hide_password=False)
    async with FakeBotAPI(latency=0.01) as api:
        process = await _worker(database_url, api.url, tmp_path)
        try:
            for value in ("5", "4"):
                await write_mark(committing_engine, family, value)
            expected = 2 * (PARENTS + 3)
            await api.wait_for("sendMessage", 40, timeout=60)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            sent_before = len(api.sent_messages())
            assert sent_before < expected, "the worker finished before it could be killed"
            process = await _worker(database_url, api.url, tmp_path)

            for _ in range(300):
                if (await _statuses(committing_engine))["sent"] >= expected:
                    break
                await asyncio.sleep(0.2)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 20)
        messages = Counter((r.params["chat_id"], r.params["text"]) for r in api.sent_messages())
    assert len(messages) == expected  # every message arrived
    repeated = [key for key, count in messages.items() if count > 1]
    # At most the messages in flight at the moment of the kill came twice, none three times.
    assert len(repeated) <= CONCURRENCY
    assert all(count <= 2 for count in messages.values())
    assert await _statuses(committing_engine) == Counter({"sent": expected})
