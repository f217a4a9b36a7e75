"""Gettext catalogues (ru, en, tt) loaded straight from the .po files with Babel."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from handlers.languages import DEFAULT_LOCALE, LANGUAGES, pick_language

__all__ = [
    "LANGUAGES",
    "LOCALES_DIR",
    "CatalogueI18n",
    "LocaleMiddleware",
    "load_catalogues",
    "make_i18n",
]

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"


def load_catalogues(
    path: Path = LOCALES_DIR, domain: str = "messages"
) -> dict[str, gettext.GNUTranslations]:
    """Compile the .po catalogues in memory, so no build step (and no .mo in git) is needed."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for po_path in sorted(path.glob(f"*/LC_MESSAGES/{domain}.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations[locale] = gettext.GNUTranslations(buffer)
    return translations


class CatalogueI18n(I18n):
    """aiogram's I18n over the .po catalogues."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return load_catalogues(self.path, self.domain)

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram keeps the current instance in a context variable per class, and
        # `gettext as _` reads the one of I18n itself: set that one, not ours.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def make_i18n(default_locale: str = DEFAULT_LOCALE) -> I18n:
    return CatalogueI18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


class LocaleMiddleware(I18nMiddleware):
    """The account's chosen language first, then Telegram's language_code, then the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chosen = data.get("account_language")
        if isinstance(chosen, str) and chosen in LANGUAGES:
            return chosen
        user: User | None = data.get("event_from_user")
        return pick_language(user.language_code if user else None, self.i18n.default_locale)
