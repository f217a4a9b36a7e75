"""The ingest API's bearer tokens: issued once per school, kept only as SHA-256, revocable.

A token is shown to the administrator once, when it is issued; the database keeps its hash, so
a copy of the database lets nobody write to the journal. Authenticating looks the hash up by
an index: no comparison of secrets in Python, nothing for a timing attack to measure.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.db import models as m

# 32 random bytes: 256 bits, 43 URL-safe characters.
TOKEN_BYTES = 32
# last_used_at is a hint for the administrator, not a log: one write a minute at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX = 100
ACTOR = "cli"


class TokenError(Exception):
    """A token operation that cannot be done; the message names what is missing."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    school_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    # The school's zone, so that the command line prints the school's own times.
    timezone: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    info: TokenInfo
    # The secret itself: returned this once, never stored.
    token: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API: a token, and the one school it may read and write."""

    token_id: int
    school_id: int
    name: str


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _listed() -> Select[*tuple[Any, ...]]:
    """Tokens with their school's zone."""
    return select(
        m.ApiToken.id,
        m.ApiToken.school_id,
        m.ApiToken.name,
        m.ApiToken.created_at,
        m.ApiToken.last_used_at,
        m.ApiToken.revoked_at,
        m.School.timezone.label("timezone"),
    ).join(m.School, m.School.id == m.ApiToken.school_id)


async def _info(session: AsyncSession, token_id: int) -> TokenInfo | None:
    row = (await session.execute(_listed().where(m.ApiToken.id == token_id))).one_or_none()
    return None if row is None else TokenInfo(**row._mapping)


async def issue(session: AsyncSession, *, school_id: int, name: str) -> IssuedToken:
    """A new token for the school, audited; the caller commits and shows the token once."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise TokenError(f"a token's name is 1 to {NAME_MAX} characters")
    if await session.get(m.School, school_id) is None:
        raise TokenError(f"no school {school_id}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = m.ApiToken(school_id=school_id, name=name, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    audit.record(
        session,
        audit.Action.API_TOKEN_ISSUED,
        actor=ACTOR,
        details={"token_id": row.id, "school_id": school_id},
    )
    info = await _info(session, row.id)
    assert info is not None
    return IssuedToken(info, token)


async def list_tokens(session: AsyncSession, *, school_id: int | None = None) -> list[TokenInfo]:
    """Every token (of one school, or of all), revoked ones included, oldest first."""
    query = _listed()
    if school_id is not None:
        query = query.where(m.ApiToken.school_id == school_id)
    rows = await session.execute(query.order_by(m.ApiToken.id))
    return [TokenInfo(**row._mapping) for row in rows]


async def revoke(session: AsyncSession, *, token_id: int, now: datetime) -> TokenInfo:
    """Revoke a token at once (its next request gets 401), audited; revoking twice is a no-op."""
    revoked = await session.execute(
        update(m.ApiToken)
        .where(m.ApiToken.id == token_id, m.ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(m.ApiToken.school_id)
    )
    school_id = revoked.scalar_one_or_none()
    if school_id is not None:
        audit.record(
            session,
            audit.Action.API_TOKEN_REVOKED,
            actor=ACTOR,
            details={"token_id": token_id, "school_id": school_id},
        )
    info = await _info(session, token_id)
    if info is None:
        raise TokenError(f"no API token {token_id}")
    return info


async def authenticate(session: AsyncSession, token: str, *, now: datetime) -> Principal | None:
    """The caller of a bearer token, or None for an unknown or revoked one.

    Notes the use at most once a minute; the caller commits.
    """
    row = (
        await session.execute(
            select(
                m.ApiToken.id, m.ApiToken.school_id, m.ApiToken.name, m.ApiToken.last_used_at
            ).where(m.ApiToken.token_hash == hash_token(token), m.ApiToken.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None:
        return None
    token_id, school_id, name, last_used = row
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        await session.execute(
            update(m.ApiToken).where(m.ApiToken.id == token_id).values(last_used_at=now)
        )
    return Principal(token_id=token_id, school_id=school_id, name=name)
