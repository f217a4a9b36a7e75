"""Telegram updates already handled: a webhook delivery that Telegram repeats is processed once.

Telegram sends an update again when it did not see our answer (a timeout, a restart, a proxy
error), and with several bot processes behind one address the copy may reach another process.
The first to claim an `update_id` handles it; the others acknowledge it and do nothing. Claims
are shared through Redis when it is configured, through the `handled_updates` table otherwise,
and last an hour (update ids are unique and increasing, so an hour is plenty).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

REMEMBER = timedelta(hours=1)
# Old claims are deleted at most this often, by whichever claim comes along.
PRUNE_EVERY_SECONDS = 60.0


class HandledUpdates(Protocol):
    async def claim(self, update_id: int) -> bool:
        """True for the first claim of `update_id` within the hour, False for a repeat."""
        ...


class RedisHandledUpdates:
    """Claims as Redis keys that expire after an hour (SET NX EX)."""

    def __init__(self, redis: Any, *, prefix: str = "journalbot") -> None:
        self.redis = redis
        self.prefix = prefix

    async def claim(self, update_id: int) -> bool:
        key = f"{self.prefix}:update:{update_id}"
        ttl = int(REMEMBER.total_seconds())
        return bool(await self.redis.set(key, "1", nx=True, ex=ttl))


_CLAIM = text(
    """
    INSERT INTO handled_updates (update_id, at) VALUES (:update_id, :now)
    ON CONFLICT (update_id) DO UPDATE SET at = excluded.at
        WHERE handled_updates.at < CAST(:now AS timestamptz) - CAST(:remember AS interval)
    RETURNING update_id
    """
)
_PRUNE = text(
    "DELETE FROM handled_updates"
    " WHERE at < CAST(:now AS timestamptz) - CAST(:remember AS interval)"
)


class DatabaseHandledUpdates:
    """Claims as rows of `handled_updates`; a claim older than an hour may be taken again."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._next_prune = 0.0

    async def claim(self, update_id: int, *, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        params = {"update_id": update_id, "now": now, "remember": REMEMBER}
        async with self.engine.begin() as connection:
            claimed = (await connection.execute(_CLAIM, params)).first() is not None
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                await connection.execute(_PRUNE, params)
        return claimed
