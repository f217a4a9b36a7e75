"""Idempotent ingest requests: the same Idempotency-Key again gets the first answer, no writes.

The answer is stored in the transaction that made the writes, so either both are there or
neither: a request that failed (its transaction rolled back) may be sent again with its key.
Two requests with one key at once are serialised by a transaction-scoped advisory lock; the
second finds the first one's answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m

KEY_MAX = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request was answered: its status and its JSON body."""

    status: int
    body: dict[str, Any]


class KeyReused(Exception):
    """The key was used before with another request (another path or body)."""


def request_hash(method: str, path: str, body: bytes) -> bytes:
    """The request as the key stands for it: method, path and the body's exact bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


async def _lock(session: AsyncSession, token_id: int, key: str) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
        {"name": f"journalbot:idempotency:{token_id}:{key}"},
    )


async def _stored(session: AsyncSession, token_id: int, key: str, hashed: bytes) -> Answer | None:
    row = (
        await session.execute(
            select(m.ApiRequest.request_hash, m.ApiRequest.status, m.ApiRequest.body).where(
                m.ApiRequest.token_id == token_id, m.ApiRequest.idempotency_key == key
            )
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != hashed:
        raise KeyReused(key)
    return Answer(row.status, row.body)


async def _remember(
    session: AsyncSession, token_id: int, key: str, hashed: bytes, answer: Answer
) -> None:
    await session.execute(
        insert(m.ApiRequest)
        .values(
            token_id=token_id,
            idempotency_key=key,
            request_hash=hashed,
            status=answer.status,
            body=answer.body,
            created_at=func.clock_timestamp(),
        )
        .on_conflict_do_nothing()
    )


async def once(
    session: AsyncSession,
    *,
    token_id: int,
    key: str | None,
    hashed: bytes,
    run: Callable[[], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """`run()`'s answer, or the one stored under the key: (answer, replayed).

    Only successful answers are stored: a refused request wrote nothing, so sending it again
    after a fix is what the caller wants. Raises KeyReused for the key with another request.
    Runs inside the caller's transaction; the caller commits.
    """
    if key is None:
        return await run(), False
    await _lock(session, token_id, key)
    found = await _stored(session, token_id, key, hashed)
    if found is not None:
        return found, True
    answer = await run()
    if 200 <= answer.status < 300:
        await _remember(session, token_id, key, hashed, answer)
    return answer, False
