"""Screens for staff: the class teacher's class, and reminders of journal entries."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import or_f

from handlers.callbacks import ClassCb, ReminderCb
from handlers.checks import not_found
from handlers.filters import Staff
from handlers.teacher import my_class, reminders


def create_router() -> Router:
    """The staff screens behind the staff filter; their menus and buttons from anybody else
    are answered after them."""
    staff = Router(name=f"{__name__}.staff")
    # Only the staff screens' own menus and buttons ask the database who is staff.
    staff.message.filter(or_f(*my_class.MENUS, *reminders.MENUS), Staff())
    staff.callback_query.filter(or_f(ClassCb.filter(), ReminderCb.filter()), Staff())
    staff.include_routers(my_class.create_router(), reminders.create_router())

    others = Router(name=f"{__name__}.others")
    for trigger in my_class.MENUS:
        others.message.register(my_class.for_class_teachers, trigger)
    for trigger in reminders.MENUS:
        others.message.register(reminders.for_teachers, trigger)
    others.callback_query.register(not_found, ClassCb.filter())
    others.callback_query.register(reminders.invalid_button, ReminderCb.filter())

    router = Router(name=__name__)
    router.include_routers(staff, others)
    return router
