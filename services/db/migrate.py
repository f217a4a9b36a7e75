"""Run Alembic migrations from the program (`journalbot db upgrade`) and from tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        # '%' must be doubled for ConfigParser interpolation (socket paths are %-quoted).
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(connection: Connection, action: str, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, target)
    else:
        command.downgrade(config, target)


async def upgrade_connection(connection: AsyncConnection, target: str = "head") -> None:
    await connection.run_sync(_run, "upgrade", target)


async def downgrade_connection(connection: AsyncConnection, target: str) -> None:
    await connection.run_sync(_run, "downgrade", target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Migrate the database to `target`, in one transaction per revision."""
    async with engine.connect() as connection:
        await upgrade_connection(connection, target)
        await connection.commit()


async def downgrade(engine: AsyncEngine, target: str) -> None:
    async with engine.connect() as connection:
        await downgrade_connection(connection, target)
        await connection.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _get(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_get)
