"""/history: the latest pushes about each child, so that a missed or deleted one is found again.

Each push is shown as its reader got it, composed again in the account's language from the
journal as it is now, at the time it was sent in the school's time zone. Only children the
account may see now are listed (services/access.py): a link that ended takes its child's
history with it (seed 002 §4.3–4.4).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.family.base import context_of
from handlers.pushes.family import Composer, family_text
from handlers.render import clock, day_short, header, show
from services import access, audit, journal
from services.db.session import Session
from services.notifications.content import MessageContent, load_batch

# The latest pushes shown per child.
PER_CHILD = 10


@dataclass(frozen=True, slots=True)
class Entry:
    sent_at: datetime
    text: str
    digest: bool


def _texts(composer: Composer, content: MessageContent) -> list[tuple[str, str]]:
    """(child's name, what the message told of them) for each child of one message, in the
    words the push itself used (`family_text`), a digest's heading left out."""
    names = dict.fromkeys(
        [
            *content.marks,
            *content.attendance,
            *content.finals,
            *content.homework,
            *(child.name for child in content.weekly),
        ]
    )
    found = []
    for name in names:
        weekly = [child for child in content.weekly if child.name == name]
        own = replace(
            content,
            is_digest=False,
            marks={name: content.marks[name]} if name in content.marks else {},
            attendance={name: content.attendance[name]} if name in content.attendance else {},
            finals={name: content.finals[name]} if name in content.finals else {},
            homework={name: content.homework[name]} if name in content.homework else {},
            weekly=weekly,
            week=content.week if weekly else None,
        )
        found.append((name, family_text(composer, own)))
    return found


def _when(entry: Entry, zone: ZoneInfo) -> str:
    local = entry.sent_at.astimezone(zone)
    when = f"<b>{day_short(local.date())}, {clock(local.time())}</b>"
    return when + (" · " + _("🌙 evening digest") if entry.digest else "")


async def history_screen(
    message: Message, *, session: Session, account_id: int, i18n: I18n
) -> None:
    """The account's latest pushes per child it may see now, newest first."""
    children = await access.family_students(session, account_id)
    if not children:
        await message.answer(_("Nothing to show: this account is not linked to a student."))
        return
    pushes = await journal.sent_pushes(session, account_id)
    contents = await load_batch(session, [push.message for push in pushes]) if pushes else {}
    composer = Composer(i18n)
    by_child: dict[str, list[Entry]] = defaultdict(list)
    for push in pushes:
        content = contents.get(push.message.id)
        if content is None:
            continue
        for name, text in _texts(composer, content):
            by_child[name].append(Entry(push.sent_at, text, content.is_digest))
    lines = [
        _("🔔 <b>Latest notifications</b>"),
        _("Times are in the school's time zone. Each message is shown as the journal has it now."),
    ]
    for child in children:
        context = await context_of(session, child)
        zone = ZoneInfo(context.timezone)
        entries = by_child.get(child.name, [])
        blocks = [f"{_when(entry, zone)}\n{entry.text}" for entry in entries[:PER_CHILD]]
        if not entries:
            blocks.append(_("No notifications yet."))
        if len(entries) > PER_CHILD:
            blocks.append(
                _("Older notifications are not shown: see the screens of marks and homework.")
            )
        lines.extend(["", header(child), "\n\n".join(blocks)])
        await audit.viewed(session, account_id=account_id, student_id=child.id, screen="history")
    await show(message, "\n".join(lines))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(history_screen, Command("history"))
    return router
