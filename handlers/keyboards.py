"""Keyboards shared by the handlers: the reply menu, inline rows, the period row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from handlers.callbacks import ChildCb, LanguageCb
from handlers.languages import LANGUAGE_NAMES
from handlers.render import period_short
from services.access import Identity, StudentRef
from services.journal import PeriodRef, SchoolContext


class Keyboard:
    """Inline keyboard rows built directly.

    aiogram's InlineKeyboardBuilder deep-copies every button model on each change, which cost
    several milliseconds per screen of twenty buttons; this builds the markup once.
    """

    ROW_MAX = 8

    def __init__(self) -> None:
        self._rows: list[list[InlineKeyboardButton]] = []
        self._loose: list[InlineKeyboardButton] = []
        self._sizes: tuple[int, ...] = ()

    def button(self, *, text: str, callback_data: CallbackData | str) -> Keyboard:
        data = callback_data.pack() if isinstance(callback_data, CallbackData) else callback_data
        self._loose.append(InlineKeyboardButton(text=text, callback_data=data))
        return self

    def adjust(self, *sizes: int) -> Keyboard:
        """Rows of these sizes for the buttons added so far; the last size repeats."""
        self._sizes = sizes
        return self

    def _settle(self) -> None:
        sizes = list(self._sizes) or [self.ROW_MAX]
        index = 0
        loose = self._loose
        while loose:
            size = max(1, sizes[min(index, len(sizes) - 1)])
            self._rows.append(loose[:size])
            loose = loose[size:]
            index += 1
        self._loose = []
        self._sizes = ()

    def attach(self, other: Keyboard) -> Keyboard:
        self._settle()
        other._settle()
        self._rows.extend(other._rows)
        return self

    def rows(self) -> list[list[InlineKeyboardButton]]:
        self._settle()
        return self._rows

    def as_markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=self.rows())


# Reply-keyboard buttons are matched by their text in every language.
BTN_MARKS = __("📘 Marks")
BTN_HOMEWORK = __("📝 Homework")
BTN_ATTENDANCE = __("🚸 Attendance")
BTN_TIMETABLE = __("🗓 Timetable")
BTN_FINALS = __("🏁 Final grades")
BTN_CHILD = __("👥 Switch child")
BTN_SETTINGS = __("⚙️ Settings")
BTN_MY_CLASS = __("🏫 My class")
BTN_REMINDERS = __("⏰ Reminders")
BTN_MY_LESSONS = __("🗓 My lessons")
BTN_CLASS_MARKS = __("📒 Marks of my classes")
BTN_JOURNAL_REPORT = __("📊 Journal keeping")


def main_menu(identity: Identity, children: Sequence[StudentRef]) -> ReplyKeyboardMarkup | None:
    """The main screens of the account's role; None for an account that is not linked."""
    rows: list[list[KeyboardButton]] = []
    if children:
        rows.append([KeyboardButton(text=str(BTN_MARKS)), KeyboardButton(text=str(BTN_HOMEWORK))])
        rows.append(
            [KeyboardButton(text=str(BTN_ATTENDANCE)), KeyboardButton(text=str(BTN_TIMETABLE))]
        )
        rows.append([KeyboardButton(text=str(BTN_FINALS))])
        if len(children) > 1:
            rows[-1].append(KeyboardButton(text=str(BTN_CHILD)))
    if identity.class_teacher_of:
        rows.append([KeyboardButton(text=str(BTN_MY_CLASS))])
    if identity.is_staff:
        rows.append(
            [KeyboardButton(text=str(BTN_MY_LESSONS)), KeyboardButton(text=str(BTN_CLASS_MARKS))]
        )
        rows.append([KeyboardButton(text=str(BTN_REMINDERS))])
    if identity.deputy_of:
        rows[-1].append(KeyboardButton(text=str(BTN_JOURNAL_REPORT)))
    if not rows and not identity.is_linked:
        return None
    rows.append([KeyboardButton(text=str(BTN_SETTINGS))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def language_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCb(code=code))
    builder.adjust(3)
    return builder.as_markup()


def children_keyboard(
    children: Sequence[StudentRef], selected: int | None
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for child in children:
        mark = "✅ " if child.id == selected else ""
        label = f"{mark}{child.first_name} {child.class_label}".strip()
        builder.button(text=label, callback_data=ChildCb(student_id=child.id))
    builder.adjust(1)
    return builder.as_markup()


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def period_row(
    builder: Keyboard,
    context: SchoolContext,
    selected: PeriodRef,
    make: Callable[[int], CallbackData],
) -> None:
    """A row of the periods begun so far, the selected one ticked; none with fewer than two."""
    started = [t for t in context.terms if t.starts_on <= context.today]
    if len(started) < 2:
        return
    row = Keyboard()
    for term in started:
        label = ("✅ " if term.id == selected.id else "") + period_short(term)
        row.button(text=label, callback_data=make(term.id))
    builder.attach(row)
