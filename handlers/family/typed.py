"""The family screens asked for in words ("оценки", "дз на завтра", "3.12"), as a router that
the fallback tries last of all text handlers: a message being written to a teacher
(handlers/contact) or anything another screen waits for is theirs, and only text nobody took
is read as a request for a screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Router

from handlers.checks import screen
from handlers.family import diary, history, marks, records
from handlers.family.base import PeriodCheck, StudentCheck
from handlers.family.words import Screen, Typed


def create_router() -> Router:
    router = Router(name=__name__)
    by_period: tuple[tuple[Callable[..., Awaitable[None]], Screen], ...] = (
        (marks.period_screen, Screen.MARKS),
        (marks.today_screen, Screen.TODAY),
        (marks.week_screen, Screen.WEEK),
        (marks.forecast_screen, Screen.FORECAST),
        (records.attendance_screen, Screen.ATTENDANCE),
    )
    for shown, words in by_period:
        screen(router.message, shown, Typed(words), check=PeriodCheck())
    screen(router.message, records.finals_screen, Typed(Screen.FINALS), check=StudentCheck())
    homework_day = diary.homework_day_check()
    screen(router.message, diary.homework_screen, Typed(Screen.HOMEWORK), check=homework_day)
    menu_day = diary.timetable_menu_check()
    screen(router.message, diary.timetable_screen, Typed(Screen.TIMETABLE), check=menu_day)
    router.message.register(history.history_screen, Typed(Screen.HISTORY))
    return router
