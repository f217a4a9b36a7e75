"""Test harness: a real PostgreSQL migrated once, a rolled-back transaction per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import create_bot
from bot.dispatcher import create_dispatcher
from bot.fake_api import FakeBotAPI
from bot.i18n import make_i18n
from bot.settings import Settings
from services.db import migrate
from services.db.embedded import server_from_environment
from services.db.session import asyncpg_dsn, create_engine, with_database
from tests.chat import Chat

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _server_url() -> str:
    """A server to create the test database on: TEST_DATABASE_URL, DATABASE_URL, else embedded."""
    return server_from_environment(
        ("TEST_DATABASE_URL", "DATABASE_URL"), ROOT / ".journalbot-test"
    )


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh database migrated to head with Alembic, dropped at the end of the session."""
    try:
        server = _server_url()
        admin = await asyncpg.connect(asyncpg_dsn(server))
    except Exception as exc:
        # A test run without a database proves nothing: fail loudly in CI, never skip.
        message = f"no PostgreSQL for the tests: {type(exc).__name__}: {exc}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.exit(message, returncode=3)
    name = f"journalbot_test_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    engine = create_engine(url, pool_size=2)
    await migrate.upgrade(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions that join the test's transaction: their commits become savepoints."""
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


TRUNCATE_ORDER_FREE = text(
    """
    DO $$
    DECLARE tables text;
    BEGIN
        SELECT string_agg(format('%I', tablename), ', ') INTO tables
        FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version';
        EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
    END $$;
    """
)


@pytest.fixture
async def committing_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """For tests that need real commits (NOTIFY, other connections): tables emptied afterwards."""
    yield engine
    async with engine.begin() as connection:
        await connection.execute(TRUNCATE_ORDER_FREE)


# --- the bot side ------------------------------------------------------------------------

TEST_TOKEN = "123456789:TEST-token-for-the-fake-bot-api"
CODE_SECRET = b"tests-code-secret"


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API over real HTTP that records every request."""
    async with FakeBotAPI() as api:
        yield api


@pytest.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = create_bot(Settings(telegram_api_url=fake_api.url), TEST_TOKEN)
    yield bot
    await bot.session.close()


@pytest.fixture
def dispatcher(sessionmaker: async_sessionmaker[AsyncSession]) -> Dispatcher:
    """The production wiring over the test's transaction."""
    return create_dispatcher(sessionmaker=sessionmaker, i18n=make_i18n(), code_secret=CODE_SECRET)


# The linking tests' school with two families, shared with the access tests.
from tests.test_linking import world  # noqa: E402, F401
from tests.test_notifications import family  # noqa: E402, F401


@pytest.fixture
def chat(dispatcher: Dispatcher, bot: Bot, fake_api: FakeBotAPI) -> Callable[..., Chat]:
    """Conversations with the bot: `chat(user_id)` is that user's private chat."""

    def make(user_id: int = 5001, **kwargs: object) -> Chat:
        return Chat(dispatcher, bot, fake_api, user_id, **kwargs)  # type: ignore[arg-type]

    return make
