"""Telling a lost database apart from a statement that failed on a working connection."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError

# What a statement raises when the database or the connection to it fails. A connection cut
# while a query runs can also leave asyncpg's protocol confused (InternalClientError).
DatabaseErrors = (
    OSError,
    DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def database_gone(exc: BaseException) -> bool:
    """Whether an error says the connection to the database is lost (a restart, the network),
    as opposed to a statement that failed on a working connection."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig.__cause__ or exc.orig if exc.orig is not None else exc
    return isinstance(
        exc,
        OSError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError
        | asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError,
    )
