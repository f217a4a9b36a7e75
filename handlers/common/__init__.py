"""Handlers for everyone: /start, /help, linking, settings, and the answer in group chats."""

from __future__ import annotations

from aiogram import Router

from handlers.common import lost, membership, phone, revoked, settings, start


def create_router() -> Router:
    """The private chat's screens for everyone; the group answer and the fallback are wired
    by `handlers.create_router`, first and last."""
    router = Router(name=__name__)
    router.include_routers(
        membership.create_router(),
        # First of the screens: a person the school has cut off is told so, whatever they send.
        revoked.create_router(),
        start.create_router(),
        phone.create_router(),
        settings.create_router(),
        lost.create_router(),
    )
    return router
