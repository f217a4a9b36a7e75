"""The webhook endpoint at its edges: bad bodies, bad secrets, repeated deliveries, quiet logs."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestClient, TestServer
from fakeredis import FakeAsyncRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import WEBHOOK_PATH
from bot.testing.fake_api import FakeBotAPI
from bot.webhook import SECRET_HEADER, WebhookHandler, webhook_app
from services.updates import DatabaseHandledUpdates, HandledUpdates, RedisHandledUpdates
from tests.fixtures.bot import help_update

SECRET = "s3cret-value"
GOOD = {SECRET_HEADER: SECRET}


@pytest.fixture
async def serve(dispatcher: Dispatcher, bot: Bot) -> AsyncIterator[Callable[..., Any]]:
    """`await serve(handled)`: a client of a webhook app over the test's dispatcher."""
    clients: list[TestClient[Any, Any]] = []

    async def make(handled: HandledUpdates | None = None) -> TestClient[Any, Any]:
        handler = WebhookHandler(dispatcher, bot, secret=SECRET, handled=handled)
        client: TestClient[Any, Any] = TestClient(TestServer(webhook_app(handler, WEBHOOK_PATH)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


DEEP = 5_000
NOT_UPDATES = {
    "malformed JSON": b'{"update_id": 1, "message": {',
    "empty body": b"",
    "only spaces": b"  \n ",
    "binary garbage": bytes(range(256)) * 4,
    "deep array": b"[" * DEEP + b"]" * DEEP,
    "deep inside an update": (
        b'{"update_id": 3, "message": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}"
    ),
    # Deep enough to slow a validator down, not enough for Python's json to give up.
    "500 deep inside an update": (
        b'{"update_id": 4, "message": ' + b"[" * 500 + b"]" * 500 + b"}"
    ),
    "a list": b"[1, 2, 3]",
    "a string": b'"update"',
    "no update_id": b'{"message": {"text": "hi"}}',
    "update_id not an integer": b'{"update_id": "7"}',
    "update_id a boolean": b'{"update_id": true}',
    "update_id past 64 bits": b'{"update_id": 9223372036854775808}',
    "a message without its fields": b'{"update_id": 9, "message": {"text": "hi"}}',
}


@pytest.mark.parametrize("body", NOT_UPDATES.values(), ids=NOT_UPDATES.keys())
async def test_a_body_that_is_not_an_update_is_400_and_nothing_more(
    serve: Callable[..., Any],
    fake_api: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    client = await serve()
    with caplog.at_level(logging.WARNING):
        response = await client.post(WEBHOOK_PATH, data=body, headers=GOOD)
        await asyncio.sleep(0)  # a task started for the body would have run by now
    assert response.status == 400
    assert fake_api.requests == []
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "Task exception" not in caplog.text


async def test_a_validation_error_is_logged_without_the_content(
    serve: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve()
    update = {
        "update_id": 12,
        "message": {
            "message_id": 1,
            "date": 1,
            "text": "Мама Ивановой Маши, телефон +7 900 123-45-67",
            "from": {"id": 5, "is_bot": False, "first_name": "Светлана", "last_name": "Иванова"},
            "chat": {"id": "not-a-chat-id", "type": "private"},
        },
    }
    with caplog.at_level(logging.DEBUG):
        response = await client.post(WEBHOOK_PATH, json=update, headers=GOOD)
    assert response.status == 400
    assert "update 12 is not an Update" in caplog.text
    assert "message.chat.id" in caplog.text
    for part in ("Иванов", "Маш", "Светлана", "900", "not-a-chat-id", "input_value"):
        assert part not in caplog.text


async def _raw_post(client: TestClient[Any, Any], secret: bytes, body: bytes) -> int:
    """A request written byte by byte: HTTP clients refuse to send a header that is not ASCII."""
    server = client.server
    assert isinstance(server, TestServer) and server.port is not None
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST " + WEBHOOK_PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        + SECRET_HEADER.encode()
        + b": "
        + secret
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    "secret",
    [
        "пароль".encode(),
        SECRET.encode() + "ё".encode(),
        b"s3cret-valu\xe9",  # Latin-1, not even UTF-8
        b"wrong",
        b"",
    ],
    ids=["cyrillic", "right then non-ascii", "latin-1", "wrong", "empty"],
)
async def test_a_wrong_or_non_ascii_secret_is_401(
    serve: Callable[..., Any], fake_api: FakeBotAPI, secret: bytes
) -> None:
    client = await serve()
    assert await _raw_post(client, secret, json.dumps(help_update(1)).encode()) == 401
    missing = await client.post(WEBHOOK_PATH, json=help_update(2))
    assert missing.status == 401
    assert fake_api.requests == []


async def test_the_right_secret_handles_the_update_before_answering(
    serve: Callable[..., Any], fake_api: FakeBotAPI
) -> None:
    client = await serve()
    assert await _raw_post(client, SECRET.encode(), json.dumps(help_update(1)).encode()) == 200
    # Answered after handling: the reply is already at the Bot API.
    [reply] = fake_api.sent_messages(77)
    assert "What I can do" in reply.params["text"]


async def test_a_repeated_update_is_acknowledged_and_handled_once_with_redis(
    serve: Callable[..., Any], fake_api: FakeBotAPI
) -> None:
    redis = FakeAsyncRedis()
    # Two processes behind one address, sharing Redis.
    first = await serve(RedisHandledUpdates(redis))
    second = await serve(RedisHandledUpdates(redis))
    for client in (first, second, first):
        response = await client.post(WEBHOOK_PATH, json=help_update(41), headers=GOOD)
        assert response.status == 200
    assert len(fake_api.sent_messages(77)) == 1
    assert 0 < await redis.ttl("journalbot:update:41") <= 3600
    await redis.aclose()


async def test_a_repeated_update_is_acknowledged_and_handled_once_with_the_database(
    committing_engine: AsyncEngine, serve: Callable[..., Any], fake_api: FakeBotAPI
) -> None:
    first = await serve(DatabaseHandledUpdates(committing_engine))
    second = await serve(DatabaseHandledUpdates(committing_engine))
    for client in (first, second, first):
        response = await client.post(WEBHOOK_PATH, json=help_update(42), headers=GOOD)
        assert response.status == 200
    response = await second.post(WEBHOOK_PATH, json=help_update(43), headers=GOOD)
    assert response.status == 200
    assert len(fake_api.sent_messages(77)) == 2


async def test_database_claims_last_an_hour_and_old_ones_are_pruned(
    committing_engine: AsyncEngine,
) -> None:
    start = datetime.now(UTC)
    handled = DatabaseHandledUpdates(committing_engine)
    assert await handled.claim(7, now=start)
    assert not await handled.claim(7, now=start + timedelta(minutes=59))
    assert await handled.claim(7, now=start + timedelta(minutes=61))
    assert await handled.claim(8, now=start + timedelta(minutes=62))
    # A later process prunes claims older than an hour as it goes.
    later = DatabaseHandledUpdates(committing_engine)
    assert await later.claim(9, now=start + timedelta(minutes=122))
    async with committing_engine.connect() as connection:
        left = (
            await connection.execute(text("SELECT update_id FROM handled_updates ORDER BY 1"))
        ).scalars()
        assert list(left) == [8, 9]


async def test_a_failing_claim_store_is_503_so_that_telegram_sends_again(
    serve: Callable[..., Any], fake_api: FakeBotAPI
) -> None:
    class Away:
        async def claim(self, update_id: int) -> bool:
            raise ConnectionError("store away")

    client = await serve(Away())
    response = await client.post(WEBHOOK_PATH, json=help_update(50), headers=GOOD)
    assert response.status == 503
    assert fake_api.requests == []


async def test_a_failing_handler_is_logged_and_acknowledged(
    serve: Callable[..., Any], fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.fail(77, "sendMessage", status=400, description="Bad Request: chat not found")
    client = await serve()
    with caplog.at_level(logging.ERROR):
        response = await client.post(WEBHOOK_PATH, json=help_update(60), headers=GOOD)
    # Telegram would only send it again to fail again, as polling does not retry either.
    assert response.status == 200
    assert [r.getMessage() for r in caplog.records] == ["update 60 failed"]


async def test_a_body_over_the_limit_is_refused(
    serve: Callable[..., Any], fake_api: FakeBotAPI
) -> None:
    client = await serve()
    body = b'{"update_id": 1, "x": "' + b"a" * (2 << 20) + b'"}'
    response = await client.post(WEBHOOK_PATH, data=body, headers=GOOD)
    assert response.status == 413
    assert fake_api.requests == []


async def test_redis_claims_are_per_bot(engine: AsyncEngine) -> None:
    from bot.app import _handled_updates
    from bot.settings import Settings

    # Update ids are per bot: two bots sharing one Redis must not see each other's as repeats.
    handled, redis = _handled_updates(
        Settings(redis_url="redis://127.0.0.1:1/0"), engine, bot_id=12345
    )
    try:
        assert isinstance(handled, RedisHandledUpdates)
        assert handled.prefix == "journalbot:12345"
    finally:
        await redis.aclose()
    handled, redis = _handled_updates(Settings(redis_url=None), engine, bot_id=12345)
    assert isinstance(handled, DatabaseHandledUpdates) and redis is None
