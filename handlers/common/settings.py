"""/settings: what to be told and how (per category, per child), quiet hours, digest time;
for staff, which reminders and reports they get, quiet hours and the language."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time

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
from handlers.teacher.reminders import CATEGORY_NAMES as REMINDER_NAMES
from handlers.teacher.reminders import MUTABLE as REMINDER_KINDS
from services import access, reminders
from services.access import Identity, NotFound
from services.db.session import Session
from services.notifications import preferences
from services.notifications.preferences import AccountSettings, Category, Mode, StaffReport

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


REPORT_NAMES = {
    StaffReport.CLASS_WEEK: __("The class's week on Fridays"),
    StaffReport.CLASS_DAY: __("The class's attendance every day"),
    StaffReport.FEW_MARKS: __("Too few marks before a period ends"),
    StaffReport.DEPUTY_WEEK: __("Journal keeping on Fridays"),
}
# The staff screen's buttons say so in their `v`: the screen to show again after a press.
STAFF = "t"


def quiet_text(settings: AccountSettings) -> str:
    if settings.quiet_from == settings.quiet_to:
        return _("off")
    return f"{clock(settings.quiet_from)}–{clock(settings.quiet_to)}"


def quiet_line(settings: AccountSettings) -> str:
    """The quiet hours as a sentence: when they are off nothing waits."""
    if settings.quiet_from == settings.quiet_to:
        return _("🌙 Quiet hours: off. Messages come at any hour.")
    return _("🌙 Quiet hours: {hours}. Messages wait until they end.").format(
        hours=quiet_text(settings)
    )


def staff_reports(identity: Identity) -> list[StaffReport]:
    """The reports this person's roles bring them (services/reports.py, services/duties.py)."""
    kinds: list[StaffReport] = []
    if identity.class_teacher_of:
        kinds.extend([StaffReport.CLASS_WEEK, StaffReport.CLASS_DAY])
    kinds.append(StaffReport.FEW_MARKS)
    if identity.deputy_of:
        kinds.append(StaffReport.DEPUTY_WEEK)
    return kinds


def staff_settings_text(
    settings: AccountSettings,
    muted: dict[reminders.Category, datetime | None],
    reports: list[StaffReport],
    off: set[StaffReport],
) -> str:
    lines = [_("⚙️ <b>Settings</b>"), "", _("⏰ Reminders of journal entries:")]
    for category in REMINDER_KINDS:
        if category not in muted:
            state = _("on")
        elif muted[category] is None:
            state = _("off")
        else:
            state = _("snoozed until tomorrow")
        lines.append(f"• {REMINDER_NAMES[category]}: {state}")
    lines.extend(["", _("📬 Reports:")])
    for report in reports:
        name = REPORT_NAMES[report]
        line = _("{report}: on") if report not in off else _("{report}: off")
        lines.append("• " + line.format(report=name))
    lines.extend(
        [
            "",
            quiet_line(settings),
            _("🌐 Language: {name}.").format(
                name=LANGUAGE_NAMES.get(settings.language or "", "—")
            ),
            "",
            _("Press a button to change a setting."),
        ]
    )
    return "\n".join(lines)


def staff_settings_keyboard(
    settings: AccountSettings,
    muted: dict[reminders.Category, datetime | None],
    reports: list[StaffReport],
    off: set[StaffReport],
    *,
    family: bool,
) -> InlineKeyboardMarkup:
    keyboard = Keyboard()
    # Each button says what a press does: turn off what is on, turn on what is off.
    for category in REMINDER_KINDS:
        name = REMINDER_NAMES[category]
        label = _("🔕 {what}: off") if category not in muted else _("🔔 {what}: on")
        keyboard.button(
            text=label.format(what=name),
            callback_data=SettingsCb(a="rem", c=category.value, v=STAFF),
        )
    for report in reports:
        name = REPORT_NAMES[report]
        label = _("🔕 {what}: off") if report not in off else _("🔔 {what}: on")
        keyboard.button(
            text=label.format(what=name),
            callback_data=SettingsCb(a="rep", c=report.value, v=STAFF),
        )
    keyboard.button(
        text=_("🌙 Quiet hours: {hours}").format(hours=quiet_text(settings)),
        callback_data=SettingsCb(a="quiet", v=STAFF),
    )
    keyboard.button(text=_("🌐 Language"), callback_data=SettingsCb(a="language"))
    if family:
        keyboard.button(
            text=_("◀ Notifications about children"), callback_data=SettingsCb(a="show")
        )
    keyboard.adjust(1)
    return keyboard.as_markup()


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
                quiet_line(settings),
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
    settings: AccountSettings, children: list[access.StudentRef], *, staff: bool = False
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
    if staff:
        keyboard.button(text=_("🧑‍🏫 Messages for staff"), callback_data=SettingsCb(a="staff"))
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
    event: Message | CallbackQuery,
    session: Session,
    account_id: int,
    child_id: int = 0,
    *,
    staff: bool = False,
) -> None:
    settings = await preferences.load(session, account_id)
    view = await access.overview(session, account_id)
    if settings is None or not view.identity.is_linked:
        text = _("Settings are for linked accounts: please link your account first.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        else:
            await event.answer(text)
        return
    if view.identity.is_staff and (staff or not view.children):
        await _show_staff(event, session, settings, view.identity, family=bool(view.children))
        return
    if not view.children:
        # Linked, but to nobody whose journal can be shown yet (a consent is missing).
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
    await show(
        event,
        settings_text(settings),
        settings_keyboard(settings, view.children, staff=view.identity.is_staff),
    )


async def _show_staff(
    event: Message | CallbackQuery,
    session: Session,
    settings: AccountSettings,
    identity: Identity,
    *,
    family: bool,
) -> None:
    account_id = identity.account_id
    muted = await reminders.mutes(await session.connection(), account_id, datetime.now(UTC))
    reports = staff_reports(identity)
    off = await preferences.staff_reports_off(session, account_id)
    await show(
        event,
        staff_settings_text(settings, muted, reports, off),
        staff_settings_keyboard(settings, muted, reports, off, family=family),
    )


async def _staff_toggle(session: Session, account_id: int, callback_data: SettingsCb) -> None:
    """A staff member turns a kind of reminder or report on or off: only their own, and only
    one their roles bring (ValueError otherwise)."""
    identity = await access.identity(session, account_id)
    if not identity.is_staff:
        raise ValueError(callback_data.a)
    if callback_data.a == "rem":
        category = reminders.Category(callback_data.c)
        if category not in REMINDER_KINDS:
            raise ValueError(category)
        connection = await session.connection()
        muted = await reminders.mutes(connection, account_id, datetime.now(UTC))
        if category in muted:
            await reminders.unmute(connection, account_id, category)
        else:
            await reminders.snooze(connection, account_id, category, None)
        await session.commit()
        return
    report = StaffReport(callback_data.c)
    if report not in staff_reports(identity):
        raise ValueError(report)
    off = await preferences.staff_reports_off(session, account_id)
    await preferences.set_staff_report(
        session, account_id=account_id, report=report, on=report in off
    )


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
                session,
                account_id=account,
                choice=str(_next_in(choices, current)),
                now=datetime.now(UTC),
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
        elif action in {"rem", "rep"}:
            await _staff_toggle(session, account, callback_data)
        elif action not in {"show", "child", "staff"}:
            raise ValueError(action)
    except NotFound:
        await not_found(query, session, account, callback_data.s or None)
        return
    except ValueError:
        await record_denied(query, session, account)
        await query.answer(_("This button is out of date. Please open /settings again."))
        return
    await _show(
        query, session, account, child, staff=action == "staff" or callback_data.v == STAFF
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(settings_menu, Command("settings"))
    router.message.register(settings_menu, F.text == BTN_SETTINGS)
    router.callback_query.register(settings_button, SettingsCb.filter())
    return router
