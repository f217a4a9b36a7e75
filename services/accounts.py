"""The Telegram account: language, time zone, the chosen child."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.audit import Action
from services.db import models as m


@dataclass(frozen=True, slots=True)
class AccountPrefs:
    language: str | None
    timezone: str | None
    selected_student_id: int | None


def account_update(account_id: int, **values: object) -> Update:
    """The statement that sets columns of one account's row."""
    return update(m.TelegramAccount).where(m.TelegramAccount.id == account_id).values(**values)


async def prefs(session: AsyncSession, account_id: int) -> AccountPrefs | None:
    row = (
        await session.execute(
            select(
                m.TelegramAccount.language,
                m.TelegramAccount.timezone,
                m.TelegramAccount.selected_student_id,
            ).where(m.TelegramAccount.id == account_id)
        )
    ).first()
    if row is None:
        return None
    return AccountPrefs(language=row[0], timezone=row[1], selected_student_id=row[2])


async def set_language(session: AsyncSession, *, account_id: int, language: str) -> None:
    """Store the account's language (own account only). Commits."""
    await session.execute(account_update(account_id, language=language))
    await session.commit()


async def select_student(session: AsyncSession, *, account_id: int, student_id: int) -> None:
    """Remember the child a guardian is looking at. The caller has checked access. Commits.

    Audited as a view of the child's data (screen `child`).
    """
    audit.record(
        session,
        Action.VIEWED,
        account_id=account_id,
        student_id=student_id,
        details={"screen": "child"},
    )
    await session.execute(account_update(account_id, selected_student_id=student_id))
    await session.commit()


async def set_blocked(
    session: AsyncSession, *, account_id: int, blocked: bool, now: datetime
) -> None:
    """The user blocked (or unblocked) the bot: stop (or resume) notifications. Commits.

    Blocking also cancels what is waiting to be sent: it could never be delivered.
    """
    await session.execute(
        account_update(account_id, is_active=not blocked, blocked_at=now if blocked else None)
    )
    if blocked:
        await session.execute(
            update(m.Notification)
            .where(m.Notification.account_id == account_id, m.Notification.status == "pending")
            .values(status="cancelled", last_error="blocked by the user")
        )
    await session.commit()
