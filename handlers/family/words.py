"""Screens asked for in words: "оценки", "дз на завтра", "timetable friday", "өй эше иртәгә".

Families type rather than press; the words of each screen are read in Russian, English and
Tatar whatever the account's language. A day after the words (or a day alone, which asks for
that day's homework) is read by `dates.read_day` once the school's calendar is known.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message

from handlers.family.dates import looks_like_day


class Screen(enum.StrEnum):
    MARKS = "marks"
    TODAY = "today"  # the marks of today
    WEEK = "week"  # the marks of this week
    FORECAST = "forecast"
    HOMEWORK = "homework"
    TIMETABLE = "timetable"
    ATTENDANCE = "attendance"
    FINALS = "finals"
    HISTORY = "history"


_WORDS: dict[Screen, tuple[str, ...]] = {
    Screen.MARKS: (
        "оценки",
        "оценка",
        "отметки",
        "отметка",
        "мои оценки",
        "marks",
        "grades",
        "my marks",
        "билгеләр",
        "билгеләрем",
        "билге",
    ),
    Screen.TODAY: ("оценки за сегодня", "оценки сегодня", "marks today", "бүгенге билгеләр"),
    Screen.WEEK: (
        "неделя",
        "за неделю",
        "оценки за неделю",
        "отметки за неделю",
        "week",
        "marks this week",
        "атна",
        "атналык билгеләр",
    ),
    Screen.FORECAST: ("прогноз", "прогноз оценок", "forecast", "фараз"),
    Screen.HOMEWORK: (
        "дз",
        "д/з",
        "домашка",
        "домашнее задание",
        "домашние задания",
        "домашнее",
        "задание",
        "задания",
        "что задали",
        "что задано",
        "homework",
        "hw",
        "өй эше",
        "өй эшләре",
        "ой эше",
    ),
    Screen.TIMETABLE: (
        "расписание",
        "расписание уроков",
        "уроки",
        "timetable",
        "schedule",
        "lessons",
        "дәресләр тәртибе",
        "дәресләр",
    ),
    Screen.ATTENDANCE: (
        "посещаемость",
        "пропуски",
        "attendance",
        "absences",
        "дәресләргә йөрү",
        "йөрү",
    ),
    Screen.FINALS: (
        "итоговые",
        "итоговые оценки",
        "итоговые отметки",
        "четвертные",
        "четвертные оценки",
        "finals",
        "final grades",
        "йомгаклау билгеләре",
        "йомгаклау",
    ),
    Screen.HISTORY: (
        "история",
        "история уведомлений",
        "уведомления",
        "history",
        "notifications",
        "хәбәрләр",
        "хәбәрләр тарихы",
    ),
}

# Longest first, so that "оценки за неделю" is the week and not the marks with a rest.
_PHRASES = sorted(
    ((phrase, screen) for screen, phrases in _WORDS.items() for phrase in phrases),
    key=lambda pair: -len(pair[0]),
)
# Screens that take a day after their words.
_WITH_DAY = frozenset({Screen.HOMEWORK, Screen.TIMETABLE})


@dataclass(frozen=True, slots=True)
class Asked:
    screen: Screen
    rest: str  # what follows the words: a day, for homework and the timetable


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").strip(" ?!.,").split())


def asked(text: str) -> Asked | None:
    """The screen `text` asks for, or None when it names none (or adds words no screen
    reads: "оценки по физике" is not understood rather than misread)."""
    said = _normal(text)
    if not said or said.startswith("/"):
        return None
    for phrase, screen in _PHRASES:
        if said == phrase or said.startswith(phrase + " "):
            rest = said[len(phrase) :].strip()
            if not rest or screen in _WITH_DAY:
                return Asked(screen, rest)
            return None
    if looks_like_day(said):
        return Asked(Screen.HOMEWORK, said)
    return None


class Typed(Filter):
    """A text message asking in words for one of `screens`: injects `typed_rest`, the day
    typed after the words ("" for none), which `base.DayCheck` reads."""

    def __init__(self, *screens: Screen) -> None:
        self.screens = frozenset(screens)

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if message.text is None:
            return False
        found = asked(message.text)
        if found is None or found.screen not in self.screens:
            return False
        return {"typed_rest": found.rest}
