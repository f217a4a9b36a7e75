"""The user blocked or unblocked the bot: keep the account's delivery state right."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from services import accounts
from services.db.session import Session

router = Router(name=__name__)
router.my_chat_member.filter(F.chat.type == "private")


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
async def blocked(event: ChatMemberUpdated, session: Session) -> None:
    await accounts.set_blocked(
        session, account_id=event.from_user.id, blocked=True, now=datetime.now(UTC)
    )


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
async def unblocked(event: ChatMemberUpdated, session: Session) -> None:
    await accounts.set_blocked(
        session, account_id=event.from_user.id, blocked=False, now=datetime.now(UTC)
    )
