"""The archive's document format: file names, sheet names and the Russian texts of the files.

The archive is a Russian school's record kept for 5 and 25 years (seed 002 §3.4, seed 004
§6.5), not a message to a reader: its texts are the format itself, the same whoever runs the
command, so they live here rather than in the catalogues, where a translation edit would change
what a re-written archive says.
"""

from __future__ import annotations

from datetime import date

FORMAT = "journalbot-archive/1"
MANIFEST = "manifest.sha256"
INFO = "manifest.json"

# Years each kind of file is kept (seed 002 §3.4; seed 004 §6.5 refers to the same terms).
KEEP_YEARS = {"journal": 5, "summary": 25}

SHEET_INFO = "Сведения"
SHEET_LESSONS = "Уроки и темы"
SHEET_ABSENCES = "Пропуски"
SHEET_HISTORY = "Исправления"
SHEET_SUMMARY = "Сводная ведомость"

JOURNAL_TITLE = "Журнал учёта успеваемости"
SUMMARY_TITLE = "Сводная ведомость учёта успеваемости и посещаемости"

# The class's facts on the title sheet, in this order.
INFO_SCHOOL = "Школа"
INFO_YEAR = "Учебный год"
INFO_CLASS = "Класс"
INFO_CLASS_TEACHER = "Классный руководитель"
INFO_WRITTEN = "Выгружено"
INFO_COUNTS = {
    "pupils": "Учеников",
    "subjects": "Предметов",
    "lessons": "Уроков",
    "marks": "Отметок",
    "corrections": "Исправлений",
    "absences": "Пропусков и опозданий",
    "final_grades": "Итоговых отметок",
}

NUMBER = "№"
PUPIL = "Ученик"
NOTE = "Примечание"
SUBJECT = "Предмет"
TEACHER = "Учитель"
ABSENT_LESSONS = "Пропущено уроков"
ABSENT_VALID = "в т. ч. по уважительной причине"
LATE = "Опозданий"
FAILING = "Неуспевающий по"
NOT_ATTESTED = "Не аттестован по"
TOTAL_PUPILS = "Учеников в классе"
TOTAL_FAILING = "Неуспевающих"
TOTAL_NOT_ATTESTED = "Не аттестованных"

LESSON_COLUMNS = (
    "Дата",
    "Урок №",
    "Предмет",
    "Группа",
    "Учитель",
    "Замена",
    "Тема урока",
    "Вид работы",
    "Домашнее задание",
)
ABSENCE_COLUMNS = (
    "Дата",
    "Урок №",
    "Предмет",
    "Ученик",
    "Отметка",
    "Причина",
    "Уважительная",
    "Опоздание, мин",
)
HISTORY_COLUMNS = ("Запись", "Ученик", "Предмет", "Урок или период", "Было", "Стало")
HISTORY_WHEN = "Когда ({zone})"
HISTORY_AFTER = ("Кто исправил", "Причина")
HISTORY_MARK = "отметка"
HISTORY_FINAL = "итоговая"
REMOVED = "удалена"
NOTHING = "—"
YES, NO = "да", "нет"

STARRED = "* — запись исправлена или удалена: см. «Исправления» в конце журнала"

# What a journal's cell shows for an absence and for lateness.
ABSENT_SIGN = "н"
LATE_SIGN = "оп"

REASONS = {
    "illness": "болезнь",
    "certificate": "справка",
    "parent_request": "заявление родителей",
    "school_event": "мероприятие школы",
    "other": "другая",
    "unknown": "не указана",
}

_PERIODS = {
    "quarter": "{} четв.",
    "trimester": "{} трим.",
    "half_year": "{} полуг.",
    "year": "Год",
    "exam": "Экзамен",
    "final": "Итог",
}

# Final grades that make a pupil failing, and the one that means not attested.
FAILING_GRADES = frozenset({"1", "2", "незач"})
NOT_ATTESTED_GRADE = "н/а"


def period_label(kind: str, number: int) -> str:
    return _PERIODS.get(kind, kind).format(number)


def left_note(left_on: date | None, moved: bool) -> str:
    """Why a pupil listed in the class's year is not in it now."""
    if left_on is not None:
        return f"выбыл(а) {left_on:%d.%m.%Y}"
    return "переведён(а) в другой класс" if moved else ""


def file_name(year_label: str, class_label: str, kind: str, extension: str) -> str:
    """2025-26_7Б_journal.xlsx: the name says what the file is once copied elsewhere."""
    return f"{year_label.replace('/', '-')}_{class_label}_{kind}.{extension}"
