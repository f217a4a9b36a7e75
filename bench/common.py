"""Shared helpers for benchmarks: their command line, a fresh database on the configured or
embedded server, a demo school with every parent linked, the worker's environment, figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from services import demo
from services.db import migrate
from services.db.embedded import server_from_environment
from services.db.session import asyncpg_dsn, create_engine, with_database

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:BENCH-token-for-the-fake-bot-api"


def command_line(doc: str | None, *, students: int) -> argparse.ArgumentParser:
    """A benchmark's options: its docstring as the help, `--students` with its default."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--students", type=int, default=students)
    return parser


def run_main(
    main: Callable[..., Coroutine[Any, Any, None]], parser: argparse.ArgumentParser
) -> None:
    """`main(**options)`, the options as the command line gave them."""
    asyncio.run(main(**vars(parser.parse_args())))


def server_url() -> str:
    return server_from_environment(
        ("BENCH_DATABASE_URL", "DATABASE_URL"), ROOT / ".journalbot-bench"
    )


async def create_database(server: str, name: str | None = None) -> tuple[str, str]:
    """(name, url) of a new empty database on the server."""
    name = name or f"journalbot_bench_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name, with_database(server, name)


async def drop_database(server: str, name: str) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_database(server: str, *, keep: bool = False) -> AsyncIterator[str]:
    """A new empty database on the server (its url), dropped on the way out unless `keep`."""
    name, url = await create_database(server)
    try:
        yield url
    finally:
        if not keep:
            await drop_database(server, name)


async def link_everyone(pg: asyncpg.Connection) -> None:
    """Every guardian of a consented child gets an account (and a chat) of their own.

    The benchmark runs at any hour: its parents have no quiet hours (equal ends) and no
    weekly digest, which on a Sunday evening would mix with the marks being measured.
    """
    await pg.execute(
        """
        INSERT INTO accounts (id, channel_user_id, chat_id, language, quiet_from, quiet_to)
        SELECT 900000000 + g.id, 900000000 + g.id, 900000000 + g.id, 'ru', '00:00', '00:00'
        FROM guardians g
        ON CONFLICT (id) DO UPDATE SET quiet_from = '00:00', quiet_to = '00:00';
        INSERT INTO account_links (account_id, role, guardian_id)
        SELECT 900000000 + g.id, 'guardian', g.id FROM guardians g
        WHERE NOT EXISTS (SELECT 1 FROM account_links l WHERE l.guardian_id = g.id);
        INSERT INTO notification_prefs (account_id, category, mode)
        SELECT a.id, 'weekly', 'off' FROM accounts a
        WHERE NOT EXISTS (SELECT 1 FROM notification_prefs p
                          WHERE p.account_id = a.id AND p.category = 'weekly'
                            AND p.student_id IS NULL);
        """
    )


@asynccontextmanager
async def linked_demo(url: str, *, seed: int, students: int) -> AsyncIterator[asyncpg.Connection]:
    """The empty database at `url` migrated and filled with the demo school of `students`,
    every parent linked (`link_everyone`); a connection to it, closed on the way out."""
    engine = create_engine(url, pool_size=2)
    try:
        await migrate.upgrade(engine)
        await demo.seed_demo(engine, seed=seed, students=students)
    finally:
        await engine.dispose()
    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await link_everyone(pg)
        yield pg
    finally:
        await pg.close()


def worker_environment(url: str, api_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `journalbot notify worker` on the database at `url` that sends
    to the fake Bot API at `api_url`, with `settings` (NOTIFY_RATE, ...) on top."""
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    environment.update(
        BOT_TOKEN=TOKEN,
        DATABASE_URL=url,
        TELEGRAM_API_URL=api_url,
        LOG_LEVEL="WARNING",
        CODE_SECRET="bench",
        **settings,
    )
    return environment


def summary(values: list[float]) -> str:
    """Median, p95, p99 and spread (min–max) in milliseconds."""
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return (
        f"p50 {statistics.median(ordered) * 1000:7.2f} ms  p95 {pct(0.95) * 1000:7.2f} ms  "
        f"p99 {pct(0.99) * 1000:7.2f} ms  min {ordered[0] * 1000:6.2f}  "
        f"max {ordered[-1] * 1000:7.2f}  n={len(ordered)}"
    )
