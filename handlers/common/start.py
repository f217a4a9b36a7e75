"""/start, /help, linking by code or phone, /logout and /language."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, MagicData
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_time

from handlers.callbacks import LanguageCb, LogoutCb
from handlers.keyboards import Keyboard, language_keyboard, main_menu
from handlers.render import by_sex, pgettext
from services import access, accounts, linking
from services.accounts import AccountPrefs
from services.db.session import Session
from services.linking import LinkResult, Outcome
from services.zones import DEFAULT_TIMEZONE


def welcome_text() -> str:
    return _(
        "Hello! I am the school's electronic journal in Telegram.\n\n"
        "Parents and students see marks, homework, attendance and final grades here and get "
        "a message as soon as a new mark or an absence is entered. Teachers get reminders of "
        "journal entries before the school's deadline.\n\n"
        "To begin, send me the access code the school gave you."
    )


def help_text(identity: access.Identity | None = None) -> str:
    """What the account can do, by its roles: a family, a teacher, a class teacher, a
    deputy; an account linked to nobody sees the family's commands and how to link."""
    family = identity is None or identity.is_family or not identity.is_staff
    lines = [
        _("<b>What I can do</b>"),
        _("/start: begin, or link your account with the school's code"),
    ]
    if family:
        lines += [
            _("/marks: marks, averages and the forecast"),
            _("/homework: homework for the next school day; /homework 25.11 for a chosen day"),
            _("/timetable: today's timetable; /timetable 25.11 for a chosen day"),
            _(
                "/week, /forecast, /attendance, /finals: the week's marks, the forecast, "
                "absences, final grades"
            ),
            _("/history: the last notifications about each child"),
            _("/contact: write to the class teacher or a subject teacher"),
            _("/settings: which notifications come, and quiet hours"),
        ]
    if identity is not None and identity.is_staff:
        lines += [
            "",
            _("<b>For teachers</b>"),
            _("/lessons: your lessons today, substitutions included; /lessons 25.11 for a day"),
            _("📒 Marks of my classes: your classes' marks in your subjects, read only"),
            _("/reminders: reminders of journal entries before the school's deadline"),
        ]
    if identity is not None and identity.class_teacher_of:
        lines += [
            "",
            _("<b>For the class teacher</b>"),
            _(
                "🏫 My class: the class by student; each student's whole card; which families "
                "have linked; access codes as slips to print; the class's week"
            ),
        ]
    if identity is not None and identity.deputy_of:
        lines += [
            "",
            _("<b>For the deputy director</b>"),
            _(
                "📊 Journal keeping: the report for any week or period, the whole school or "
                "one class, with its XLSX"
            ),
        ]
    lines += [
        "",
        _("/help: this help"),
        _("/language: choose the language"),
        _("/logout: unlink this Telegram account"),
        _("/lost: lost your phone? end all your sessions at once"),
        "",
        _(
            "Your data are shown only to you: you need the access code from the school's "
            "journal administrator or the class teacher to link your account."
        ),
    ]
    return "\n".join(lines)


def _family_commands() -> list[BotCommand]:
    return [
        BotCommand(command="marks", description=_("Marks of the period")),
        BotCommand(command="homework", description=_("Homework: /homework 25.11")),
        BotCommand(command="timetable", description=_("Timetable: /timetable 25.11")),
        BotCommand(command="week", description=_("Marks of the week")),
        BotCommand(command="forecast", description=_("Forecast of the period's grades")),
        BotCommand(command="attendance", description=_("Absences and lateness")),
        BotCommand(command="finals", description=_("Final grades of the year")),
        BotCommand(command="history", description=_("The last notifications")),
        BotCommand(command="contact", description=_("Write to a teacher")),
        BotCommand(command="settings", description=_("Notifications and quiet hours")),
    ]


def chat_commands(identity: access.Identity | None = None) -> list[BotCommand]:
    """The command menu of an account's roles, in the current language; without an
    identity, the bot's default menu for every private chat (a family's)."""
    commands = [BotCommand(command="start", description=_("Begin or link an account"))]
    if identity is None or identity.is_family or not identity.is_staff:
        commands += _family_commands()
    if identity is not None and identity.is_staff:
        commands += [
            BotCommand(command="lessons", description=_("My lessons: /lessons 25.11")),
            BotCommand(command="reminders", description=_("Reminders of journal entries")),
            BotCommand(command="settings", description=_("Notifications and quiet hours")),
        ]
    commands += [
        BotCommand(command="help", description=_("What the bot can do")),
        BotCommand(command="language", description=_("Choose the language")),
        BotCommand(command="logout", description=_("Unlink this account")),
        BotCommand(command="lost", description=_("Lost phone: end all sessions")),
    ]
    # A teacher who is also a parent: /settings once.
    return list({command.command: command for command in commands}.values())


async def publish_chat_commands(message: Message, identity: access.Identity) -> None:
    """The command menu of this chat, once the account's roles are known: set for the chat's
    own scope, over the bot's default menu for all private chats."""
    if message.bot is None:
        return
    await message.bot.set_my_commands(
        chat_commands(identity), scope=BotCommandScopeChat(chat_id=message.chat.id)
    )


def _who_text(view: access.Overview) -> str:
    lines: list[str] = []
    if view.children:
        own = [c for c in view.children if c.relation is access.Relation.SELF]
        kids = [c for c in view.children if c.relation is access.Relation.GUARDIAN]
        if kids:
            lines.append(_("You are linked as a parent of:"))
            lines.extend(f"• {html.escape(c.name)}, {html.escape(c.class_label)}" for c in kids)
        if own:
            lines.append(
                by_sex(
                    own[0].sex,
                    pgettext("m", "You are linked as a student: {name}, class {label}."),
                    pgettext("f", "You are linked as a student: {name}, class {label}."),
                    _("You are linked as a student: {name}, class {label}."),
                ).format(name=html.escape(own[0].name), label=html.escape(own[0].class_label))
            )
    if view.staff_names:
        lines.append(
            _("You are linked as a member of staff: {name}.").format(
                name=html.escape(", ".join(view.staff_names))
            )
        )
    if view.awaiting_consent:
        lines.append(
            _(
                "The school has no consent record for: {names}. Their data will appear once "
                "the school registers a parent's written consent; please ask the class teacher."
            ).format(names=html.escape(", ".join(view.awaiting_consent)))
        )
    return "\n".join(lines)


async def show_linked(message: Message, session: Session, account_id: int) -> bool:
    """Greet a linked account with who it is and its menu; False when it is not linked."""
    view = await access.overview(session, account_id)
    if not view.identity.is_linked:
        return False
    await publish_chat_commands(message, view.identity)
    await message.answer(_who_text(view), reply_markup=main_menu(view.identity, view.children))
    return True


def _local_time(moment: datetime, prefs: AccountPrefs | None, locale: str) -> str:
    zone = ZoneInfo(prefs.timezone if prefs and prefs.timezone else DEFAULT_TIMEZONE)
    return format_time(moment.astimezone(zone), format="short", locale=locale)


def _failure_text(result: LinkResult, prefs: AccountPrefs | None, locale: str) -> str:
    if result.outcome is Outcome.LOCKED and result.locked_until is not None:
        until = _local_time(result.locked_until, prefs, locale)
        if result.flood:
            return _(
                "Someone is trying to guess codes right now, so wrong codes are limited more "
                "strictly for a while. Code entry from this account is paused until {time}. "
                "Please check the code on the slip and send it then. If you have lost it, "
                "ask the class teacher for a new one."
            ).format(time=until)
        return _(
            "Too many wrong codes. For your safety, code entry is locked until {time}. "
            "If you have lost your code, ask the class teacher for a new one."
        ).format(time=until)
    if result.outcome is Outcome.EXPIRED:
        return _("This code has expired. Please ask the class teacher for a new one.")
    if result.outcome is Outcome.USED:
        return _(
            "This code has already been used. If it was not you, please tell the school "
            "at once: they will block it and give you a new one."
        )
    if result.outcome is Outcome.CONSENT_MISSING:
        return _(
            "The school has no record of a parent's written consent to process the child's "
            "data, so I cannot link this account yet. Please ask the school to register the "
            "consent, then send the code again: it stays valid."
        )
    left = result.attempts_left or 0
    return ngettext(
        "This code is not valid. Please check it and try again: {n} attempt left.",
        "This code is not valid. Please check it and try again: {n} attempts left.",
        left,
    ).format(n=left)


async def redeem_code(
    message: Message,
    *,
    code: str,
    session: Session,
    code_secret: bytes,
    account_id: int,
    account_prefs: AccountPrefs | None,
    i18n: I18n,
) -> None:
    result = await linking.redeem(
        session, account_id=account_id, text=code, secret=code_secret, now=datetime.now(UTC)
    )
    if result.outcome is Outcome.LINKED:
        await message.answer(_("Done! Your account is linked."))
        await show_linked(message, session, account_id)
        return
    await message.answer(_failure_text(result, account_prefs, i18n.current_locale))


async def start(message: Message, session: Session, account_id: int) -> None:
    await accounts.reactivate(session, account_id)
    await session.commit()
    if not await show_linked(message, session, account_id):
        await message.answer(welcome_text(), reply_markup=ReplyKeyboardRemove())


async def help_command(message: Message, session: Session, account_id: int) -> None:
    identity = await access.identity(session, account_id)
    if identity.is_linked:
        await publish_chat_commands(message, identity)
    await message.answer(help_text(identity))


async def logout(message: Message, session: Session, account_id: int) -> None:
    """Asked once more first: unlinking takes a new code from the school to undo."""
    view = await access.overview(session, account_id)
    if not view.identity.is_linked:
        text = _("This Telegram account is not linked to anybody.")
        await message.answer(text, reply_markup=ReplyKeyboardRemove())
        return
    builder = Keyboard()
    builder.button(text=_("Yes, unlink"), callback_data=LogoutCb(a="go"))
    builder.button(text=_("No, stay linked"), callback_data=LogoutCb(a="keep"))
    builder.adjust(2)
    await message.answer(
        _(
            "Unlink this Telegram account from the journal? Nothing from the journal will be "
            "shown here any more, and to link it again you will need a new code from the school."
        ),
        reply_markup=builder.as_markup(),
    )


async def logout_chosen(
    query: CallbackQuery, callback_data: LogoutCb, session: Session, account_id: int
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.a != "go":
        await query.message.edit_text(_("Nothing has changed: the account stays linked."))
        return
    ended = await linking.logout(session, account_id=account_id, now=datetime.now(UTC))
    if ended:
        text = _(
            "This Telegram account is unlinked: nothing from the journal is shown here any "
            "more. To link it again, send a new code from the school."
        )
    else:
        text = _("This Telegram account is not linked to anybody.")
    await query.message.edit_text(text)
    # The menu of a linked account goes with the link.
    await query.message.answer(_("The menu is closed."), reply_markup=ReplyKeyboardRemove())


async def language(message: Message) -> None:
    await message.answer(_("Choose the language:"), reply_markup=language_keyboard())


async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCb,
    session: Session,
    i18n: I18n,
    account_id: int,
) -> None:
    if callback_data.code not in i18n.available_locales:
        await query.answer(_("This language is not available."), show_alert=True)
        return
    if query.message is None or query.message.chat is None:
        await query.answer()
        return
    await accounts.set_language(session, account_id=account_id, language=callback_data.code)
    i18n.current_locale = callback_data.code
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Language: English."))
        await show_linked(query.message, session, account_id)


def create_router() -> Router:
    router = Router(name=__name__)
    # /start CODE, a deep link from the school's slip: the code reaches redeem_code as `code`.
    router.message.register(
        redeem_code, CommandStart(deep_link=True), MagicData(F.command.args.as_("code"))
    )
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(logout, Command("logout"))
    router.callback_query.register(logout_chosen, LogoutCb.filter())
    router.message.register(language, Command("language"))
    router.callback_query.register(language_chosen, LanguageCb.filter())
    return router
