"""The roster file's format: its sheets and their Russian column headers, choices and examples.

Written once here; the roster's reader checks files against it and the template is drawn from
it. One row per fact: guardians' children, subgroup members and teaching are sheets of their
own, so every cell holds one value and can have a drop-down.
"""

from __future__ import annotations

from datetime import date

from services.db import models as m
from services.imports.layout import Column, Sheet

YES_NO = {"да": True, "нет": False, "yes": True, "no": False, "1": True, "0": False}
SEX = {"м": "m", "ж": "f", "муж": "m", "жен": "f", "мужской": "m", "женский": "f"}
RELATIONS = {
    "мать": "mother",
    "отец": "father",
    "опекун": "guardian",
    "попечитель": "trustee",
    "законный представитель": "parent",
}
SHIFTS = ("1", "2")
ROLE_COLUMNS = {
    "Учитель-предметник": m.StaffRole.SUBJECT_TEACHER.value,
    "Заместитель директора": m.StaffRole.DEPUTY_DIRECTOR.value,
    "Администратор": m.StaffRole.ADMINISTRATOR.value,
}

CODE = "Код"
CLASS_CODE = "Код класса"
STUDENT_CODE = "Код ученика"
STAFF_CODE = "Код сотрудника"
GUARDIAN_CODE = "Код представителя"
SUBGROUP_CODE = "Код подгруппы"
LAST, FIRST, MIDDLE, SEX_COLUMN = "Фамилия", "Имя", "Отчество", "Пол"
GRADE, LETTER, SHIFT, CLASS_TEACHER = "Параллель", "Буква", "Смена", "Классный руководитель"
NAME, SUBJECT = "Название", "Предмет"
BIRTH, PHONE, PHONES = "Дата рождения", "Телефон", "Телефоны"
CONSENT, CONSENT_ON = "Согласие на обработку ПДн", "Дата согласия"
RELATION = "Кем приходится"

_YES_NO = ("да", "нет")
_SEX = ("м", "ж")


def _code(example: str, note: str = "код в программе журнала") -> Column:
    return Column(CODE, example, note=note, width=12)


# Columns several sheets share, alike in each.
_CLASS = Column(CLASS_CODE, "К-5Б", width=12)
_SUBJECT = Column(SUBJECT, "Английский язык", width=22)
_STUDENT = Column(STUDENT_CODE, "У-1", width=14)


def _person(last: str, first: str, middle: str, sex: str) -> tuple[Column, ...]:
    return (
        Column(LAST, last, width=18),
        Column(FIRST, first, width=14),
        Column(MIDDLE, middle, width=18),
        Column(SEX_COLUMN, sex, choices=_SEX, width=6),
    )


# An example that imports as it stands: the template filled in once is a valid roster.
CLASSES = Sheet(
    "classes",
    "Классы",
    (
        _code("К-5Б"),
        Column(GRADE, 5, choices=tuple(str(g) for g in range(1, 12)), width=10),
        Column(LETTER, "Б", width=8),
        Column(SHIFT, 1, choices=SHIFTS, width=8),
        Column(CLASS_TEACHER, "С-1", note="код сотрудника", width=22),
    ),
)
SUBGROUPS = Sheet(
    "subgroups",
    "Подгруппы",
    (
        _code("П-5Б-АНГЛ1"),
        _CLASS,
        Column(NAME, "1 группа", width=16),
        _SUBJECT,
    ),
)
MEMBERS = Sheet(
    "members",
    "Состав подгрупп",
    (Column(SUBGROUP_CODE, "П-5Б-АНГЛ1", width=16), _STUDENT),
)
STUDENTS = Sheet(
    "students",
    "Ученики",
    (
        _code("У-1"),
        *_person("Иванов", "Михаил", "Петрович", "м"),
        Column(BIRTH, date(2014, 5, 14), width=14),
        _CLASS,
        Column(PHONE, "", width=18),
        Column(CONSENT, "да", choices=_YES_NO, width=14),
        Column(CONSENT_ON, date(2024, 9, 1), width=14),
    ),
)
GUARDIANS = Sheet(
    "guardians",
    "Представители",
    (
        _code("Р-1"),
        *_person("Иванова", "Ольга", "Сергеевна", "ж"),
        Column(PHONES, "+7 916 123-45-67", note="несколько: через ;", width=24),
    ),
)
CHILDREN = Sheet(
    "children",
    "Дети представителей",
    (
        Column(GUARDIAN_CODE, "Р-1", width=18),
        _STUDENT,
        Column(RELATION, "мать", choices=tuple(RELATIONS), width=22),
    ),
)
STAFF = Sheet(
    "staff",
    "Сотрудники",
    (
        _code("С-1"),
        *_person("Петрова", "Анна", "Викторовна", "ж"),
        Column(PHONE, "+7 903 765-43-21", width=18),
        *(
            Column(header, "да" if i == 0 else "нет", _YES_NO, 14)
            for i, header in enumerate(ROLE_COLUMNS)
        ),
    ),
)
TEACHING = Sheet(
    "teaching",
    "Нагрузка",
    (
        Column(STAFF_CODE, "С-1", width=16),
        _SUBJECT,
        _CLASS,
        Column(SUBGROUP_CODE, "П-5Б-АНГЛ1", note="пусто: весь класс", width=16),
    ),
)

# In the order they are read and applied: what a row refers to comes before it.
SHEETS = (CLASSES, SUBGROUPS, MEMBERS, STUDENTS, GUARDIANS, CHILDREN, STAFF, TEACHING)
# A sheet of links needs the sheet it adds to in the same file (a CSV holds one main kind).
NEEDS = {"members": SUBGROUPS, "children": GUARDIANS, "teaching": STAFF}
