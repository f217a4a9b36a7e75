"""Telegram handlers: routers by audience, then by feature; no SQL here."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Every router of the bot, in the order the dispatcher tries them."""
    from handlers.common import fallback, group, phone, start

    return [group.router, start.router, phone.router, fallback.router]
