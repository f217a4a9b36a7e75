"""Checks as filters that inject what a screen shows, and the answer to what they refuse."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from services import audit
from services.db.session import Session

_BUTTON_PREFIX = re.compile(r"[a-z_]{1,16}")


async def record_denied(
    query: CallbackQuery, session: Session, account_id: int | None, student_id: int | None = None
) -> None:
    """A refused press of a forged or stale button goes to the audit log (within its caps).

    Only the callback data's prefix is kept, and only when it looks like one of ours: forged
    data is anybody's text.
    """
    if account_id is None:
        return  # A press from a chat with no account (a group): nobody's data was asked for.
    prefix = (query.data or "").partition(":")[0]
    await audit.denied(
        session,
        account_id=account_id,
        button=prefix if _BUTTON_PREFIX.fullmatch(prefix) else "?",
        now=datetime.now(UTC),
        student_id=student_id,
    )


async def not_found(
    query: CallbackQuery, session: Session, account_id: int | None, student_id: int | None = None
) -> None:
    """A forged or stale button: the same answer whether the object exists or not."""
    await record_denied(query, session, account_id, student_id)
    await query.answer(_("Not found."), show_alert=True)


@dataclass(frozen=True)
class Refusal:
    """Why a check refused: a notice to answer, or else "Not found." for a button, audited with
    the student the button named (when it was the student that was refused)."""

    notice: str | None = None
    student_id: int | None = None


async def answer_refusal(
    event: Message | CallbackQuery,
    session: Session,
    refusal: Refusal,
    account_id: int | None = None,
) -> None:
    """The handler of a refused event: its notice, or "Not found." for a button, audited."""
    if isinstance(event, CallbackQuery) and refusal.notice is None:
        await not_found(event, session, account_id, refusal.student_id)
    else:
        await event.answer(refusal.notice or _("Not found."))


class Check(Filter):
    """A filter that injects what passed `check` into the handler, and skips it otherwise."""

    @abstractmethod
    async def check(self, event: Any, data: dict[str, Any]) -> dict[str, Any] | Refusal:
        """The values to inject, or why not; reads the update's data, writes nothing."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        found = await self.check(event, data)
        return False if isinstance(found, Refusal) else found


class Refused(Filter):
    """The twin of a check: passes, injecting the `refusal`, where the check refuses."""

    def __init__(self, check: Check) -> None:
        self.of = check

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        found = await self.of.check(event, data)
        return {"refusal": found} if isinstance(found, Refusal) else False


def screen(
    observer: TelegramEventObserver,
    handler: Callable[..., Any],
    *triggers: Any,
    check: Check,
) -> None:
    """Registers a screen's handler behind its check, and right after it the answer to an event
    of the same triggers that the check refused.

    A check returns a dict, the values it injects into the handler (aiogram's
    `context_addition_from_filter` idiom); a filter that refuses can only skip the handler, so
    the refusal is answered by the next handler, which runs the check again: only forged, stale
    or early presses pay for it."""
    observer.register(handler, *triggers, check)
    observer.register(answer_refusal, *triggers, Refused(check))
