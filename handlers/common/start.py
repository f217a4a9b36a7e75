"""/start and /help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")


def welcome_text() -> str:
    return _(
        "Hello! I am the school's electronic journal in Telegram.\n\n"
        "Parents and students see marks, homework, attendance and final grades here and get "
        "a message as soon as a new mark or an absence is entered. Teachers get reminders of "
        "journal entries before the school's deadline.\n\n"
        "To begin, send me the access code the school gave you."
    )


def help_text() -> str:
    return _(
        "<b>What I can do</b>\n"
        "/start: begin, or link your account with the school's code\n"
        "/help: this help\n\n"
        "Your data are shown only to you: you need the access code from the school's journal "
        "administrator or the class teacher to link your account."
    )


@router.message(CommandStart())
async def start(message: Message) -> None:
    await message.answer(welcome_text())


@router.message(Command("help"))
async def help_command(message: Message) -> None:
    await message.answer(help_text())
