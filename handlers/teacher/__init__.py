"""Screens for staff: a teacher's lessons and marks, the class teacher's class, its pupils'
cards, families, codes and week, the deputy's report, and reminders of journal entries."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import or_f

from handlers.callbacks import (
    CardCb,
    ClassCb,
    ClassToolCb,
    DeputyCb,
    ReminderCb,
    StaffDayCb,
    TaughtCb,
)
from handlers.checks import not_found
from handlers.filters import Staff
from handlers.teacher import (
    codes,
    deputy,
    families,
    marks,
    my_class,
    pupil_card,
    reminders,
    timetable,
)

_MENUS = (*my_class.MENUS, *reminders.MENUS, *timetable.MENUS, *marks.MENUS, *deputy.MENUS)
_BUTTONS = (ClassCb, ReminderCb, StaffDayCb, TaughtCb, CardCb, ClassToolCb, DeputyCb)


def create_router() -> Router:
    """The staff screens behind the staff filter; their menus and buttons from anybody else
    are answered after them."""
    staff = Router(name=f"{__name__}.staff")
    # Only the staff screens' own menus and buttons ask the database who is staff.
    staff.message.filter(or_f(*_MENUS), Staff())
    staff.callback_query.filter(or_f(*(button.filter() for button in _BUTTONS)), Staff())
    staff.include_routers(
        my_class.create_router(),
        reminders.create_router(),
        timetable.create_router(),
        marks.create_router(),
        pupil_card.create_router(),
        families.create_router(),
        codes.create_router(),
        deputy.create_router(),
    )

    others = Router(name=f"{__name__}.others")
    for trigger in my_class.MENUS:
        others.message.register(my_class.for_class_teachers, trigger)
    for trigger in reminders.MENUS:
        others.message.register(reminders.for_teachers, trigger)
    for trigger in (*timetable.OWN_MENUS, *marks.MENUS):
        others.message.register(timetable.for_teachers, trigger)
    for trigger in deputy.MENUS:
        others.message.register(deputy.for_deputies, trigger)
    for button in (ClassCb, StaffDayCb, TaughtCb, CardCb, ClassToolCb, DeputyCb):
        others.callback_query.register(not_found, button.filter())
    others.callback_query.register(reminders.invalid_button, ReminderCb.filter())

    router = Router(name=__name__)
    router.include_routers(staff, others)
    return router
