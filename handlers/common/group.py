"""In groups and channels the bot shows nothing: a journal is private (the parent router
lets only their updates in). It answers only what is meant for it, a command or a mention,
with a pointer to the private chat; the members' own talk it leaves alone."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.enums import MessageEntityType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


class AddressedToBot(Filter):
    """A command (for this bot, or for no bot in particular), a mention of the bot by its
    @username or by name, or a reply to one of its messages."""

    async def __call__(self, message: Message, bot: Bot, **data: Any) -> bool:
        text = message.text or message.caption or ""
        entities = message.entities or message.caption_entities or []
        if not entities and message.reply_to_message is None:
            return False  # plain talk: not even the bot's name is needed
        me = await bot.me()
        username = (me.username or "").lower()
        for entity in entities:
            if entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
                command = entity.extract_from(text)
                _name, _at, addressee = command.partition("@")
                if not addressee or addressee.lower() == username:
                    return True
            mentioned = entity.type == MessageEntityType.MENTION and username
            if mentioned and entity.extract_from(text).lower() == f"@{username}":
                return True
            user = entity.user if entity.type == MessageEntityType.TEXT_MENTION else None
            if user is not None and user.id == me.id:
                return True
        reply = message.reply_to_message
        return bool(reply and reply.from_user and reply.from_user.id == me.id)


async def only_private(message: Message) -> None:
    await message.answer(_("I work only in a private chat. Open a chat with me to continue."))


async def only_private_button(query: CallbackQuery) -> None:
    await query.answer(
        _("I work only in a private chat. Open a chat with me to continue."), show_alert=True
    )


def create_router() -> Router:
    router = Router(name=__name__)
    # Anything else in the group is the members' talk: no handler takes it, nothing answers.
    router.message.register(only_private, AddressedToBot())
    router.callback_query.register(only_private_button)
    return router
