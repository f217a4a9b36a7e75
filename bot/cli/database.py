"""The one way a command opens the database: DATABASE_URL or the embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cli.common import CommandError
from bot.settings import Settings

if TYPE_CHECKING:
    from services.db.session import Engine, Session, SessionFactory


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server started on demand."""
    if settings.database_url:
        return settings.database_url
    from services.db.embedded import EmbeddedPostgresError, start_embedded

    try:
        return start_embedded(settings.data_dir)
    except EmbeddedPostgresError as exc:
        raise CommandError(str(exc)) from None


@dataclass(frozen=True)
class Database:
    """An open database: its engine, and the sessions a command reads and writes through."""

    engine: Engine
    sessions: SessionFactory


@asynccontextmanager
async def open_database(
    settings: Settings, *, pool_size: int = 1, url: str | None = None
) -> AsyncIterator[Database]:
    """The database, closed when the command is done.

    A command's queries run one after another, so one connection is enough; loading the demo
    asks for two. `url` is for the commands that resolved it already, to hand it on to the bot
    as well (resolving starts the embedded server).
    """
    from services.db.session import create_engine, create_sessionmaker

    engine = create_engine(url or database_url(settings), pool_size=pool_size)
    try:
        yield Database(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_session(settings: Settings) -> AsyncIterator[Session]:
    """A session on the database, for the commands that need nothing else."""
    async with open_database(settings) as database, database.sessions() as session:
        yield session
