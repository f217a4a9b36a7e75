"""The languages the bot speaks, and which one a Telegram user gets."""

from __future__ import annotations

LANGUAGES = ("ru", "en", "tt")
DEFAULT_LOCALE = "ru"
LANGUAGE_NAMES = {"ru": "Русский", "en": "English", "tt": "Татарча"}


def pick_language(language_code: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The catalogue for Telegram's language_code: ours if we have it, else the default."""
    if language_code:
        base = language_code.split("-", 1)[0].lower()
        if base in LANGUAGES:
            return base
    return default
