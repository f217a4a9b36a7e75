"""Days as families type them: 25.11, 3.12.2026, 2026-12-03, 3 декабря, завтра, в пятницу.

A date without a year is a day of the current school year (September to August, or the
school's own academic year), so in November "15.05" is next May and "1.09" this September.
Words are read in Russian, English and Tatar alike, whatever the account's language: a parent
types the way they speak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class NoSuchDay:
    """A date written in a known form that the calendar does not have (31.02, 29.02.2027)."""

    day: int
    month: int
    year: int | None


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").replace(",", " ").split())


# Relative days, by how far from today.
_RELATIVE: dict[str, int] = {
    "сегодня": 0,
    "завтра": 1,
    "послезавтра": 2,
    "вчера": -1,
    "позавчера": -2,
    "today": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "yesterday": -1,
    "бүген": 0,
    "буген": 0,
    "иртәгә": 1,
    "иртэгэ": 1,
    "берсекөнне": 2,
    "берсекөнгә": 2,
    "кичә": -1,
    "кичэ": -1,
}

# Days of the week (Monday is 0): the next such day, today included.
_WEEKDAYS: dict[str, int] = {
    "понедельник": 0,
    "вторник": 1,
    "среда": 2,
    "среду": 2,
    "четверг": 3,
    "пятница": 4,
    "пятницу": 4,
    "суббота": 5,
    "субботу": 5,
    "воскресенье": 6,
    "пн": 0,
    "вт": 1,
    "ср": 2,
    "чт": 3,
    "пт": 4,
    "сб": 5,
    "вс": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "дүшәмбе": 0,
    "сишәмбе": 1,
    "чәршәмбе": 2,
    "пәнҗешәмбе": 3,
    "җомга": 4,
    "шимбә": 5,
    "якшәмбе": 6,
}

# Words before a day that change nothing: "на завтра", "в пятницу", "for Monday".
_FILLER = frozenset({"на", "в", "во", "за", "к", "for", "on", "next", "this", "the"})

# Month names by the start of the word (genitive "декабря", nominative "декабрь", "Dec").
_MONTHS: tuple[tuple[str, int], ...] = (
    ("янв", 1),
    ("гыйн", 1),
    ("jan", 1),
    ("фев", 2),
    ("feb", 2),
    ("мар", 3),
    ("mar", 3),
    ("апр", 4),
    ("apr", 4),
    ("мая", 5),
    ("май", 5),
    ("may", 5),
    ("июн", 6),
    ("jun", 6),
    ("июл", 7),
    ("jul", 7),
    ("авг", 8),
    ("aug", 8),
    ("сен", 9),
    ("sep", 9),
    ("окт", 10),
    ("oct", 10),
    ("ноя", 11),
    ("nov", 11),
    ("дек", 12),
    ("dec", 12),
)

_NUMERIC = re.compile(r"^(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDY = re.compile(r"^(\d{1,2})\s+([^\d\s.]+)\.?(?:\s+(\d{4}))?(?:\s*(?:г|года|год|y|ел)\.?)?$")
_WORDY_EN = re.compile(r"^([^\d\s.]+)\.?\s+(\d{1,2})(?:\s+(\d{4}))?$")


def school_year(today: date, starts_on: date | None = None) -> tuple[date, date]:
    """The school year holding `today`: from the academic year's first day (else 1 September)
    to the day before the same date a year on."""
    if starts_on is None or not starts_on <= today < _plus_year(starts_on):
        start_year = today.year if today.month >= 9 else today.year - 1
        starts_on = date(start_year, 9, 1)
    return starts_on, _plus_year(starts_on) - timedelta(days=1)


def _plus_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _month(word: str) -> int | None:
    for stem, number in _MONTHS:
        if word.startswith(stem):
            return number
    return None


def _make(day: int, month: int, year: int | None, year_start: date) -> date | NoSuchDay | None:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if year is None:
        year = (
            year_start.year
            if (month, day) >= (year_start.month, year_start.day)
            else (year_start.year + 1)
        )
        try:
            return date(year, month, day)
        except ValueError:
            return NoSuchDay(day, month, None)
    try:
        return date(year, month, day)
    except ValueError:
        return NoSuchDay(day, month, year)


def _full_year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + (2000 if len(text) == 2 else 0)


def _word_day(words: str, today: date) -> date | None:
    if words in _RELATIVE:
        return today + timedelta(days=_RELATIVE[words])
    if words in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS[words] - today.weekday()) % 7)
    # Tatar joins the case ending to the word: "иртәгәгә", "җомгага".
    for word, shift in _RELATIVE.items():
        if " " not in word and len(word) > 3 and words.startswith(word) and " " not in words:
            return today + timedelta(days=shift)
    for word, weekday in _WEEKDAYS.items():
        if len(word) > 4 and words.startswith(word) and " " not in words:
            return today + timedelta(days=(weekday - today.weekday()) % 7)
    return None


def read_day(text: str, *, today: date, year_start: date | None = None) -> date | NoSuchDay | None:
    """The day `text` names, a `NoSuchDay` for a well-formed date the calendar lacks, or None
    for text that is not a day. `year_start` is the school's academic year's first day."""
    words = _norm(text)
    tokens = words.split()
    while tokens and tokens[0] in _FILLER:
        tokens = tokens[1:]
    words = " ".join(tokens)
    if not words:
        return None
    start, _end = school_year(today, year_start)
    found = _ISO.match(words)
    if found:
        return _make(int(found[3]), int(found[2]), int(found[1]), start)
    found = _NUMERIC.match(words)
    if found:
        return _make(int(found[1]), int(found[2]), _full_year(found[3]), start)
    found = _WORDY.match(words)
    if found and (month := _month(found[2])) is not None:
        return _make(int(found[1]), month, _full_year(found[3]), start)
    found = _WORDY_EN.match(words)
    if found and (month := _month(found[1])) is not None:
        return _make(int(found[2]), month, _full_year(found[3]), start)
    return _word_day(words, today)


def in_school_year(day: date, today: date, year_start: date | None = None) -> bool:
    """Whether `day` falls in the school year of `today`: a screen of another one shows the
    year in its title."""
    start, end = school_year(today, year_start)
    return start <= day <= end


# Any fixed day will do: whether text names a day does not depend on which day it is.
_ANY_DAY = date(2001, 1, 1)


def looks_like_day(text: str) -> bool:
    """Whether `text` is written as a day (a date, even one the calendar lacks, or a word)."""
    return read_day(text, today=_ANY_DAY) is not None
