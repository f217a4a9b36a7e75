"""One sender (and one scheduler) at a time without Redis: PostgreSQL's advisory lock."""

from __future__ import annotations

import logging

import asyncpg

from services.db.errors import DatabaseErrors
from services.db.session import asyncpg_dsn

log = logging.getLogger(__name__)

# The advisory lock that elects the one sender when there is no Redis.
SENDER_LOCK = 0x6A6F75726E616C  # "journal"


class Leadership:
    """Holds PostgreSQL's advisory lock on a connection of its own: the holder is the sender.

    When the holder dies its connection closes and the lock passes to the next process that
    asks. The lock lasts as long as its connection: after a database restart the server has
    forgotten it, so the holder checks the connection before it acts (`check`, and
    `try_acquire` does it too) and competes again once it is lost.
    """

    def __init__(
        self,
        database_url: str,
        key: int = SENDER_LOCK,
        *,
        check_timeout: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self.key = key
        self.check_timeout = check_timeout
        self.connect_timeout = connect_timeout
        self._connection: asyncpg.Connection | None = None
        # Whether the last try reached the database: after a restart nobody holds the lock,
        # so a sender that could not connect asks again soon instead of after a standby's wait.
        self.reachable = True

    @property
    def held(self) -> bool:
        """The lock's connection is open as far as this process knows (no round trip)."""
        return self._connection is not None and not self._connection.is_closed()

    async def check(self) -> bool:
        """Whether the lock is still ours: a round trip on its connection, with a timeout."""
        connection = self._connection
        if connection is None:
            return False
        if not connection.is_closed():
            try:
                await connection.fetchval("SELECT 1", timeout=self.check_timeout)
            except Exception:
                pass  # whatever failed, the lock is not known to be ours any more
            else:
                return True
        log.warning("leadership: the connection holding lock %#x is lost", self.key)
        self._connection = None
        connection.terminate()
        return False

    async def try_acquire(self) -> bool:
        if self._connection is not None and await self.check():
            return True
        try:
            connection = await asyncpg.connect(self._dsn, timeout=self.connect_timeout)
        except (*DatabaseErrors, TimeoutError):
            self.reachable = False
            return False
        try:
            locked = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.check_timeout
            )
        except (*DatabaseErrors, TimeoutError):
            connection.terminate()
            self.reachable = False
            return False
        self.reachable = True
        if locked:
            self._connection = connection
            return True
        await self._close(connection)
        return False

    @staticmethod
    async def _close(connection: asyncpg.Connection) -> None:
        try:
            await connection.close(timeout=5)
        except (*DatabaseErrors, TimeoutError):
            connection.terminate()

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            await self._close(connection)
