"""Shared presentation: headers, dates and numbers through Babel, mark words, long answers."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, time
from decimal import Decimal

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from services.access import StudentRef
from services.journal import PeriodRef

# Telegram refuses longer messages.
MESSAGE_LIMIT = 4096

SPECIAL_MARKS = {
    "н/а": __("not attested"),
    "осв": __("exempt"),
    "безотм": __("no mark"),
    "зач": __("pass"),
    "незач": __("fail"),
}

# Kinds of work the school defines; the usual ones read in the family's language.
WORK_KINDS = {
    "oral": __("oral answer"),
    "homework": __("homework"),
    "independent": __("independent work"),
    "test": __("test"),
    "lab": __("laboratory work"),
    "practical": __("practical work"),
    "dictation": __("dictation"),
    "essay": __("essay"),
    "summary": __("summary"),
    "control": __("control work"),
}

ROMAN = ("I", "II", "III", "IV", "V", "VI")


def locale() -> str:
    return get_i18n().current_locale


def day_short(day: date) -> str:
    """Mon, 23 Nov: for lists."""
    return format_date(day, "EEE, d MMM", locale=locale())


def day_long(day: date) -> str:
    """Monday, 23 November: for titles."""
    return format_date(day, "EEEE, d MMMM", locale=locale())


def day_title(day: date, *, with_year: bool = False) -> str:
    """The day a screen is for: "for {day}" needs the accusative in Russian, which Babel does
    not inflect, so each language orders the date its own way (ru "25 ноября, среда"); with
    the year for a day of another school year (ru "3 декабря 2025, среда")."""
    # The msgstr is a Babel date pattern.
    pattern = _("EEEE, d MMMM y") if with_year else _("EEEE, d MMMM")
    return format_date(day, pattern, locale=locale())


def clock(moment: time) -> str:
    return format_time(moment, "HH:mm", locale=locale())


def number(value: Decimal) -> str:
    return format_decimal(value, "0.00", locale=locale())


def weight_text(value: Decimal) -> str:
    return format_decimal(value, "0.##", locale=locale())


def esc(text: str | None) -> str:
    return html.escape(text or "")


def header(student: StudentRef) -> str:
    """Every screen names the child it shows: a family with three children must tell them apart."""
    label = f", {esc(student.class_label)}" if student.class_label else ""
    return f"👤 <b>{esc(student.name)}</b>{label}"


def period_name(period: PeriodRef) -> str:
    if period.kind == "quarter":
        return _("quarter {n}").format(n=period.number)
    if period.kind == "trimester":
        return _("trimester {n}").format(n=period.number)
    if period.kind == "half_year":
        return _("half-year {n}").format(n=period.number)
    if period.kind == "year":
        return _("the year")
    return _("exam")


def period_short(period: PeriodRef) -> str:
    if period.kind == "year":
        return _("year")
    return ROMAN[period.number - 1] if 0 < period.number <= len(ROMAN) else str(period.number)


def period_title(period: PeriodRef) -> str:
    return _("{period} ({start} – {end})").format(
        period=period_name(period),
        start=format_date(period.starts_on, "d MMM", locale=locale()),
        end=format_date(period.ends_on, "d MMM", locale=locale()),
    )


def pgettext(context: str, message: str) -> str:
    """gettext with a context, which aiogram's I18n lacks (pybabel extracts `pgettext` by
    default): one English text read differently, here by the pupil's sex ("m", "f")."""
    i18n = get_i18n()
    translator = i18n.locales.get(i18n.current_locale)
    return message if translator is None else translator.pgettext(context, message)


def by_sex(sex: str | None, male: str, female: str, neutral: str) -> str:
    """The wording that fits the pupil: Russian past tense and short adjectives agree with the
    pupil's sex ("опоздал", "опоздала"); with the sex unknown, a neutral wording."""
    if sex == "m":
        return male
    if sex == "f":
        return female
    return neutral


def mark_text(value: str, sex: str | None = None) -> str:
    """A five-point mark as it is; a special mark as a word, "exempt" and "not attested" in the
    pupil's gender when the sex is given (students.sex), a neutral word otherwise."""
    if value == "осв":
        return by_sex(sex, pgettext("m", "exempt"), pgettext("f", "exempt"), _("exempt"))
    if value == "н/а":
        return by_sex(
            sex,
            pgettext("m", "not attested"),
            pgettext("f", "not attested"),
            _("not attested"),
        )
    word = SPECIAL_MARKS.get(value)
    return str(word) if word is not None else esc(value)


# A mark or final grade the school's profile does not allow (services/forbidden.py): its
# value is never shown to families, only that the school is checking it.
REVIEW = "🔍"


def review_text() -> str:
    return f"{REVIEW} " + _("under review")


def review_legend() -> str:
    return _("🔍 under review: an entry the school is checking; it is not counted.")


def kind_text(code: str | None, name: str | None) -> str:
    known = WORK_KINDS.get(code or "")
    if known is not None:
        return str(known)
    return esc(name) if name else _("lesson work")


def split(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut a long answer at line ends into messages Telegram accepts.

    Screens keep every HTML tag within one line, so a cut between lines never breaks markup;
    a single line longer than the limit (a teacher's very long homework) is cut at the limit
    after its tags are dropped.
    """
    parts: list[str] = []
    current = ""
    for raw in text.split("\n"):
        line = raw
        if len(line) > limit:
            line = html.escape(html.unescape(_strip_tags(line)))[: limit - 1] + "…"
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def _strip_tags(line: str) -> str:
    out: list[str] = []
    inside = False
    for char in line:
        if char == "<":
            inside = True
        elif char == ">" and inside:
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)


async def show(
    event: Message | CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Answer a screen: a pressed button edits its message when the screen fits in one,
    otherwise (and for typed text) the screen is sent, its buttons under the last part."""
    parts = split(text)
    if isinstance(event, CallbackQuery):
        await event.answer()
        message = event.message
        if len(parts) == 1 and isinstance(message, Message):
            try:
                await message.edit_text(parts[0], reply_markup=markup)
            except TelegramBadRequest as error:
                # Pressing the button of the screen already shown changes nothing; a message
                # too old to edit gets the screen as a new message.
                if "not modified" in error.message:
                    return
            else:
                return
        if not isinstance(message, Message):
            return
        target = message
    else:
        target = event
    await send_parts(target, parts, markup)


async def send_parts(
    target: Message, parts: Sequence[str], markup: InlineKeyboardMarkup | None
) -> None:
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await target.answer(part, reply_markup=markup if last else None)
