"""Telegram handlers: routers by audience, then by feature; no SQL here."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Every router of the bot, in the order the dispatcher tries them."""
    from handlers.common import fallback, group, membership, phone, settings, start
    from handlers.family import children, diary, marks, records
    from handlers.teacher import my_class
    from handlers.teacher import reminders as teacher_reminders

    routers = [
        group.router,
        membership.router,
        start.router,
        phone.router,
        settings.router,
        children.router,
        marks.router,
        diary.router,
        records.router,
        my_class.router,
        teacher_reminders.router,
        fallback.router,
    ]
    for router in routers:
        # Routers are module-level (aiogram's idiom); tests and the demo build a new
        # dispatcher more than once per process, and aiogram allows one parent per router.
        router._parent_router = None
    return routers
