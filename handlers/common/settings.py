"""/settings: what to be told and how (per category, per child), quiet hours, digest time."""

from __future__ import annotations

import html
from datetime import time

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from handlers.callbacks import SettingsCb
from handlers.checks import not_found, record_denied
from handlers.keyboards import BTN_SETTINGS, Keyboard, language_keyboard
from handlers.languages import LANGUAGE_NAMES
from handlers.render import clock, show
from services import access
from services.access import NotFound
from services.db.session import Session
from services.notifications import preferences
from services.notifications.preferences import AccountSettings, Category, Mode

CATEGORY_NAMES = {
    Category.MARKS: __("📘 Marks"),
    Category.ATTENDANCE: __("🚸 Absences"),
    Category.FINALS: __("🏁 Final grades"),
    Category.HOMEWORK: __("📝 Homework"),
    Category.WEEKLY: __("📅 Weekly digest"),
}


def mode_name(category: Category, mode: Mode) -> str:
    if category is Category.WEEKLY:
        return _("on (Sunday evening)") if mode is Mode.IMMEDIATE else _("off")
    return {
        Mode.IMMEDIATE: _("immediately"),
        Mode.DIGEST: _("in the evening digest"),
        Mode.OFF: _("off"),
    }[mode]


def quiet_text(settings: AccountSettings) -> str:
    if settings.quiet_from == settings.quiet_to:
        return _("off")
    return f"{clock(settings.quiet_from)}–{clock(settings.quiet_to)}"


def settings_text(settings: AccountSettings, child: str | None = None) -> str:
    if child is None:
        lines = [_("⚙️ <b>Notifications</b>"), ""]
    else:
        lines = [_("⚙️ <b>Notifications about {child}</b>").format(child=html.escape(child)), ""]
    for category, name in CATEGORY_NAMES.items():
        lines.append(f"{name}: {mode_name(category, settings.modes[category])}")
    if child is None:
        lines.extend(
            [
                "",
                _("🌙 Quiet hours: {hours}. Messages wait until they end.").format(
                    hours=quiet_text(settings)
                ),
                _("⚠️ Flag marks of {n} and below.").format(n=settings.low_mark_threshold),
                _("🕖 Evening digest at {time}.").format(time=clock(settings.digest_time)),
                _("🌐 Language: {name}.").format(
                    name=LANGUAGE_NAMES.get(settings.language or "", "—")
                ),
            ]
        )
    lines.extend(["", _("Press a button to change a setting.")])
    return "\n".join(lines)


def settings_keyboard(
    settings: AccountSettings, children: list[access.StudentRef]
) -> InlineKeyboardMarkup:
    keyboard = Keyboard()
    for category, name in CATEGORY_NAMES.items():
        keyboard.button(
            text=f"{name}: {mode_name(category, settings.modes[category])}",
            callback_data=SettingsCb(a="mode", c=category.value),
        )
    keyboard.button(
        text=_("🌙 Quiet hours: {hours}").format(hours=quiet_text(settings)),
        callback_data=SettingsCb(a="quiet"),
    )
    keyboard.button(
        text=_("⚠️ Low mark: {n}").format(n=settings.low_mark_threshold),
        callback_data=SettingsCb(a="low"),
    )
    keyboard.button(
        text=_("🕖 Digest: {time}").format(time=clock(settings.digest_time)),
        callback_data=SettingsCb(a="digest"),
    )
    keyboard.button(text=_("🌐 Language"), callback_data=SettingsCb(a="language"))
    for child in children if len(children) > 1 else ():
        keyboard.button(
            text=_("👤 Only for {name}").format(name=child.first_name),
            callback_data=SettingsCb(a="child", s=child.id),
        )
    keyboard.adjust(1)
    return keyboard.as_markup()


def child_keyboard(settings: AccountSettings, child_id: int) -> InlineKeyboardMarkup:
    keyboard = Keyboard()
    for category, name in CATEGORY_NAMES.items():
        keyboard.button(
            text=f"{name}: {mode_name(category, settings.modes[category])}",
            callback_data=SettingsCb(a="mode", c=category.value, s=child_id),
        )
    keyboard.button(text=_("◀ All children"), callback_data=SettingsCb(a="show"))
    keyboard.adjust(1)
    return keyboard.as_markup()


def _for_child(settings: AccountSettings, child_id: int) -> AccountSettings:
    """The settings as they apply to one child: that child's choices over the general ones."""
    modes = {**settings.modes, **settings.per_child.get(child_id, {})}
    return AccountSettings(
        settings.role,
        modes,
        settings.per_child,
        settings.quiet_from,
        settings.quiet_to,
        settings.low_mark_threshold,
        settings.digest_time,
        settings.language,
    )


async def _show(
    event: Message | CallbackQuery, session: Session, account_id: int, child_id: int = 0
) -> None:
    settings = await preferences.load(session, account_id)
    view = await access.overview(session, account_id)
    if settings is None or not view.children:
        text = _("Notifications come to parents and students: link your account first.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        else:
            await event.answer(text)
        return
    if child_id:
        child = next((c for c in view.children if c.id == child_id), None)
        if child is None:
            if isinstance(event, CallbackQuery):
                await not_found(event, session, account_id, child_id)
            return
        personal = _for_child(settings, child_id)
        await show(event, settings_text(personal, child.name), child_keyboard(personal, child_id))
        return
    await show(event, settings_text(settings), settings_keyboard(settings, view.children))


async def settings_menu(message: Message, session: Session, account_id: int) -> None:
    await _show(message, session, account_id)


def _next_in(options: tuple[object, ...], current: object) -> object:
    return (
        options[(options.index(current) + 1) % len(options)] if current in options else options[0]
    )


async def settings_button(
    query: CallbackQuery, callback_data: SettingsCb, session: Session, account_id: int
) -> None:
    account = account_id
    settings = await preferences.load(session, account)
    if settings is None:
        await not_found(query, session, account)
        return
    action = callback_data.a
    child = callback_data.s
    try:
        if action == "mode":
            category = Category(callback_data.c)
            base = _for_child(settings, child) if child else settings
            await preferences.set_mode(
                session,
                account_id=account,
                category=category,
                mode=preferences.next_mode(category, base.modes[category]),
                student_id=child or None,
            )
        elif action == "quiet":
            choices = tuple(preferences.QUIET_CHOICES)
            current = next(
                (
                    k
                    for k, v in preferences.QUIET_CHOICES.items()
                    if v == (settings.quiet_from, settings.quiet_to)
                ),
                "",
            )
            await preferences.set_quiet(
                session, account_id=account, choice=str(_next_in(choices, current))
            )
        elif action == "low":
            await preferences.set_threshold(
                session,
                account_id=account,
                threshold=int(
                    str(_next_in(preferences.THRESHOLD_CHOICES, settings.low_mark_threshold))
                ),
            )
        elif action == "digest":
            at = _next_in(preferences.DIGEST_CHOICES, settings.digest_time)
            assert isinstance(at, time)
            await preferences.set_digest_time(session, account_id=account, at=at)
        elif action == "language":
            await query.answer()
            if isinstance(query.message, Message):
                await query.message.answer(
                    _("Choose the language:"), reply_markup=language_keyboard()
                )
            return
        elif action not in {"show", "child"}:
            raise ValueError(action)
    except NotFound:
        await not_found(query, session, account, callback_data.s or None)
        return
    except ValueError:
        await record_denied(query, session, account)
        await query.answer(_("This button is out of date. Please open /settings again."))
        return
    await _show(query, session, account, child)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(settings_menu, Command("settings"))
    router.message.register(settings_menu, F.text == BTN_SETTINGS)
    router.callback_query.register(settings_button, SettingsCb.filter())
    return router
