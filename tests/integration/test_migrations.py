"""The models and the migrations agree, and the migrations go both ways."""

from __future__ import annotations

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import migrate
from services.db.base import Base
from services.db.session import asyncpg_dsn, create_engine, with_database


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": _include},
    )
    return list(compare_metadata(context, Base.metadata))


def _include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
    return not (type_ == "table" and name in {"current_marks", "current_final_grades"})


async def test_autogenerate_finds_no_difference(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(_differences)
    assert diff == []


async def test_downgrade_to_base_and_upgrade_to_head(database_url: str) -> None:
    # A database of its own: the shared one stays at head for the other tests.
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    await admin.execute('CREATE DATABASE "journalbot_updown"')
    engine = create_engine(with_database(database_url, "journalbot_updown"), pool_size=1)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == "0010"
        await migrate.downgrade(engine, "base")
        assert await migrate.current_revision(engine) is None
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'alembic_version'"
                    )
                )
            ).scalar_one()
        assert tables == 0
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == "0010"
    finally:
        await engine.dispose()
        await admin.execute('DROP DATABASE IF EXISTS "journalbot_updown" WITH (FORCE)')
        await admin.close()
