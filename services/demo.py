"""A realistic demo school (or a region of them, for benchmarks), loaded with COPY."""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services import curriculum as cur

Progress = Callable[[str, int, int], None]

SCHOOL_SIZE = 1000  # students per school in a region
ZONES = ["Europe/Moscow", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg"]
LESSON_START = time(8, 30)
SECOND_SHIFT_START = time(13, 0)
BREAKS = [10, 20, 20, 10, 10, 10, 10]  # minutes after lesson 1, 2, ...
JOURNAL_TABLES = [
    "schools",
    "academic_years",
    "periods",
    "holidays",
    "classes",
    "subjects",
    "subgroups",
    "work_kinds",
    "students",
    "subgroup_members",
    "guardians",
    "guardianships",
    "consents",
    "staff",
    "staff_roles",
    "teaching_assignments",
    "lessons",
    "homework",
    "marks",
    "attendance",
    "final_grades",
]


class DemoError(Exception):
    """The demo data cannot be loaded as asked; the message says why."""


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]
    school_id: int
    guardian_id: int  # a guardian with two children in different classes
    child_ids: tuple[int, ...]
    student_id: int
    teacher_id: int
    class_teacher_id: int
    class_id: int
    deputy_id: int

    def describe(self) -> str:
        c = self.counts
        return (
            f"{c['schools']} school(s), {c['students']} students, {c['guardians']} guardians, "
            f"{c['staff']} staff, {c['lessons']} lessons, {c['marks']} marks, "
            f"{c['attendance']} absences, {c['homework']} homework, "
            f"{c['final_grades']} final grades"
        )


def academic_year(today: date) -> tuple[date, date]:
    start_year = today.year if today.month >= 8 else today.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 5, 31)


def _quarters(y: int) -> list[tuple[str, int, date, date]]:
    return [
        ("quarter", 1, date(y, 9, 1), date(y, 10, 24)),
        ("quarter", 2, date(y, 11, 3), date(y, 12, 28)),
        ("quarter", 3, date(y + 1, 1, 12), date(y + 1, 3, 20)),
        ("quarter", 4, date(y + 1, 3, 30), date(y + 1, 5, 26)),
    ]


def _trimesters(y: int) -> list[tuple[str, int, date, date]]:
    return [
        ("trimester", 1, date(y, 9, 1), date(y, 11, 30)),
        ("trimester", 2, date(y, 12, 1), date(y + 1, 2, 28)),
        ("trimester", 3, date(y + 1, 3, 1), date(y + 1, 5, 26)),
    ]


def _holidays(y: int) -> list[tuple[str, date, date]]:
    return [
        ("Осенние каникулы", date(y, 10, 25), date(y, 11, 2)),
        ("День народного единства", date(y, 11, 4), date(y, 11, 4)),
        ("Зимние каникулы", date(y, 12, 29), date(y + 1, 1, 11)),
        ("День защитника Отечества", date(y + 1, 2, 23), date(y + 1, 2, 23)),
        ("Международный женский день", date(y + 1, 3, 9), date(y + 1, 3, 9)),
        ("Весенние каникулы", date(y + 1, 3, 21), date(y + 1, 3, 29)),
        ("Праздник Весны и Труда", date(y + 1, 5, 1), date(y + 1, 5, 1)),
        ("День Победы", date(y + 1, 5, 11), date(y + 1, 5, 11)),
    ]


@dataclass
class _Ids:
    """Ids assigned here so that rows can refer to each other before they are written."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class _Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.tables[table].append(row)


COLUMNS: dict[str, list[str]] = {
    "schools": ["id", "name", "timezone", "profile", "overrides"],
    "academic_years": ["id", "school_id", "name", "starts_on", "ends_on"],
    "periods": ["id", "academic_year_id", "kind", "number", "starts_on", "ends_on"],
    "holidays": ["id", "academic_year_id", "name", "starts_on", "ends_on"],
    "classes": ["id", "school_id", "academic_year_id", "grade", "letter", "shift"],
    "subjects": ["id", "school_id", "name", "short_name"],
    "subgroups": ["id", "class_id", "subject_id", "name"],
    "work_kinds": ["id", "school_id", "code", "name", "weight", "is_written", "is_control"],
    "students": [
        "id",
        "school_id",
        "class_id",
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "phone",
    ],
    "subgroup_members": ["subgroup_id", "student_id"],
    "guardians": ["id", "last_name", "first_name", "middle_name", "phone"],
    "guardianships": ["guardian_id", "student_id", "relation"],
    "consents": ["id", "student_id", "guardian_id", "given_on", "document"],
    "staff": ["id", "school_id", "last_name", "first_name", "middle_name", "phone"],
    "staff_roles": ["id", "staff_id", "role", "class_id"],
    "teaching_assignments": ["id", "staff_id", "class_id", "subject_id", "subgroup_id"],
    "lessons": [
        "id",
        "school_id",
        "class_id",
        "subgroup_id",
        "subject_id",
        "teacher_id",
        "substitute_teacher_id",
        "date",
        "slot",
        "starts_at",
        "ends_at",
        "room",
        "topic",
        "attendance_taken_at",
        "topic_at",
        "work_kind_id",
    ],
    "homework": ["id", "lesson_id", "due_date", "text", "author_id", "created_at"],
    "marks": [
        "id",
        "student_id",
        "lesson_id",
        "work_kind_id",
        "value",
        "weight",
        "comment",
        "author_id",
        "replaces_id",
        "reason",
        "created_at",
    ],
    "attendance": [
        "id",
        "student_id",
        "lesson_id",
        "kind",
        "reason",
        "is_valid",
        "minutes_late",
        "author_id",
    ],
    "final_grades": [
        "id",
        "student_id",
        "subject_id",
        "period_id",
        "value",
        "author_id",
        "replaces_id",
        "reason",
        "created_at",
    ],
}


@dataclass
class _Klass:
    id: int
    grade: int
    letter: str
    shift: int
    students: list[int] = field(default_factory=list)
    subgroups: dict[int, list[tuple[int | None, list[int]]]] = field(default_factory=dict)


@dataclass
class _Names:
    """Name pools drawn once from Faker: sampling them is fast and deterministic."""

    surnames: list[str]

    @classmethod
    def build(cls, seed: int) -> _Names:
        fake = Faker("ru_RU")
        fake.seed_instance(seed)
        surnames = sorted({fake.last_name_male() for _ in range(3000)})
        return cls(surnames=surnames)


def _phone(rng: random.Random) -> str:
    return f"+79{rng.randrange(10**9):09d}"


def _mark_value(rng: random.Random, ability: float) -> str:
    score = rng.gauss(ability, 0.75)
    if score >= 4.5:
        return "5"
    if score >= 3.5:
        return "4"
    if score >= 2.5:
        return "3"
    return "2"


def _school_days(start: date, end: date, holidays: list[tuple[str, date, date]]) -> list[date]:
    off = set()
    for _, first, last in holidays:
        day = first
        while day <= last:
            off.add(day)
            day += timedelta(days=1)
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            days.append(day)
        day += timedelta(days=1)
    return days


def _slot_times(shift: int) -> list[tuple[time, time]]:
    start = datetime.combine(date(2000, 1, 1), LESSON_START if shift == 1 else SECOND_SHIFT_START)
    slots = []
    for brk in BREAKS:
        end = start + timedelta(minutes=45)
        slots.append((start.time(), end.time()))
        start = end + timedelta(minutes=brk)
    return slots


class _SchoolBuilder:
    """Generates one school's rows; a region is many of these, written one by one."""

    def __init__(
        self,
        *,
        index: int,
        students: int,
        rng: random.Random,
        names: _Names,
        ids: _Ids,
        today: date,
    ) -> None:
        self.index = index
        self.target = students
        self.rng = rng
        self.names = names
        self.ids = ids
        self.today = today
        self.rows = _Rows()
        self.persona: dict[str, Any] = {}
        self.student_info: dict[int, tuple[str, bool, int]] = {}  # last name, male, class
        self.ability: dict[int, float] = {}
        self.student_row: dict[int, tuple[int, bool]] = {}  # row index, male

    # -- structure ---------------------------------------------------------------------

    def build_structure(self) -> None:
        rng = self.rng
        self.school_id = self.ids.take("schools")
        self.zone = ZONES[0] if self.index == 0 else rng.choice(ZONES)
        self.profile = (
            "default"
            if self.index == 0
            else rng.choice(["default", "seed000", "seed001", "seed002", "seed004"])
        )
        number = self.index + 1 if self.index else 1
        self.rows.add(
            "schools",
            (
                self.school_id,
                f"МБОУ «Средняя общеобразовательная школа № {number}»",
                self.zone,
                self.profile,
                # Marks the school as the demo's: `journalbot demo` and `shell` act only on
                # such schools, never on a real journal (services/sandbox.py).
                json.dumps({"demo": True}),
            ),
        )
        first, last = academic_year(self.today)
        self.year_id = self.ids.take("academic_years")
        self.rows.add(
            "academic_years",
            (
                self.year_id,
                self.school_id,
                f"{first.year}/{first.year + 1}",
                first,
                last,
            ),
        )
        terms = _trimesters(first.year) if self.profile == "seed001" else _quarters(first.year)
        self.periods: list[tuple[int, str, int, date, date]] = []
        for kind, number_, starts, ends in [*terms, ("year", 1, first, last)]:
            period_id = self.ids.take("periods")
            self.periods.append((period_id, kind, number_, starts, ends))
            self.rows.add("periods", (period_id, self.year_id, kind, number_, starts, ends))
        self.holidays = _holidays(first.year)
        for name, starts, ends in self.holidays:
            self.rows.add(
                "holidays", (self.ids.take("holidays"), self.year_id, name, starts, ends)
            )
        self.subjects: dict[str, int] = {}
        for name, _ in cur.CURRICULUM:
            subject_id = self.ids.take("subjects")
            self.subjects[name] = subject_id
            self.rows.add("subjects", (subject_id, self.school_id, name, None))
        self.kinds: dict[str, tuple[int, Decimal]] = {}
        for code, name, weight, written, control in cur.WORK_KINDS:
            kind_id = self.ids.take("work_kinds")
            self.kinds[code] = (kind_id, weight)
            self.rows.add(
                "work_kinds", (kind_id, self.school_id, code, name, weight, written, control)
            )
        self.year_start, self.year_end = first, last

    def _person(self, male: bool) -> tuple[str, str, str]:
        rng = self.rng
        surname = rng.choice(self.names.surnames)
        father = rng.choice(cur.MALE_NAMES)
        if male:
            return surname, rng.choice(cur.CHILD_MALE_NAMES), father[1]
        return cur.female_surname(surname), rng.choice(cur.FEMALE_NAMES), father[2]

    def _staff(self, role_class: int | None = None, *, male: bool | None = None) -> int:
        male = self.rng.random() < 0.2 if male is None else male
        last, first, middle = self._person(male)
        if male:
            first = self.rng.choice(cur.MALE_NAMES)[0]
        staff_id = self.ids.take("staff")
        self.rows.add("staff", (staff_id, self.school_id, last, first, middle, _phone(self.rng)))
        self.rows.add(
            "staff_roles", (self.ids.take("staff_roles"), staff_id, "subject_teacher", None)
        )
        return staff_id

    def build_people(self) -> None:
        rng = self.rng
        letters_per_grade = {g: rng.choice([2, 3, 3]) for g in range(1, 12)}
        seats = sum(letters_per_grade.values())
        per_class = max(8, round(self.target / seats))
        self.classes: list[_Klass] = []
        left = self.target
        for grade in range(1, 12):
            for letter in "АБВ"[: letters_per_grade[grade]]:
                shift = 2 if 2 <= grade <= 4 and letter == "В" else 1
                self.classes.append(_Klass(self.ids.take("classes"), grade, letter, shift))
        for position, klass in enumerate(self.classes):
            last = position == len(self.classes) - 1
            size = left if last else max(0, min(left, per_class + rng.randint(-3, 3)))
            left -= size
            birth_year = self.year_start.year - 7 - (klass.grade - 1)
            for _ in range(size):
                klass.students.append(self._student(klass, birth_year))
        for klass in self.classes:
            self.rows.add(
                "classes",
                (klass.id, self.school_id, self.year_id, klass.grade, klass.letter, klass.shift),
            )
        self._families()
        self._staffing()

    def _student(self, klass: _Klass, birth_year: int) -> int:
        rng = self.rng
        male = rng.random() < 0.5
        last, first, middle = self._person(male)
        student_id = self.ids.take("students")
        born = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
        phone = _phone(rng) if klass.grade >= 5 and rng.random() < 0.8 else None
        self.student_row[student_id] = (len(self.rows.tables["students"]), male)
        self.rows.add(
            "students", (student_id, self.school_id, klass.id, last, first, middle, born, phone)
        )
        self.student_info[student_id] = (last, male, klass.id)
        self.ability[student_id] = min(5.2, max(2.6, rng.gauss(4.0, 0.55)))
        return student_id

    def _families(self) -> None:
        rng = self.rng
        pool = [s for k in self.classes for s in k.students]
        rng.shuffle(pool)
        families: list[list[int]] = []
        while pool:
            size = 1
            roll = rng.random()
            if roll < 0.11:
                size = 2
            elif roll < 0.15:
                size = 3
            family = [pool.pop()]
            # Siblings study in different classes.
            classes = {self.student_info[family[0]][2]}
            for candidate in list(pool):
                if len(family) >= size:
                    break
                if self.student_info[candidate][2] not in classes:
                    family.append(candidate)
                    classes.add(self.student_info[candidate][2])
                    pool.remove(candidate)
            families.append(family)
        families.sort(key=lambda f: (-len(f), f[0]))
        for family in families:
            surname_male = rng.choice(self.names.surnames)
            mother = self._guardian(cur.female_surname(surname_male), female=True)
            guardians = [mother]
            father = rng.choice(cur.MALE_NAMES)
            if rng.random() < 0.55:
                guardians.append(self._guardian(surname_male, female=False, first=father[0]))
            # Children carry the family's surname and the father's name as patronymic.
            for child in family:
                index_in_rows, male = self.student_row[child]
                row = self.rows.tables["students"][index_in_rows]
                surname = surname_male if male else cur.female_surname(surname_male)
                patronymic = father[1] if male else father[2]
                self.rows.tables["students"][index_in_rows] = (
                    *row[:3],
                    surname,
                    row[4],
                    patronymic,
                    *row[6:],
                )
            persona = len(family) == 2 and "guardian_id" not in self.persona
            if persona:
                self.persona["guardian_id"] = mother
                self.persona["child_ids"] = tuple(sorted(family))
            for child in family:
                for relation, guardian in zip(("mother", "father"), guardians, strict=False):
                    self.rows.add("guardianships", (guardian, child, relation))
                # Seed 003 §1.5: a few families have not yet signed the consent.
                if persona or rng.random() < 0.97:
                    self.rows.add(
                        "consents",
                        (
                            self.ids.take("consents"),
                            child,
                            mother,
                            self.year_start,
                            f"Заявление № {child}",
                        ),
                    )

    def _guardian(self, surname: str, *, female: bool, first: str | None = None) -> int:
        rng = self.rng
        guardian_id = self.ids.take("guardians")
        if female:
            first = first or rng.choice(cur.FEMALE_NAMES)
            middle = rng.choice(cur.MALE_NAMES)[2]
        else:
            first = first or rng.choice(cur.MALE_NAMES)[0]
            middle = rng.choice(cur.MALE_NAMES)[1]
        phone = _phone(rng) if rng.random() < 0.9 else None
        self.rows.add("guardians", (guardian_id, surname, first, middle, phone))
        return guardian_id

    def _staffing(self) -> None:
        """Teachers by load (≈18–26 lessons a week), class teachers, deputy, administrator."""
        rng = self.rng
        self.teacher_of: dict[tuple[int, str, int | None], int] = {}
        load: dict[str, list[tuple[int, int]]] = defaultdict(list)  # subject → [(teacher, h)]
        self.class_teacher: dict[int, int] = {}
        for klass in self.classes:
            if klass.grade <= 4:
                teacher = self._staff(male=False)
                self.class_teacher[klass.id] = teacher
                for subject in cur.PRIMARY_CORE:
                    self.teacher_of[(klass.id, subject, None)] = teacher

        def assign(subject: str, hours: int) -> int:
            teachers = load[subject]
            for index, (teacher, taken) in enumerate(teachers):
                if taken + hours <= 24:
                    teachers[index] = (teacher, taken + hours)
                    return teacher
            teacher = self._staff()
            teachers.append((teacher, hours))
            return teacher

        for klass in self.classes:
            for subject, hours_by_grade in cur.CURRICULUM:
                hours = hours_by_grade.get(klass.grade, 0)
                if not hours or (klass.id, subject, None) in self.teacher_of:
                    continue
                if subject in cur.SUBGROUP_SUBJECTS and klass.grade >= 5:
                    groups: list[tuple[int | None, list[int]]] = []
                    half = len(klass.students) // 2
                    for number, members in (
                        (1, klass.students[:half]),
                        (2, klass.students[half:]),
                    ):
                        subgroup_id = self.ids.take("subgroups")
                        self.rows.add(
                            "subgroups",
                            (subgroup_id, klass.id, self.subjects[subject], f"Группа {number}"),
                        )
                        for student in members:
                            self.rows.add("subgroup_members", (subgroup_id, student))
                        teacher = assign(subject, hours)
                        self.teacher_of[(klass.id, subject, subgroup_id)] = teacher
                        groups.append((subgroup_id, members))
                    klass.subgroups[self.subjects[subject]] = groups
                else:
                    self.teacher_of[(klass.id, subject, None)] = assign(subject, hours)
        for (class_id, subject, group_id), teacher in sorted(
            self.teacher_of.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or 0)
        ):
            self.rows.add(
                "teaching_assignments",
                (
                    self.ids.take("teaching_assignments"),
                    teacher,
                    class_id,
                    self.subjects[subject],
                    group_id,
                ),
            )
        # Class teachers of grades 5–11 are subject teachers of the school, one class each.
        senior = sorted(
            {t for (c, _, _), t in self.teacher_of.items()} - set(self.class_teacher.values())
        )
        rng.shuffle(senior)
        for klass in self.classes:
            if klass.id not in self.class_teacher:
                self.class_teacher[klass.id] = senior.pop() if senior else self._staff()
        for class_id, teacher in self.class_teacher.items():
            self.rows.add(
                "staff_roles", (self.ids.take("staff_roles"), teacher, "class_teacher", class_id)
            )
        self.deputy = self._staff(male=False)
        self.rows.add(
            "staff_roles", (self.ids.take("staff_roles"), self.deputy, "deputy_director", None)
        )
        admin = self._staff()
        self.rows.add("staff_roles", (self.ids.take("staff_roles"), admin, "administrator", None))
        self.all_teachers = sorted({t for t in self.teacher_of.values()})

    # -- the journal -------------------------------------------------------------------

    def timetable(self, klass: _Klass) -> list[list[tuple[str, int | None]]]:
        """Five days of (subject, subgroup id) per slot for a class, a stable weekly grid."""
        rng = random.Random(klass.id * 7919 + self.index)
        lessons: list[str] = []
        for subject, hours_by_grade in cur.CURRICULUM:
            lessons += [subject] * hours_by_grade.get(klass.grade, 0)
        rng.shuffle(lessons)
        days: list[list[str]] = [[] for _ in range(5)]
        for position, subject in enumerate(sorted(lessons, key=lambda s: -lessons.count(s))):
            # Spread a subject over the week: the emptiest day that does not have it yet.
            choices = sorted(
                range(5), key=lambda d: (subject in days[d], len(days[d]), (d + position) % 5)
            )
            days[choices[0]].append(subject)
        grid: list[list[tuple[str, int | None]]] = []
        for day in days:
            rng.shuffle(day)
            grid.append([(s, None) for s in day[:7]])
        return grid

    def build_journal(self) -> Iterator[str]:
        """Lessons, homework, marks, absences and final grades; yields after each class."""
        rng = self.rng
        days = _school_days(
            self.year_start,
            self.today + timedelta(days=7 + (6 - self.today.weekday())),
            self.holidays,
        )
        zone = ZoneInfo(self.zone)
        terms = [p for p in self.periods if p[1] != "year"]
        accum: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.final_authors: dict[tuple[int, int], int] = {}
        rooms = {
            klass.id: str(100 + (i % 40) + 100 * (i // 40 + 1))
            for i, klass in enumerate(self.classes)
        }
        for klass in self.classes:
            grid = self.timetable(klass)
            slots = _slot_times(klass.shift)
            last_lesson: dict[tuple[str, int | None], tuple[int, date, int]] = {}
            counters: dict[tuple[str, int | None], int] = defaultdict(int)
            illness = self._illness_days(klass, days)
            for day in days:
                past = day < self.today
                for slot, (subject, _) in enumerate(grid[day.weekday()]):
                    groups = klass.subgroups.get(self.subjects[subject]) or [
                        (None, klass.students)
                    ]
                    for subgroup_id, members in groups:
                        key = (subject, subgroup_id)
                        teacher = self.teacher_of[(klass.id, subject, subgroup_id)]
                        substitute = (
                            rng.choice(self.all_teachers) if past and rng.random() < 0.01 else None
                        )
                        if substitute == teacher:
                            substitute = None
                        lesson_id = self.ids.take("lessons")
                        counters[key] += 1
                        recent = (self.today - day).days <= 4
                        topics = cur.TOPICS.get(subject, cur.DEFAULT_TOPICS)
                        topic = (
                            f"{topics[counters[key] % len(topics)]}"
                            if past and not (recent and rng.random() < 0.1)
                            else None
                        )
                        start, end = slots[slot]
                        taken = (
                            datetime.combine(day, end, zone).astimezone(UTC)
                            if past and not (recent and rng.random() < 0.1)
                            else None
                        )
                        room = (
                            f"{rooms[klass.id]}"
                            if subgroup_id is None
                            else f"{rooms[klass.id]}{'аб'[subgroup_id % 2]}"
                        )
                        author = substitute or teacher
                        # Homework set at the previous lesson is due at this one.
                        previous = last_lesson.get(key)
                        if (
                            previous
                            and (klass.grade > 1 or rng.random() < 0.3)
                            and (
                                previous[1] < self.today - timedelta(days=2) or rng.random() < 0.85
                            )
                        ):
                            n = rng.randint(10, 400)
                            task = rng.choice(cur.HOMEWORK).format(n=n, m=n + rng.randint(1, 9))
                            set_at = datetime.combine(previous[1], end, zone).astimezone(UTC)
                            self.rows.add(
                                "homework",
                                (
                                    self.ids.take("homework"),
                                    previous[0],
                                    day,
                                    task,
                                    previous[2],
                                    set_at,
                                ),
                            )
                        last_lesson[key] = (lesson_id, day, author)
                        # The written or control work planned for the lesson (its marks
                        # have a deadline); chosen here, where the generator always chose it.
                        extra = cur.SUBJECT_WORK.get(subject, ())
                        kind_code = (
                            rng.choice(extra)
                            if past and extra and counters[key] % 8 == 0
                            else None
                        )
                        self.rows.add(
                            "lessons",
                            (
                                lesson_id,
                                self.school_id,
                                klass.id,
                                subgroup_id,
                                self.subjects[subject],
                                teacher,
                                substitute,
                                day,
                                slot + 1,
                                start,
                                end,
                                room,
                                topic,
                                taken,
                                datetime.combine(day, end, zone).astimezone(UTC)
                                if topic is not None
                                else None,
                                self.kinds[kind_code][0] if kind_code else None,
                            ),
                        )
                        if not past:
                            continue
                        self._lesson_facts(
                            klass,
                            members,
                            lesson_id,
                            day,
                            subject,
                            author,
                            kind_code,
                            illness,
                            terms,
                            accum,
                            end,
                            zone,
                        )
            yield f"{klass.grade}{klass.letter}"
        self._finals(terms, accum)

    def _illness_days(self, klass: _Klass, days: list[date]) -> dict[int, set[date]]:
        rng = self.rng
        past = [d for d in days if d < self.today]
        ill: dict[int, set[date]] = defaultdict(set)
        months = max(1, len(past) // 20)
        for student in klass.students:
            for _ in range(months):
                if rng.random() < 0.08 and past:
                    start = rng.randrange(len(past))
                    ill[student].update(past[start : start + rng.randint(2, 7)])
        return ill

    def _lesson_facts(
        self,
        klass: _Klass,
        members: list[int],
        lesson_id: int,
        day: date,
        subject: str,
        author: int,
        kind_code: str | None,
        illness: dict[int, set[date]],
        terms: list[tuple[int, str, int, date, date]],
        accum: dict[tuple[int, int, int], list[float]],
        end: time,
        zone: ZoneInfo,
    ) -> None:
        rng = self.rng
        subject_id = self.subjects[subject]
        control = kind_code is not None
        # A few recent written works are not marked yet: the teachers' reminders have
        # something to say in the demo (SPEC §4).
        unmarked = control and (self.today - day).days <= 8 and lesson_id % 3 == 0
        written_at = datetime.combine(day, end, zone).astimezone(UTC)
        period = next((p for p in terms if p[3] <= day <= p[4]), None)
        for student in members:
            if day in illness.get(student, ()):
                reason = "illness" if rng.random() < 0.8 else "certificate"
                self.rows.add(
                    "attendance",
                    (
                        self.ids.take("attendance"),
                        student,
                        lesson_id,
                        "absent",
                        reason,
                        True,
                        None,
                        author,
                    ),
                )
                continue
            roll = rng.random()
            if roll < 0.003:
                self.rows.add(
                    "attendance",
                    (
                        self.ids.take("attendance"),
                        student,
                        lesson_id,
                        "absent",
                        "unknown",
                        False,
                        None,
                        author,
                    ),
                )
                continue
            if roll < 0.005:
                self.rows.add(
                    "attendance",
                    (
                        self.ids.take("attendance"),
                        student,
                        lesson_id,
                        "absent",
                        "parent_request",
                        True,
                        None,
                        author,
                    ),
                )
                continue
            if roll < 0.009:
                self.rows.add(
                    "attendance",
                    (
                        self.ids.take("attendance"),
                        student,
                        lesson_id,
                        "late",
                        "unknown",
                        False,
                        rng.randint(5, 20),
                        author,
                    ),
                )
            # Seed 001 §4.3.6: no marks at all in grade 1; pass/fail subjects get none here.
            if klass.grade == 1 or subject in cur.PASS_FAIL_SUBJECTS:
                continue
            if control:
                if unmarked:
                    continue
                code = kind_code or "control"
            elif rng.random() < 0.22:
                code = "oral" if rng.random() < 0.6 else "homework"
            else:
                continue
            kind_id, weight = self.kinds[code]
            if (
                subject == "Физическая культура"
                and self.ability[student] < 2.8
                and rng.random() < 0.5
            ):
                value = "осв"
            else:
                value = _mark_value(rng, self.ability[student])
            mark_id = self.ids.take("marks")
            self.rows.add(
                "marks",
                (
                    mark_id,
                    student,
                    lesson_id,
                    kind_id,
                    value,
                    None,
                    None,
                    author,
                    None,
                    None,
                    written_at,
                ),
            )
            final_value = value
            roll = rng.random()
            if roll < 0.01:
                new_value = str(min(5, int(value) + 1)) if value.isdigit() else "3"
                reason = rng.choice(["Исправлено после пересдачи", "Ошибка ввода"])
                self.rows.add(
                    "marks",
                    (
                        self.ids.take("marks"),
                        student,
                        lesson_id,
                        kind_id,
                        new_value,
                        None,
                        None,
                        author,
                        mark_id,
                        reason,
                        written_at + timedelta(days=rng.randint(1, 3)),
                    ),
                )
                final_value = new_value
            elif roll < 0.012:
                self.rows.add(
                    "marks",
                    (
                        self.ids.take("marks"),
                        student,
                        lesson_id,
                        kind_id,
                        None,
                        None,
                        None,
                        author,
                        mark_id,
                        "Выставлена ошибочно",
                        written_at + timedelta(days=1),
                    ),
                )
                final_value = ""
            if period is not None and final_value.isdigit():
                bucket = accum[(student, subject_id, period[0])]
                bucket[0] += float(weight) * int(final_value)
                bucket[1] += float(weight)
                self.final_authors[(subject_id, klass.id)] = author

    def _finals(
        self,
        terms: list[tuple[int, str, int, date, date]],
        accum: dict[tuple[int, int, int], list[float]],
    ) -> None:
        ended = {p[0]: p for p in terms if p[4] < self.today}
        pass_fail = {self.subjects[s] for s in cur.PASS_FAIL_SUBJECTS}
        class_of = {s: info[2] for s, info in self.student_info.items()}
        for period_id, period in ended.items():
            set_at = datetime.combine(period[4], time(15), ZoneInfo(self.zone)).astimezone(UTC)
            for klass in self.classes:
                if klass.grade == 1:
                    continue
                for subject, hours in cur.CURRICULUM:
                    if not hours.get(klass.grade):
                        continue
                    subject_id = self.subjects[subject]
                    author = (
                        self.final_authors.get((subject_id, klass.id))
                        or self.class_teacher[klass.id]
                    )
                    for student in klass.students:
                        if subject_id in pass_fail:
                            value = "зач"
                        else:
                            total, weights = accum.get(
                                (student, subject_id, period_id), (0.0, 0.0)
                            )
                            if not weights:
                                continue
                            # Round half up: 4.5 → 5, 3.5 → 4, 2.5 → 3.
                            value = str(max(2, min(5, math.floor(total / weights + 0.5))))
                        assert class_of[student] == klass.id
                        self.rows.add(
                            "final_grades",
                            (
                                self.ids.take("final_grades"),
                                student,
                                subject_id,
                                period_id,
                                value,
                                author,
                                None,
                                None,
                                set_at,
                            ),
                        )


async def has_schools(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return bool(
            (await connection.execute(text("SELECT EXISTS (SELECT 1 FROM schools)"))).scalar()
        )


async def seed_demo(
    engine: AsyncEngine,
    *,
    seed: int = 1,
    students: int | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    replace: bool = False,
) -> DemoSummary:
    """Load a demo school (or a region of `students` students) into an empty journal.

    Deterministic for a given seed and day. History is loaded with change capture off, so no
    notifications are produced for it.
    """
    # The demo school (the first) lies in the first zone: its today.
    today = today or datetime.now(ZoneInfo(ZONES[0])).date()
    total = students if students is not None else 720
    if total < 1:
        raise DemoError("the number of students must be positive")
    report = progress or (lambda stage, done, count: None)
    rng = random.Random(seed)
    names = _Names.build(seed)
    counts: dict[str, int] = defaultdict(int)
    persona: dict[str, Any] = {}
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        pg: Any = raw.driver_connection
        async with pg.transaction():
            if await pg.fetchval("SELECT EXISTS (SELECT 1 FROM schools)"):
                if not replace:
                    raise DemoError(
                        "the database already has a school: use --replace to load the demo "
                        "instead (this deletes the journal's data)"
                    )
                await pg.execute(
                    "TRUNCATE " + ", ".join(JOURNAL_TABLES) + ", journal_events, account_links,"
                    " activation_codes, notification_prefs, audit_log RESTART IDENTITY CASCADE"
                )
            await pg.execute("SET LOCAL journal.capture = 'off'")
            ids = _Ids()
            for table, columns in COLUMNS.items():
                if "id" in columns:
                    ids.next[table] = int(
                        await pg.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
                    )
            schools = max(1, math.ceil(total / SCHOOL_SIZE)) if students else 1
            left = total
            for index in range(schools):
                size = min(left, SCHOOL_SIZE) if students else total
                left -= size
                builder = _SchoolBuilder(
                    index=index, students=size, rng=rng, names=names, ids=ids, today=today
                )
                builder.build_structure()
                builder.build_people()
                await _flush(pg, builder.rows, counts)
                classes = len(builder.classes)
                for done, _ in enumerate(builder.build_journal(), start=1):
                    if len(builder.rows.tables["marks"]) > 200_000:
                        await _flush(pg, builder.rows, counts)
                    report(f"school {index + 1}/{schools}", done, classes)
                await _flush(pg, builder.rows, counts)
                if index == 0:
                    first_class = builder.classes[-1]
                    persona = {
                        **builder.persona,
                        "school_id": builder.school_id,
                        "student_id": next(
                            k.students[0] for k in builder.classes if k.grade >= 5 and k.students
                        ),
                        "teacher_id": builder.teacher_of[(first_class.id, "Алгебра", None)],
                        "class_teacher_id": builder.class_teacher[first_class.id],
                        "class_id": first_class.id,
                        "deputy_id": builder.deputy,
                    }
            for table, columns in COLUMNS.items():
                if "id" in columns:
                    await pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" greatest((SELECT max(id) FROM {table}), 1))"
                    )
        await pg.execute("ANALYZE")
    counts["schools"] = counts.get("schools", 0)
    return DemoSummary(
        counts=dict(counts),
        school_id=persona["school_id"],
        guardian_id=persona.get("guardian_id", 0),
        child_ids=persona.get("child_ids", ()),
        student_id=persona["student_id"],
        teacher_id=persona["teacher_id"],
        class_teacher_id=persona["class_teacher_id"],
        class_id=persona["class_id"],
        deputy_id=persona["deputy_id"],
    )


async def _flush(pg: Any, rows: _Rows, counts: dict[str, int]) -> None:
    # Parents before children: the order of JOURNAL_TABLES follows the foreign keys.
    for table in JOURNAL_TABLES:
        batch = rows.tables.get(table)
        if not batch:
            continue
        await pg.copy_records_to_table(table, records=batch, columns=COLUMNS[table])
        counts[table] += len(batch)
        batch.clear()
