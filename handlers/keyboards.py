"""Keyboards and callback data shared by the handlers."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.access import Identity, StudentRef

LANGUAGE_NAMES = {"ru": "Русский", "en": "English", "tt": "Татарча"}


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class ChildCb(CallbackData, prefix="child"):
    student_id: int


# Reply-keyboard buttons are matched by their text in every language.
BTN_MARKS = __("📘 Marks")
BTN_HOMEWORK = __("📝 Homework")
BTN_ATTENDANCE = __("🚸 Attendance")
BTN_TIMETABLE = __("🗓 Timetable")
BTN_FINALS = __("🏁 Final grades")
BTN_CHILD = __("👥 Switch child")
BTN_SETTINGS = __("⚙️ Settings")
BTN_MY_CLASS = __("🏫 My class")


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
    if not rows and not identity.is_linked:
        return None
    rows.append([KeyboardButton(text=str(BTN_SETTINGS))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCb(code=code))
    builder.adjust(3)
    return builder.as_markup()


def children_keyboard(
    children: Sequence[StudentRef], selected: int | None
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
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
