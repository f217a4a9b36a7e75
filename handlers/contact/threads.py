"""/contact: choose a teacher of the child, then write (text, a photo, "ill today"); a teacher
answers from the button under a relayed message; the class teacher confirms an illness note.

Every press is checked again in services/contact.py (through services/access.py); what an
account types goes to a thread only within a while after choosing it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import ContactCb
from handlers.checks import not_found
from handlers.contact.labels import family_label, teacher_label
from handlers.render import clock, day_short, esc
from services import access, contact
from services.access import NotFound
from services.accounts import AccountPrefs
from services.contact import Closed, Sent, Thread
from services.db.session import Session

T = TypeVar("T")


def _closed() -> str:
    return _(
        "Your school does not take messages to teachers through the bot. Please contact the "
        "school directly."
    )


async def _checked(
    query: CallbackQuery,
    session: Session,
    account_id: int,
    call: Awaitable[T],
    student_id: int | None = None,
) -> T | None:
    """What a press asks of services/contact.py, or None once the refusal is answered: the
    school's switch off, or not found (the same answer whether or not the object exists)."""
    try:
        return await call
    except Closed:
        await query.answer()
        await _reply(query, _closed())
    except NotFound:
        await not_found(query, session, account_id, student_id)
    return None


def _button(text: str, data: ContactCb) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack())]


async def choose_teacher(
    message: Message,
    *,
    session: Session,
    account_id: int,
    account_prefs: AccountPrefs | None = None,
) -> None:
    """The teachers of the chosen child the family may write to."""
    child = await access.selected_child(
        session, account_id, account_prefs.selected_student_id if account_prefs else None
    )
    if child is None:
        await message.answer(_("Nothing to show: this account is not linked to a student."))
        return
    try:
        student, teachers = await contact.teachers_of(
            session, account_id=account_id, student_id=child.id
        )
    except Closed:
        await message.answer(_closed())
        return
    except NotFound:
        # The child is seen only as a class teacher: that is not the family's correspondence.
        await message.answer(_("Nothing to show: this account is not linked to a student."))
        return
    if not teachers:
        await message.answer(
            _(
                "None of the teachers of {child} can be reached through the bot yet. Please "
                "contact the school directly."
            ).format(child=esc(student.name))
        )
        return
    rows = [
        _button(teacher_label(t), ContactCb(a="to", s=student.id, t=t.staff_id)) for t in teachers
    ]
    await message.answer(
        _("Whom do you want to write to about {child} ({class_label})?").format(
            child=esc(student.name), class_label=esc(student.class_label)
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


def _writing_keyboard(thread: Thread) -> InlineKeyboardMarkup:
    rows = []
    if thread.as_family and thread.teacher.class_teacher:
        rows.append(_button(_("🤒 The child is ill today"), ContactCb(a="ill", t=thread.id)))
    rows.append(_button(_("✖️ Done"), ContactCb(a="x")))
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def to_teacher(
    query: CallbackQuery, *, callback_data: ContactCb, session: Session, account_id: int
) -> None:
    thread = await _checked(
        query,
        session,
        account_id,
        contact.open_thread(
            session,
            account_id=account_id,
            student_id=callback_data.s,
            staff_id=callback_data.t,
            now=datetime.now(UTC),
        ),
        callback_data.s,
    )
    if thread is None:
        return
    await query.answer()
    await _reply(
        query,
        _(
            "Write your message to {teacher} about {child}: a text, or a photo (of a medical "
            "certificate, for example). The teacher sees your name as the school has it, never "
            "your phone number or username."
        ).format(teacher=esc(thread.teacher.name), child=esc(thread.student.name)),
        _writing_keyboard(thread),
    )


async def answer(
    query: CallbackQuery, *, callback_data: ContactCb, session: Session, account_id: int
) -> None:
    """The button under a relayed message: the next text or photo goes to that thread."""
    thread = await _checked(
        query,
        session,
        account_id,
        contact.write_in(
            session, account_id=account_id, thread_id=callback_data.t, now=datetime.now(UTC)
        ),
    )
    if thread is None:
        return
    await query.answer()
    if thread.as_family:
        prompt = _("Write your message to {teacher} about {child}: a text or a photo.").format(
            teacher=esc(thread.teacher.name), child=esc(thread.student.name)
        )
    else:
        prompt = _("Write your answer to {family}: a text or a photo.").format(
            family=family_label(thread.guardian, thread.student.name, thread.student.class_label)
        )
    await _reply(query, prompt, _writing_keyboard(thread))


async def ill_today(
    query: CallbackQuery, *, callback_data: ContactCb, session: Session, account_id: int
) -> None:
    """The family's "ill today" to the class teacher, in one press."""
    sent = await _checked(
        query,
        session,
        account_id,
        contact.send(
            session,
            account_id=account_id,
            thread_id=callback_data.t,
            now=datetime.now(UTC),
            illness=True,
        ),
    )
    if sent is None:
        return
    await query.answer()
    await _reply(
        query,
        _("🤒 The class teacher is told that the child is ill today.") + _held(sent),
    )


async def confirm(
    query: CallbackQuery, *, callback_data: ContactCb, session: Session, account_id: int
) -> None:
    """The class teacher's press under an illness note: absences with a valid reason."""
    try:
        done = await contact.confirm_illness(
            session, account_id=account_id, message_id=callback_data.m, now=datetime.now(UTC)
        )
    except (NotFound, Closed):
        await not_found(query, session, account_id)
        return
    await query.answer()
    params = {"child": esc(done.student.name), "day": day_short(done.day)}
    if done.lessons == 0:
        text = _("{child} has no lessons on {day}: nothing to mark in the journal.").format(
            **params
        )
    else:
        lessons = ngettext("{count} lesson", "{count} lessons", done.lessons).format(
            count=done.lessons
        )
        if done.already:
            text = _("The absence of {child} on {day} is already confirmed ({lessons}).")
        else:
            text = _(
                "✅ Absence with a valid reason (illness) recorded: {child}, {day}, {lessons}. "
                "The family is told."
            )
        text = text.format(lessons=lessons, **params)
    await _reply(query, text)


async def done_writing(query: CallbackQuery, *, session: Session, account_id: int) -> None:
    await contact.stop_writing(session, account_id=account_id)
    await query.answer()
    await _reply(query, _("Done. /contact starts a new message to a teacher."))


class Writing(Filter):
    """A text or a photo from an account that chose a thread a short while ago: injects the
    `thread` (its access checked again)."""

    async def __call__(
        self, message: Message, session: Session, account_id: int | None = None
    ) -> bool | dict[str, Any]:
        if account_id is None:
            return False
        thread = await contact.current_thread(
            session, account_id=account_id, now=datetime.now(UTC)
        )
        return False if thread is None else {"thread": thread}


async def relay(message: Message, *, thread: Thread, session: Session, account_id: int) -> None:
    """A text or a photo (its largest size, by the messenger's file id) to the thread."""
    photo = message.photo[-1].file_id if message.photo else None
    text = message.caption if photo else message.text
    try:
        sent = await contact.send(
            session,
            account_id=account_id,
            thread_id=thread.id,
            now=datetime.now(UTC),
            text=text,
            attachment=photo,
        )
    except (NotFound, Closed):
        await message.answer(_("This conversation is closed. /contact starts a new one."))
        return
    except ValueError:
        limit = contact.MAX_CAPTION if photo else contact.MAX_TEXT
        await message.answer(
            _("The message is too long: at most {limit} characters, please.").format(limit=limit)
        )
        return
    if thread.as_family:
        to = esc(thread.teacher.name)
    else:
        to = family_label(thread.guardian, thread.student.name, thread.student.class_label)
    await message.answer(
        _("✅ Sent to {to}.").format(to=to) + _held(sent),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[_button(_("✖️ Done"), ContactCb(a="x"))]
        ),
    )


async def not_relayed(message: Message) -> None:
    """A sticker, a file or a voice message while writing: only texts and photos go."""
    await message.answer(
        _("Only a text or a photo can be sent here; a document as a photo, please.")
    )


def _held(sent: Sent) -> str:
    if sent.held_until is None:
        return ""
    local = sent.held_until.astimezone(sent.zone)
    return " " + _(
        "It is quiet hours for the recipient now: the message will be delivered on {day} at "
        "{time}."
    ).format(day=day_short(local.date()), time=clock(local.time()))


async def _reply(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    if query.message is not None:
        await query.message.answer(text, reply_markup=markup)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(choose_teacher, Command("contact"))
    router.callback_query.register(to_teacher, ContactCb.filter(F.a == "to"))
    router.callback_query.register(answer, ContactCb.filter(F.a == "re"))
    router.callback_query.register(ill_today, ContactCb.filter(F.a == "ill"))
    router.callback_query.register(confirm, ContactCb.filter(F.a == "ok"))
    router.callback_query.register(done_writing, ContactCb.filter(F.a == "x"))
    router.callback_query.register(not_found, ContactCb.filter())
    router.message.register(relay, F.photo | (F.text & ~F.text.startswith("/")), Writing())
    router.message.register(not_relayed, ~F.text, Writing())
    return router
