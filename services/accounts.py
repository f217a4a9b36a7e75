"""A messenger account: who it is on which channel, its language, time zone and chosen child.

An account is keyed by (channel, the channel's user id) and has an id of its own, which is
what links, preferences, the queue and the audit log refer to: a second messenger adds
accounts, not code paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Update, and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.audit import Action
from services.db import models as m

Channel = m.Channel


@dataclass(frozen=True, slots=True)
class AccountPrefs:
    """The account an update comes from, as the handlers need it."""

    id: int
    language: str | None
    timezone: str | None
    selected_student_id: int | None
    # Linked to nobody now, its last link ended by the school (`journalbot access revoke`, or
    # "I lost my phone" from another account of the person; seed 002 §4.3–4.4), not by its
    # own /logout: told so at its next message (handlers/common/revoked.py).
    cut_off: bool = False


# The endings of a link the person chose themselves: nothing to be told.
OWN_CHOICE = ("logout",)

_link = m.AccountLink
_CUT_OFF = and_(
    exists().where(_link.account_id == m.Account.id),
    ~exists().where(_link.account_id == m.Account.id, _link.revoked_at.is_(None)),
    func.coalesce(
        select(_link.revoked_reason)
        .where(_link.account_id == m.Account.id)
        .order_by(_link.revoked_at.desc().nulls_first(), _link.id.desc())
        .limit(1)
        .scalar_subquery(),
        "",
    ).not_in(OWN_CHOICE),
)


def account_update(account_id: int, **values: object) -> Update:
    """The statement that sets columns of one account's row."""
    return update(m.Account).where(m.Account.id == account_id).values(**values)


async def find(session: AsyncSession, channel: Channel, user_id: int) -> AccountPrefs | None:
    """The account of a channel's user, or None before their first /start."""
    row = (
        await session.execute(
            select(
                m.Account.id,
                m.Account.language,
                m.Account.timezone,
                m.Account.selected_student_id,
                _CUT_OFF,
            ).where(m.Account.channel == channel.value, m.Account.channel_user_id == user_id)
        )
    ).first()
    if row is None:
        return None
    return AccountPrefs(*row)


async def ensure(
    session: AsyncSession,
    *,
    channel: Channel,
    user_id: int,
    chat_id: int,
    language: str | None,
) -> int:
    """The account's id, its row created on first contact; a returning user is active again.

    The upsert locks the account's row until the commit, so one account's attempts run one
    after another and cannot slip past its limit side by side. Does not commit.
    """
    statement = insert(m.Account).values(
        channel=channel.value, channel_user_id=user_id, chat_id=chat_id, language=language
    )
    account_id = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=[m.Account.channel, m.Account.channel_user_id],
            set_={"chat_id": chat_id, "is_active": True, "blocked_at": None},
        ).returning(m.Account.id)
    )
    assert account_id is not None
    return int(account_id)


async def reactivate(session: AsyncSession, account_id: int) -> None:
    """A returning user is active again. Locks the account's row until the commit, so one
    account's attempts at a code run one after another and cannot slip past its limit side by
    side. Does not commit."""
    await session.execute(account_update(account_id, is_active=True, blocked_at=None))


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
