"""Pushes as their readers see them: a queued message's content rendered in their language."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from handlers.pushes.contact import contact_message
from handlers.pushes.family import Composer, family_text
from handlers.pushes.staff import staff_message
from handlers.report_card import card_message
from services.notifications.content import MessageContent
from services.notifications.transport import Composed


class PushRenderer:
    """Renders a message's content in the recipient's language (or the bot's default), outside
    any update's context: the sender runs in the background."""

    def __init__(self, i18n: I18n, default_locale: str) -> None:
        self.i18n = i18n
        self.default_locale = default_locale

    def __call__(self, content: MessageContent) -> Composed:
        with self.i18n.context(), self.i18n.use_locale(content.language or self.default_locale):
            if content.contact is not None:
                return contact_message(content.contact)
            if content.staff is not None:
                return staff_message(content.staff)
            if content.report_card is not None:
                return card_message(content.report_card, content.left_on)
            return Composed(family_text(Composer(self.i18n), content))
