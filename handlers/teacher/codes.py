"""Access codes for the class teacher's own class, issued in the bot and sent as the PDF of
slips to hand out (seed 004 §3.3.5 "предоставляет реквизиты доступа родителям и
обучающимся"; seed 001 §3.2). Only the pupils and guardians of the class; every code is
audited (`code_issued`, the class teacher's account as the actor)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import ClassToolCb
from handlers.checks import screen
from handlers.keyboards import Keyboard
from handlers.render import esc, show
from handlers.teacher.families import ClassToolCheck, back_button
from services import journal, linking, staff_views
from services.access import ClassRef
from services.db.session import Session
from services.linking import PersonId, PersonKind
from services.slips import SlipData, render_slips
from services.staff_views import FamilyLine


def codes_text(klass: ClassRef, waiting: int) -> str:
    return "\n".join(
        [
            _("🔑 Access codes for {label}").format(label=esc(klass.label)),
            "",
            ngettext("Not linked yet: {n} person.", "Not linked yet: {n} people.", waiting).format(
                n=waiting
            ),
            _(
                "I send the codes as a PDF of slips to print and hand out; each is valid "
                "14 days. A new code replaces the person's unused one: a slip handed out "
                "before stops working."
            ),
            "",
            _("Whose codes?"),
        ]
    )


def _not_linked(lines: list[FamilyLine]) -> list[PersonId]:
    people: list[PersonId] = []
    for line in lines:
        if not line.student.linked:
            people.append(PersonId(PersonKind.STUDENT, line.student.id))
        people.extend(PersonId(PersonKind.GUARDIAN, g.id) for g in line.guardians if not g.linked)
    return list(dict.fromkeys(people))


def codes_keyboard(klass: ClassRef, lines: list[FamilyLine]) -> InlineKeyboardMarkup:
    builder = Keyboard()
    waiting = len(_not_linked(lines))
    if waiting:
        builder.button(
            text=_("Everyone not linked yet ({n})").format(n=waiting),
            callback_data=ClassToolCb(c=klass.id, a="ka"),
        )
    builder.adjust(1)
    pupils = Keyboard()
    for line in lines:
        pupils.button(
            text=line.student.name,
            callback_data=ClassToolCb(c=klass.id, a="kp", s=line.student.id),
        )
    pupils.adjust(2)
    builder.attach(pupils)
    builder.attach(back_button(klass))
    return builder.as_markup()


async def codes_menu(query: CallbackQuery, session: Session, klass: ClassRef) -> None:
    lines = await staff_views.class_families(session, klass)
    await show(query, codes_text(klass, len(_not_linked(lines))), codes_keyboard(klass, lines))


async def issue_codes(
    query: CallbackQuery,
    *,
    session: Session,
    klass: ClassRef,
    callback_data: ClassToolCb,
    code_secret: bytes,
    account_id: int,
    bot: Bot,
) -> None:
    """Codes for everyone of the class not linked yet (`ka`), or for one pupil of the class
    and their guardians (`kp`), sent as slips."""
    lines = await staff_views.class_families(session, klass)
    if callback_data.a == "ka":
        people = _not_linked(lines)
    else:
        chosen = [line for line in lines if line.student.id == callback_data.s]
        if not chosen:
            # Not a pupil of this class (a forged or stale button): nothing is issued.
            await query.answer(_("Not found."), show_alert=True)
            return
        line = chosen[0]
        people = [
            PersonId(PersonKind.STUDENT, line.student.id),
            *(PersonId(PersonKind.GUARDIAN, g.id) for g in line.guardians),
        ]
    if not people:
        await query.answer(_("Everyone in the class has linked already."), show_alert=True)
        return
    now = datetime.now(UTC)
    issued: list[linking.IssuedCode] = []
    for person in people:
        issued.extend(
            await linking.issue(
                session, person, secret=code_secret, now=now, actor="bot", account_id=account_id
            )
        )
    await session.commit()
    await query.answer()
    me = await bot.me()
    # Slips say until when a code is valid in the school's own time.
    calendar = await journal.school_context(session, klass.school_id, now)
    zone = ZoneInfo(calendar.timezone)
    slips = [
        SlipData(
            c.name, c.detail or klass.label, c.code, c.expires_at.astimezone(zone), c.person.kind
        )
        for c in issued
    ]
    pdf = await asyncio.to_thread(
        render_slips,
        slips,
        bot_username=me.username or str(me.id),
        school_name=await linking.school_name(session, klass.school_id),
    )
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(pdf, filename=f"codes-{klass.label}-{calendar.today}.pdf"),
            caption=ngettext(
                "🔑 {n} access code for {label}: print the slips and hand them out in person.",
                "🔑 {n} access codes for {label}: print the slips and hand them out in person.",
                len(issued),
            ).format(n=len(issued), label=esc(klass.label)),
        )


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    check = ClassToolCheck()
    screen(router.callback_query, codes_menu, ClassToolCb.filter(F.a == "k"), check=check)
    screen(
        router.callback_query,
        issue_codes,
        ClassToolCb.filter(F.a.in_({"ka", "kp"})),
        check=check,
    )
    return router
