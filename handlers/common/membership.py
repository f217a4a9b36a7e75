"""The user blocked or unblocked the bot: keep the account's delivery state right."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from services import accounts
from services.db.session import Session


async def blocked(event: ChatMemberUpdated, session: Session, account_id: int) -> None:
    await accounts.set_blocked(session, account_id=account_id, blocked=True, now=datetime.now(UTC))


async def unblocked(event: ChatMemberUpdated, session: Session, account_id: int) -> None:
    await accounts.set_blocked(
        session, account_id=account_id, blocked=False, now=datetime.now(UTC)
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(
        unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER)
    )
    return router
