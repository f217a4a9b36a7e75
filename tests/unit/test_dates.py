"""Days as families type them, and the screens their words ask for (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.family.dates import NoSuchDay, in_school_year, read_day, school_year
from handlers.family.words import Asked, Screen, asked

# A Monday of the second quarter; the school year began on 1 September.
TODAY = date(2026, 11, 23)
YEAR_START = date(2026, 9, 1)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("25.11", date(2026, 11, 25)),
        ("3.12.2026", date(2026, 12, 3)),
        ("03/12/26", date(2026, 12, 3)),
        ("2026-12-03", date(2026, 12, 3)),
        ("3 декабря", date(2026, 12, 3)),
        ("3 декабря 2025 г.", date(2025, 12, 3)),
        ("December 3", date(2026, 12, 3)),
        ("3 dec 2027", date(2027, 12, 3)),
        ("3 декабрь", date(2026, 12, 3)),
        # Without a year: this school year, so January and June are the coming ones and
        # September the one gone by.
        ("10.01", date(2027, 1, 10)),
        ("1.6", date(2027, 6, 1)),
        ("1.09", date(2026, 9, 1)),
        ("31.08", date(2027, 8, 31)),
        ("сегодня", TODAY),
        ("на завтра", date(2026, 11, 24)),
        ("послезавтра", date(2026, 11, 25)),
        ("вчера", date(2026, 11, 22)),
        ("в пятницу", date(2026, 11, 27)),
        ("понедельник", TODAY),
        ("воскресенье", date(2026, 11, 29)),
        ("tomorrow", date(2026, 11, 24)),
        ("for Friday", date(2026, 11, 27)),
        ("иртәгә", date(2026, 11, 24)),
        ("иртәгәгә", date(2026, 11, 24)),
        ("җомгага", date(2026, 11, 27)),
        ("29.02.2028", date(2028, 2, 29)),
    ],
)
def test_read_day(typed: str, day: date) -> None:
    assert read_day(typed, today=TODAY, year_start=YEAR_START) == day


def test_dates_the_calendar_has_not_are_told_apart_from_text_that_is_no_date() -> None:
    assert read_day("31.02", today=TODAY, year_start=YEAR_START) == NoSuchDay(31, 2, None)
    assert read_day("29.02", today=TODAY, year_start=YEAR_START) == NoSuchDay(29, 2, None)
    assert read_day("29.02.2027", today=TODAY) == NoSuchDay(29, 2, 2027)
    assert read_day("31 июня", today=TODAY) == NoSuchDay(31, 6, None)
    for wrong in ("", "x", "25", "00.11", "1.13", "32.01", "25.11.2026.1", "когда-нибудь"):
        assert read_day(wrong, today=TODAY, year_start=YEAR_START) is None, wrong


def test_the_school_year_without_an_academic_year_runs_from_september() -> None:
    assert school_year(date(2027, 3, 5)) == (date(2026, 9, 1), date(2027, 8, 31))
    assert school_year(date(2026, 9, 1)) == (date(2026, 9, 1), date(2027, 8, 31))
    # An academic year that does not hold today (the summer after it): September's rule.
    assert school_year(date(2027, 9, 2), date(2026, 9, 1)) == (
        date(2027, 9, 1),
        date(2028, 8, 31),
    )
    assert in_school_year(date(2027, 5, 20), TODAY, YEAR_START)
    assert not in_school_year(date(2025, 12, 3), TODAY, YEAR_START)
    assert not in_school_year(date(2027, 9, 1), TODAY, YEAR_START)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Оценки", Asked(Screen.MARKS, "")),
        ("оценки за неделю", Asked(Screen.WEEK, "")),
        ("дз на завтра", Asked(Screen.HOMEWORK, "на завтра")),
        ("Домашнее задание на 3.12", Asked(Screen.HOMEWORK, "на 3.12")),
        ("3.12.2026", Asked(Screen.HOMEWORK, "3.12.2026")),
        ("в пятницу", Asked(Screen.HOMEWORK, "в пятницу")),
        ("расписание на пятницу", Asked(Screen.TIMETABLE, "на пятницу")),
        ("итоговые оценки", Asked(Screen.FINALS, "")),
        ("прогноз?", Asked(Screen.FORECAST, "")),
        ("homework tomorrow", Asked(Screen.HOMEWORK, "tomorrow")),
        ("final grades", Asked(Screen.FINALS, "")),
        ("өй эше иртәгә", Asked(Screen.HOMEWORK, "иртәгә")),
        ("дәресләр тәртибе", Asked(Screen.TIMETABLE, "")),
        ("уведомления", Asked(Screen.HISTORY, "")),
    ],
)
def test_words_name_screens(text: str, found: Asked) -> None:
    assert asked(text) == found


def test_words_that_name_no_screen() -> None:
    for text in ("привет", "оценки по физике", "/marks", "ABCDE-FGH23", "", "прогноз на завтра"):
        assert asked(text) is None, text
