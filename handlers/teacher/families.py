"""The class teacher's tools for their own class: which families have linked (seed 004
§3.3.7 "ведет мониторинг использования системы обучающимися и их родителями") and the class's
week on demand (seed 000 §6.3, seed 004 §3.3.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import ClassCb, ClassToolCb
from handlers.checks import Check, Refusal, screen
from handlers.keyboards import Keyboard

# A module import: handlers.pushes.staff imports this package (the reminders' texts).
from handlers.pushes import staff as staff_texts
from handlers.render import day_short, esc, show
from services import access, audit, gaps, reports, staff_views
from services.access import ClassRef, NotFound
from services.db.session import Session
from services.staff_views import FamilyLine, Person


class ClassToolCheck(Check):
    """Injects `klass` if the presser is its class teacher now; "Not found." otherwise."""

    async def check(self, event: CallbackQuery, data: dict[str, Any]) -> dict[str, Any] | Refusal:
        button: ClassToolCb = data["callback_data"]
        try:
            klass = await access.class_for(data["session"], data["account_id"], button.c)
        except NotFound:
            return Refusal()
        return {"klass": klass}


def back_button(klass: ClassRef) -> Keyboard:
    builder = Keyboard()
    builder.button(
        text=_("◀ Class {label}").format(label=klass.label), callback_data=ClassCb(c=klass.id)
    )
    return builder


# --- families ---------------------------------------------------------------------------------


def _person(person: Person) -> str:
    return ("✅ " if person.linked else "❌ ") + esc(person.name)


def families_text(klass: ClassRef, lines: Sequence[FamilyLine]) -> str:
    linked = sum(1 for line in lines if line.anyone_linked)
    out = [
        _("👪 Families of {label} in the bot").format(label=esc(klass.label)),
        ngettext(
            "Linked: {n} family of {total}.", "Linked: {n} families of {total}.", linked
        ).format(n=linked, total=len(lines)),
        _("✅ linked, ❌ not yet"),
        "",
    ]
    if not lines:
        out.append(_("There are no students in this class."))
        return "\n".join(out)
    for index, line in enumerate(lines, 1):
        parts = [_person(line.student) + " " + _("(student)")]
        parts.extend(_person(g) for g in line.guardians)
        note = "" if line.consent else " ⚠️ " + _("no consent on record")
        out.append(f"{index}. " + "; ".join(parts) + note)
    waiting = [line.student.name for line in lines if not line.anyone_linked]
    if waiting:
        out.append("")
        out.append(_("Nobody linked yet: {names}.").format(names=esc(", ".join(waiting))))
    if any(not line.consent for line in lines):
        out.append(
            _(
                "⚠️ Without a parent's written consent on record the bot shows nothing of the "
                "child (seed 003 §1.5)."
            )
        )
    return "\n".join(out)


def families_keyboard(klass: ClassRef) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("🔑 Access codes"), callback_data=ClassToolCb(c=klass.id, a="k"))
    builder.attach(back_button(klass))
    return builder.as_markup()


async def families(
    query: CallbackQuery, session: Session, klass: ClassRef, account_id: int
) -> None:
    lines = await staff_views.class_families(session, klass)
    await audit.viewed(session, account_id=account_id, screen="families", class_id=klass.id)
    await show(query, families_text(klass, lines), families_keyboard(klass))


# --- the class's week on demand ------------------------------------------------------------------


def week_keyboard(klass: ClassRef, back: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("◀ Previous week"), callback_data=ClassToolCb(c=klass.id, a="w", w=back + 1)
    )
    if back > 0:
        builder.button(
            text=_("Next week ▶"), callback_data=ClassToolCb(c=klass.id, a="w", w=back - 1)
        )
    builder.adjust(2)
    builder.attach(back_button(klass))
    return builder.as_markup()


# A year back is as far as the buttons go: older weeks belong to the archive.
MAX_WEEKS_BACK = 52


async def class_week(
    query: CallbackQuery,
    session: Session,
    klass: ClassRef,
    callback_data: ClassToolCb,
    account_id: int,
) -> None:
    """The class teacher's week (the Friday summary) for this week or one before, now."""
    back = callback_data.w
    if not 0 <= back <= MAX_WEEKS_BACK:
        await query.answer(_("Not found."), show_alert=True)
        return
    connection = await session.connection()
    [school] = await gaps.schools(connection, [klass.school_id])
    now = datetime.now(UTC)
    today = now.astimezone(school.zone).date()
    start, end = reports.week_of(today - timedelta(weeks=back))
    week = await reports.class_report(
        connection,
        school,
        class_id=klass.id,
        label=klass.label,
        start=start,
        end=end,
        now=now,
    )
    await audit.viewed(session, account_id=account_id, screen="class_week", class_id=klass.id)
    text = staff_texts.class_week_text(week)
    if back == 0 and end > today:
        text += "\n\n" + _("So far: up to {day}.").format(day=day_short(today))
    await show(query, text, week_keyboard(klass, back))


def create_router() -> Router:
    """For staff only: the parent router carries the staff filter."""
    router = Router(name=__name__)
    check = ClassToolCheck()
    screen(router.callback_query, families, ClassToolCb.filter(F.a == "f"), check=check)
    screen(router.callback_query, class_week, ClassToolCb.filter(F.a == "w"), check=check)
    return router
