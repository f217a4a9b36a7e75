"""The demo school's people: classes and students, families with consents, teachers by load,
class teachers, the deputy and the administrator."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from faker import Faker

from services.demo import curriculum as cur
from services.demo.school import School


@dataclass
class Klass:
    id: int
    grade: int
    letter: str
    shift: int
    students: list[int] = field(default_factory=list)
    subgroups: dict[int, list[tuple[int | None, list[int]]]] = field(default_factory=dict)


@dataclass
class Names:
    """Name pools drawn once from Faker: sampling them is fast and deterministic."""

    surnames: list[str]

    @classmethod
    def build(cls, seed: int) -> Names:
        fake = Faker("ru_RU")
        fake.seed_instance(seed)
        surnames = sorted({fake.last_name_male() for _ in range(3000)})
        return cls(surnames=surnames)


def _phone(rng: random.Random) -> str:
    return f"+79{rng.randrange(10**9):09d}"


class People:
    """Generates and holds one school's people; the journal is written about them."""

    def __init__(self, school: School, *, names: Names, students: int) -> None:
        self.school = school
        self.target = students
        self.rng = school.rng
        self.names = names
        self.ids = school.ids
        self.rows = school.rows
        self.persona: dict[str, Any] = {}
        self.student_info: dict[int, tuple[str, bool, int]] = {}  # last name, male, class
        self.ability: dict[int, float] = {}
        self.student_row: dict[int, tuple[int, bool]] = {}  # row index, male
        self.classes: list[Klass] = []
        self.teacher_of: dict[tuple[int, str, int | None], int] = {}
        self.class_teacher: dict[int, int] = {}
        self.deputy = 0
        self.all_teachers: list[int] = []

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
        self.rows.add(
            "staff", (staff_id, self.school.school_id, last, first, middle, _phone(self.rng))
        )
        self.rows.add(
            "staff_roles", (self.ids.take("staff_roles"), staff_id, "subject_teacher", None)
        )
        return staff_id

    def build(self) -> None:
        """Classes and students, families with consents, teachers and their load."""
        rng = self.rng
        letters_per_grade = {g: rng.choice([2, 3, 3]) for g in range(1, 12)}
        seats = sum(letters_per_grade.values())
        per_class = max(8, round(self.target / seats))
        left = self.target
        for grade in range(1, 12):
            for letter in "АБВ"[: letters_per_grade[grade]]:
                shift = 2 if 2 <= grade <= 4 and letter == "В" else 1
                self.classes.append(Klass(self.ids.take("classes"), grade, letter, shift))
        for position, klass in enumerate(self.classes):
            last = position == len(self.classes) - 1
            size = left if last else max(0, min(left, per_class + rng.randint(-3, 3)))
            left -= size
            birth_year = self.school.year_start.year - 7 - (klass.grade - 1)
            for _ in range(size):
                klass.students.append(self._student(klass, birth_year))
        for klass in self.classes:
            self.rows.add(
                "classes",
                (
                    klass.id,
                    self.school.school_id,
                    self.school.year_id,
                    klass.grade,
                    klass.letter,
                    klass.shift,
                ),
            )
        self._families()
        self._staffing()

    def _student(self, klass: Klass, birth_year: int) -> int:
        rng = self.rng
        male = rng.random() < 0.5
        last, first, middle = self._person(male)
        student_id = self.ids.take("students")
        born = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
        phone = _phone(rng) if klass.grade >= 5 and rng.random() < 0.8 else None
        self.student_row[student_id] = (len(self.rows.tables["students"]), male)
        self.rows.add(
            "students",
            (student_id, self.school.school_id, klass.id, last, first, middle, born, phone),
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
                            self.school.year_start,
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
        load: dict[str, list[tuple[int, int]]] = defaultdict(list)  # subject → [(teacher, h)]
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
                            (
                                subgroup_id,
                                klass.id,
                                self.school.subjects[subject],
                                f"Группа {number}",
                            ),
                        )
                        for student in members:
                            self.rows.add("subgroup_members", (subgroup_id, student))
                        teacher = assign(subject, hours)
                        self.teacher_of[(klass.id, subject, subgroup_id)] = teacher
                        groups.append((subgroup_id, members))
                    klass.subgroups[self.school.subjects[subject]] = groups
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
                    self.school.subjects[subject],
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
