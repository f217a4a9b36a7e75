"""The journal file's format: its sheets, Russian column headers, choices and examples.

Written once here; the journal's reader checks files against it and the template is drawn from
it. Rows name the roster's rows by the codes of the roster file (class, pupil, teacher), and
each other by their own codes (a mark names its lesson).
"""

from __future__ import annotations

from datetime import date

from services.db import models as m
from services.imports.layout import Column, Sheet

CODE = "Код"
DATE, SLOT, STARTS, ENDS = "Дата", "Номер урока", "Начало", "Окончание"
CLASS_CODE, SUBGROUP_CODE, SUBJECT = "Код класса", "Код подгруппы", "Предмет"
TEACHER_CODE, SUBSTITUTE_CODE = "Код учителя", "Код замещающего учителя"
TOPIC, ROOM, WORK_KIND = "Тема", "Кабинет", "Вид работы"
NO_HOMEWORK = "ДЗ не задается"
LESSON_CODE, DUE, TASK = "Код урока", "Срок сдачи", "Задание"
STUDENT_CODE, MARK, WEIGHT, COMMENT = "Код ученика", "Отметка", "Вес", "Комментарий"
REASON = "Причина исправления"
PRESENCE, MINUTES_LATE = "Посещение", "Опоздание, мин"
ABSENCE_REASON, VALID = "Причина отсутствия", "Уважительная"
PERIOD, PERIOD_NUMBER = "Период", "Номер периода"

REMOVED = "удалена"  # a mark or final grade taken back
MARKS = {v.value: v.value for v in m.MarkValue} | {REMOVED: None}
PRESENCES: dict[str, m.AttendanceKind | None] = {
    "отсутствовал": m.AttendanceKind.ABSENT,
    "н": m.AttendanceKind.ABSENT,
    "опоздал": m.AttendanceKind.LATE,
    "оп": m.AttendanceKind.LATE,
    "присутствовал": None,
}
ABSENCE_REASONS = {
    "болезнь": m.AbsenceReason.ILLNESS,
    "справка": m.AbsenceReason.CERTIFICATE,
    "заявление родителей": m.AbsenceReason.PARENT_REQUEST,
    "мероприятие школы": m.AbsenceReason.SCHOOL_EVENT,
    "другая": m.AbsenceReason.OTHER,
    "не указана": m.AbsenceReason.UNKNOWN,
}
PERIODS = {
    "четверть": m.PeriodKind.QUARTER,
    "триместр": m.PeriodKind.TRIMESTER,
    "полугодие": m.PeriodKind.HALF_YEAR,
    "год": m.PeriodKind.YEAR,
    "экзамен": m.PeriodKind.EXAM,
    "итоговая": m.PeriodKind.FINAL,
}
YES_NO = {"да": True, "нет": False}

_MARK_CHOICES = (*(v.value for v in m.MarkValue), REMOVED)


def _code(example: str) -> Column:
    return Column(CODE, example, note="код в программе журнала", width=12)


# Columns several sheets share, alike in each.
_STUDENT = Column(STUDENT_CODE, "У-1", width=12)
_LESSON = Column(LESSON_CODE, "Л-1", width=12)
_TEACHER = Column(TEACHER_CODE, "С-1", width=12)
_SUBJECT = Column(SUBJECT, "Математика", width=22)
_MARK = Column(MARK, "5", choices=_MARK_CHOICES, width=9)
_REASON = Column(REASON, "", note="при изменении отметки; пусто: «import»", width=24)


# The example rows import as they stand against the roster template's example rows.
LESSONS = Sheet(
    "lessons",
    "Уроки",
    (
        _code("Л-1"),
        Column(DATE, date(2026, 9, 1), width=12),
        Column(SLOT, 2, width=8),
        Column(STARTS, "09:25", width=9),
        Column(ENDS, "10:10", width=9),
        Column(CLASS_CODE, "К-5Б", width=12),
        Column(SUBGROUP_CODE, "", note="пусто: весь класс", width=14),
        _SUBJECT,
        _TEACHER,
        Column(SUBSTITUTE_CODE, "", note="при замещении", width=14),
        Column(TOPIC, "Натуральные числа", width=30),
        Column(ROOM, "214", width=9),
        Column(WORK_KIND, "", note="код вида работы школы (контрольная и т. п.)", width=12),
        Column(NO_HOMEWORK, "нет", note="да: ДЗ на уроке не задается", width=12),
    ),
)
HOMEWORK = Sheet(
    "homework",
    "Домашние задания",
    (
        _code("ДЗ-1"),
        _LESSON,
        Column(DUE, date(2026, 9, 3), width=12),
        Column(TASK, "№ 12, 14", width=40),
        _TEACHER,
    ),
)
MARKS_SHEET = Sheet(
    "marks",
    "Отметки",
    (
        _code("О-1"),
        _STUDENT,
        _LESSON,
        _MARK,
        Column(WORK_KIND, "", note="код вида работы; пусто: без вида", width=12),
        Column(WEIGHT, "", note="пусто: вес вида работы", width=7),
        Column(COMMENT, "", width=24),
        _REASON,
        _TEACHER,
    ),
)
ATTENDANCE = Sheet(
    "attendance",
    "Посещаемость",
    (
        _code("П-1"),
        _STUDENT,
        _LESSON,
        Column(PRESENCE, "опоздал", choices=("отсутствовал", "опоздал", "присутствовал")),
        Column(MINUTES_LATE, 5, width=9),
        Column(ABSENCE_REASON, "", choices=tuple(ABSENCE_REASONS), width=20),
        Column(VALID, "нет", choices=tuple(YES_NO), width=12),
        _TEACHER,
    ),
)
FINAL_GRADES = Sheet(
    "final_grades",
    "Итоговые отметки",
    (
        _code("И-1"),
        _STUDENT,
        _SUBJECT,
        Column(PERIOD, "четверть", choices=tuple(PERIODS), width=12),
        Column(PERIOD_NUMBER, 1, width=9),
        _MARK,
        _REASON,
        _TEACHER,
    ),
)

# In the order they are applied: what a row refers to comes before it.
SHEETS = (LESSONS, HOMEWORK, MARKS_SHEET, ATTENDANCE, FINAL_GRADES)
