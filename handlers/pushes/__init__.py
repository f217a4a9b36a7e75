"""Pushes as their readers see them: a queued message's content rendered in their language."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from handlers.pushes.contact import contact_message
from handlers.pushes.family import Composer, family_text
from handlers.pushes.staff import staff_message
from handlers.render import esc, locale
from handlers.report_card import card_document, card_filename, period_end_caption
from services.notifications.content import MessageContent
from services.notifications.transport import Composed
from services.report_card import ReportCard


def leaver_caption(card: ReportCard, left_on: date) -> str:
    """Seed 003 §7.7: the family of a pupil who left gets the year's marks to hand on."""
    return _(
        "📄 {name}: leaving the school. The marks of the school year up to {day}: keep this"
        " report for the next school."
    ).format(name=esc(card.student.name), day=format_date(left_on, "d MMMM y", locale=locale()))


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
                card = content.report_card
                document = card_document(card, pdf=True)
                caption = (
                    period_end_caption(card)
                    if content.left_on is None
                    else leaver_caption(card, content.left_on)
                )
                return Composed(caption, document=(card_filename(card, "pdf"), document))
            return Composed(family_text(Composer(self.i18n), content))
