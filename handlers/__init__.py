"""Telegram handlers: routers by audience, then by feature; no SQL here."""

from __future__ import annotations

from aiogram import Router

from handlers import common, contact, family, teacher
from handlers.common import fallback, group
from handlers.filters import PrivateChat, only_in


def create_router() -> Router:
    """Every router of the bot, built afresh for each dispatcher (aiogram lets a router have
    one parent), in the order the dispatcher tries them."""
    groups = only_in(Router(name=f"{__name__}.groups"), PrivateChat(private=False))
    groups.include_router(group.create_router())
    private = only_in(Router(name=f"{__name__}.private"), PrivateChat())
    private.include_routers(
        common.create_router(),
        family.create_router(),
        teacher.create_router(),
        contact.create_router(),
        fallback.create_router(),
    )
    root = Router(name=__name__)
    root.include_routers(groups, private)
    return root
