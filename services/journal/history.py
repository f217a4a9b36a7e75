"""The pushes a family's account was sent, newest first: what `/history` lists again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.queue import Outgoing

# The messages looked at, newest first: enough for ten per child of a large family.
HISTORY_LIMIT = 100

# Families' kinds only (services/notifications/payloads.py): staff reports are not a diary's.
FAMILY_KINDS = ("mark", "attendance", "finals", "homework", "digest", "weekly")

_SENT = text(
    """
    SELECT n.id, n.account_id, a.channel, n.chat_id, n.student_id, n.category, n.dedup_key,
           n.payload, n.attempts, n.created_at, n.sent_at
    FROM notifications n JOIN accounts a ON a.id = n.account_id
    WHERE n.account_id = :account_id AND n.status = 'sent'
      AND n.payload ->> 'kind' = ANY(:kinds)
    ORDER BY n.sent_at DESC, n.id DESC
    LIMIT :limit
    """
)


@dataclass(frozen=True, slots=True)
class SentPush:
    message: Outgoing
    sent_at: datetime


async def sent_pushes(
    session: AsyncSession, account_id: int, *, limit: int = HISTORY_LIMIT
) -> list[SentPush]:
    """The account's own sent family messages (kept `RETENTION_NOTIFICATIONS_DAYS`), newest
    first, payloads decoded; what each says, and whether the account may still see its child,
    is read when shown (`notifications.content.load_batch` checks access as it stands now)."""
    rows = await session.execute(
        _SENT, {"account_id": account_id, "kinds": list(FAMILY_KINDS), "limit": limit}
    )
    pushes = []
    for row in rows:
        try:
            message = Outgoing.from_row(row[:10])
        except ValidationError:
            continue  # a payload of another version: nothing readable to show
        pushes.append(SentPush(message, row[10]))
    return pushes
