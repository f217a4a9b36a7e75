"""Shared helpers for benchmarks: a fresh database on the configured or embedded server."""

from __future__ import annotations

import statistics
import uuid
from pathlib import Path

import asyncpg

from services.db.embedded import server_from_environment
from services.db.session import asyncpg_dsn, with_database

ROOT = Path(__file__).resolve().parents[1]


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
