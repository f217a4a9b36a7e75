"""The words of the bot (issue 16 item 9): Russian plurals of counts, the pupil's gender in
Russian past tense and short adjectives, "нет" rather than a zero, and English and Tatar
catalogues that are really English and Tatar."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import date

import pytest
from aiogram.utils.i18n import I18n, ngettext
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, make_i18n
from handlers.family.records import attendance_text
from handlers.pushes.family import Composer
from handlers.render import by_sex, mark_text
from services.access import Relation, StudentRef
from services.journal import AttendanceItem, AttendanceSummary, PeriodRef
from services.notifications.content import AttendanceNotice, FinalNotice, WeeklyChild

QUARTER = PeriodRef(1, "quarter", 2, date(2026, 11, 3), date(2026, 12, 28))
MONDAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return make_i18n("ru")


@pytest.fixture
def ru(i18n: I18n) -> Iterator[I18n]:
    with i18n.context(), i18n.use_locale("ru"):
        yield i18n


def _catalogue(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def _strings(message: Message) -> tuple[str, ...]:
    value = message.string
    return tuple(value) if isinstance(value, tuple | list) else (str(value),)


def _late(minutes: int | None = None, kind: str = "late") -> AttendanceNotice:
    return AttendanceNotice("new", kind, "Алгебра", MONDAY, 3, minutes)


@pytest.mark.parametrize(
    ("n", "late", "missed"),
    [
        (1, "1 опоздание.", "Пропущен 1 урок (без уважительной причины: 0)."),
        (2, "2 опоздания.", "Пропущено 2 урока (без уважительной причины: 0)."),
        (5, "5 опозданий.", "Пропущено 5 уроков (без уважительной причины: 0)."),
        (21, "21 опоздание.", "Пропущен 21 урок (без уважительной причины: 0)."),
        (11, "11 опозданий.", "Пропущено 11 уроков (без уважительной причины: 0)."),
    ],
)
def test_russian_counts_take_the_plural_form_of_the_number(
    ru: I18n, n: int, late: str, missed: str
) -> None:
    assert ngettext("Late {n} time.", "Late {n} times.", n).format(n=n) == late
    assert (
        ngettext(
            "Missed {n} lesson ({invalid} without a valid reason).",
            "Missed {n} lessons ({invalid} without a valid reason).",
            n,
        ).format(n=n, invalid=0)
        == missed
    )


@pytest.mark.parametrize(
    ("sex", "late", "late_minutes", "absent"),
    [
        (
            "m",
            "⏰ Миша Иванов опоздал на 3-й урок (Алгебра, пн, 23 нояб.).",
            "⏰ Миша Иванов опоздал на 3-й урок на 7 мин (Алгебра, пн, 23 нояб.).",
            "🚸 Миша Иванов отсутствовал на 3-м уроке (Алгебра, пн, 23 нояб.).",
        ),
        (
            "f",
            "⏰ Миша Иванов опоздала на 3-й урок (Алгебра, пн, 23 нояб.).",
            "⏰ Миша Иванов опоздала на 3-й урок на 7 мин (Алгебра, пн, 23 нояб.).",
            "🚸 Миша Иванов отсутствовала на 3-м уроке (Алгебра, пн, 23 нояб.).",
        ),
        (
            None,
            "⏰ Миша Иванов: опоздание на 3-й урок (Алгебра, пн, 23 нояб.).",
            "⏰ Миша Иванов: опоздание на 3-й урок на 7 мин (Алгебра, пн, 23 нояб.).",
            "🚸 Миша Иванов: пропуск 3-го урока (Алгебра, пн, 23 нояб.).",
        ),
    ],
)
def test_attendance_pushes_agree_with_the_pupils_sex(
    ru: I18n, sex: str | None, late: str, late_minutes: str, absent: str
) -> None:
    composer = Composer(ru)
    assert composer.attendance("Миша Иванов", _late(), sex) == late
    assert composer.attendance("Миша Иванов", _late(7), sex) == late_minutes
    assert composer.attendance("Миша Иванов", _late(kind="absent"), sex) == absent


def test_english_and_tatar_have_no_gender_and_read_the_same_for_everyone(i18n: I18n) -> None:
    composer = Composer(i18n)
    with i18n.context():
        for locale in ("en", "tt"):
            with i18n.use_locale(locale):
                texts = {composer.attendance("Masha", _late(), sex) for sex in ("m", "f", None)}
                exempt = {mark_text("осв", sex) for sex in ("m", "f", None)}
            assert len(texts) == 1 and len(exempt) == 1, locale
        with i18n.use_locale("en"):
            english = composer.attendance("Masha", _late(), "f")
        with i18n.use_locale("tt"):
            tatar = composer.attendance("Masha", _late(), "f")
    assert english == "⏰ Masha was late for lesson 3 (Алгебра, Mon, 23 Nov)."
    assert tatar.startswith("⏰ Masha 3 дәрескә соңга калды")


@pytest.mark.parametrize(
    ("sex", "exempt", "not_attested"),
    [
        ("m", "освобождён", "не аттестован"),
        ("f", "освобождена", "не аттестована"),
        (None, "освобождение", "без аттестации"),
    ],
)
def test_special_marks_speak_of_the_pupil_in_the_right_gender(
    ru: I18n, sex: str | None, exempt: str, not_attested: str
) -> None:
    assert mark_text("осв", sex) == exempt
    assert mark_text("н/а", sex) == not_attested
    # The other special marks and numbers have no gender.
    assert mark_text("зач", sex) == "зачёт" and mark_text("5", sex) == "5"
    finals = Composer(ru).finals(
        "Маша Петрова", [FinalNotice("Физкультура", "осв", None, QUARTER)], sex
    )
    assert f"• Физкультура: <b>{exempt}</b>" in finals


def test_by_sex_picks_the_wording() -> None:
    assert [by_sex(s, "he", "she", "they") for s in ("m", "f", None, "x")] == [
        "he",
        "she",
        "they",
        "they",
    ]


def test_the_week_says_no_absences_rather_than_a_zero(ru: I18n) -> None:
    child = WeeklyChild("Маша Петрова", [], 0, 0, 2, None, [], sex="f")
    text = Composer(ru).weekly(child)
    assert "Пропусков нет. 2 опоздания." in text
    assert " 0 " not in text
    both = Composer(ru).weekly(WeeklyChild("Маша Петрова", [], 3, 1, 0, None, [], sex="f"))
    assert "Пропущено 3 урока (без уважительной причины: 1)." in both
    assert "опоздан" not in both


def test_the_attendance_screen_says_no_absences_rather_than_missed_zero(ru: I18n) -> None:
    student = StudentRef(1, 1, 1, "7Б", "Маша", "Петрова", Relation.GUARDIAN, "f")
    late = AttendanceItem(MONDAY, 2, "Алгебра", "late", "unknown", False, 5)
    text = attendance_text(student, QUARTER, AttendanceSummary((late,)))
    assert "Пропусков нет." in text and "1 опоздание." in text
    assert "Пропущено 0" not in text


def test_the_low_mark_setting_reads_as_highlighting(ru: I18n) -> None:
    from aiogram.utils.i18n import gettext as _

    assert _("⚠️ Flag marks of {n} and below.").format(n=2) == "⚠️ Выделять отметки 2 и ниже."


# --- the catalogues ----------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_english_catalogue_is_english() -> None:
    for message in _catalogue("en"):
        if not message.id:
            continue
        for text in _strings(message):
            assert not re.search("[А-Яа-яЁё]", text), message.id


def test_tatar_is_not_russian() -> None:
    """A Tatar msgstr of words that is the same as the Russian one is Russian left in place
    (the /timetable description was)."""
    ru = _catalogue("ru")
    for message in _catalogue("tt"):
        russian = ru.get(message.id, context=message.context)
        if not message.id or russian is None:
            continue
        for tatar, same in zip(_strings(message), _strings(russian), strict=False):
            words = re.findall("[А-Яа-яЁё]+", tatar)
            if tatar and words and len(tatar.split()) >= 3:
                assert tatar != same, message.id
            assert "асписани" not in tatar, message.id


def test_gendered_entries_are_translated_in_every_language() -> None:
    for locale in ("ru", "en", "tt"):
        catalogue = _catalogue(locale)
        gendered = [message for message in catalogue if message.context in ("m", "f")]
        assert len(gendered) >= 12, locale
        for message in gendered:
            neutral = catalogue.get(message.id)
            assert neutral is not None and all(_strings(neutral)), (locale, message.id)
            assert all(_strings(message)), (locale, message.context, message.id)


def test_translations_keep_the_placeholders() -> None:
    for locale in ("ru", "en", "tt"):
        for message in _catalogue(locale):
            if not message.id or "python-brace-format" not in message.flags:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            allowed = set().union(*(_placeholders(i) for i in ids))
            for text in _strings(message):
                if text:
                    assert _placeholders(text) <= allowed, (locale, message.id, text)
