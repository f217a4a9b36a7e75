"""The texts of relayed messages between a family and a teacher (services/contact.py): names as
the journal has them, never a phone number or a messenger username."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import ContactCb
from handlers.contact.labels import family_label, teacher_label
from handlers.render import day_short, esc
from services.contact import ContactNotice
from services.notifications.transport import Button, Composed


def _confirmed(notice: ContactNotice) -> str:
    assert notice.day is not None
    lessons = ngettext(
        "{count} lesson is marked in the journal.",
        "{count} lessons are marked in the journal.",
        notice.lessons,
    ).format(count=notice.lessons)
    return (
        _(
            "✅ {child}, {day}: the class teacher {teacher} confirmed the absence with a valid "
            "reason (illness)."
        ).format(
            child=esc(notice.student), day=day_short(notice.day), teacher=esc(notice.teacher.name)
        )
        + " "
        + lessons
    )


def contact_message(notice: ContactNotice) -> Composed:
    """A thread's message to the other side, with the buttons to answer (and, under an illness
    note to the class teacher, to confirm it as an absence with a valid reason)."""
    if notice.kind == "confirmed":
        return Composed(_confirmed(notice))
    answer = Button(_("↩️ Answer"), ContactCb(a="re", t=notice.thread_id).pack())
    if notice.to_staff:
        sender = family_label(notice.guardian, notice.student, notice.class_label)
    else:
        sender = esc(teacher_label(notice.teacher))
    if notice.kind == "illness":
        assert notice.day is not None
        text = _("🤒 {sender}: the child is ill and will not come to school on {day}.").format(
            sender=sender, day=day_short(notice.day)
        )
        rows: tuple[tuple[Button, ...], ...] = ((answer,),)
        if notice.confirmable:
            confirm = Button(
                _("✅ Confirm the absence (valid reason)"),
                ContactCb(a="ok", m=notice.message_id).pack(),
            )
            rows = ((confirm,), (answer,))
        return Composed(text, rows)
    if notice.to_staff:
        heading = f"✉️ {sender}"
    else:
        heading = _("✉️ {teacher} about {child}:").format(teacher=sender, child=esc(notice.student))
    body = f"{heading}\n\n{esc(notice.text)}" if notice.text else heading
    return Composed(body, ((answer,),), photo=notice.attachment)
