"""How the two sides of a thread are named to each other: as the journal has them, never by a
phone number or a messenger username."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.render import esc
from services.contact import Teacher


def teacher_role(teacher: Teacher) -> str:
    """What the teacher is to the child: class teacher, and the subjects they teach."""
    parts = [_("class teacher")] if teacher.class_teacher else []
    parts.extend(teacher.subjects)
    return ", ".join(parts)


def teacher_label(teacher: Teacher) -> str:
    """The teacher as a family sees them: name and role."""
    role = teacher_role(teacher)
    return f"{teacher.name} — {role}" if role else teacher.name


def family_label(guardian: str | None, student: str, class_label: str) -> str:
    """The family side as the teacher sees it: the guardian, or the student themself."""
    if guardian is None:
        return _("the student {child} ({class_label})").format(
            child=esc(student), class_label=esc(class_label)
        )
    return _("{guardian}, parent of {child} ({class_label})").format(
        guardian=esc(guardian), child=esc(student), class_label=esc(class_label)
    )
