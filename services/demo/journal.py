"""The demo school's journal: a weekly timetable per class, then lessons with topics and
homework, marks (a few corrected), absences and the final grades of the periods that ended."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.demo import curriculum as cur
from services.demo.people import Klass, People
from services.demo.school import Period, School, school_days, slot_times
from services.journal.school import PeriodRef, class_terms
from services.profiles import profile_for


def _mark_value(rng: random.Random, ability: float) -> str:
    score = rng.gauss(ability, 0.75)
    if score >= 4.5:
        return "5"
    if score >= 3.5:
        return "4"
    if score >= 2.5:
        return "3"
    return "2"


class Journal:
    """Writes one school's journal about its people, class by class."""

    def __init__(self, school: School, people: People) -> None:
        self.school = school
        self.people = people
        self.rng = school.rng
        self.ids = school.ids
        self.rows = school.rows
        self.today = school.today
        self.final_authors: dict[tuple[int, int], int] = {}

    def timetable(self, klass: Klass) -> list[list[tuple[str, int | None]]]:
        """Five days of (subject, subgroup id) per slot for a class, a stable weekly grid."""
        rng = random.Random(klass.id * 7919 + self.school.index)
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
        days = school_days(
            self.school.year_start,
            self.today + timedelta(days=7 + (6 - self.today.weekday())),
            self.school.holidays,
        )
        zone = ZoneInfo(self.school.zone)
        # Each class by its grade's periods (seed 004 §5.1–5.2: half-years for grades 10–11).
        profile = profile_for(self.school.profile)
        refs = [PeriodRef(*p) for p in self.school.periods]
        terms_of: dict[int, list[Period]] = {}
        accum: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
        rooms = {
            klass.id: str(100 + (i % 40) + 100 * (i // 40 + 1))
            for i, klass in enumerate(self.people.classes)
        }
        for klass in self.people.classes:
            chosen = {t.id for t in class_terms(profile, klass.grade, refs)}
            terms = terms_of[klass.id] = [p for p in self.school.periods if p[0] in chosen]
            grid = self.timetable(klass)
            slots = slot_times(klass.shift)
            last_lesson: dict[tuple[str, int | None], tuple[int, date, int]] = {}
            counters: dict[tuple[str, int | None], int] = defaultdict(int)
            illness = self._illness_days(klass, days)
            for day in days:
                past = day < self.today
                for slot, (subject, _) in enumerate(grid[day.weekday()]):
                    groups = klass.subgroups.get(self.school.subjects[subject]) or [
                        (None, klass.students)
                    ]
                    for subgroup_id, members in groups:
                        key = (subject, subgroup_id)
                        teacher = self.people.teacher_of[(klass.id, subject, subgroup_id)]
                        substitute = (
                            rng.choice(self.people.all_teachers)
                            if past and rng.random() < 0.01
                            else None
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
                                self.school.school_id,
                                klass.id,
                                subgroup_id,
                                self.school.subjects[subject],
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
                                self.school.kinds[kind_code][0] if kind_code else None,
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
        self._finals(terms_of, accum)

    def _illness_days(self, klass: Klass, days: list[date]) -> dict[int, set[date]]:
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
        klass: Klass,
        members: list[int],
        lesson_id: int,
        day: date,
        subject: str,
        author: int,
        kind_code: str | None,
        illness: dict[int, set[date]],
        terms: list[Period],
        accum: dict[tuple[int, int, int], list[float]],
        end: time,
        zone: ZoneInfo,
    ) -> None:
        rng = self.rng
        subject_id = self.school.subjects[subject]
        control = kind_code is not None
        # A few recent written works are not marked yet: the teachers' reminders have
        # something to say in the demo (SPEC §4).
        unmarked = control and (self.today - day).days <= 8 and lesson_id % 3 == 0
        written_at = datetime.combine(day, end, zone).astimezone(UTC)
        period = next((p for p in terms if p[3] <= day <= p[4]), None)

        def attendance(
            student: int, kind: str, reason: str, valid: bool, late: int | None
        ) -> None:
            self.rows.add(
                "attendance",
                (
                    self.ids.take("attendance"),
                    student,
                    lesson_id,
                    kind,
                    reason,
                    valid,
                    late,
                    author,
                ),
            )

        def mark(
            student: int,
            kind_id: int,
            value: str | None,
            replaces: int | None,
            reason: str | None,
            at: datetime,
        ) -> int:
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
                    replaces,
                    reason,
                    at,
                ),
            )
            return mark_id

        for student in members:
            if day in illness.get(student, ()):
                reason = "illness" if rng.random() < 0.8 else "certificate"
                attendance(student, "absent", reason, True, None)
                continue
            roll = rng.random()
            if roll < 0.003:
                attendance(student, "absent", "unknown", False, None)
                continue
            if roll < 0.005:
                attendance(student, "absent", "parent_request", True, None)
                continue
            if roll < 0.009:
                attendance(student, "late", "unknown", False, rng.randint(5, 20))
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
            kind_id, weight = self.school.kinds[code]
            if (
                subject == "Физическая культура"
                and self.people.ability[student] < 2.8
                and rng.random() < 0.5
            ):
                value = "осв"
            else:
                value = _mark_value(rng, self.people.ability[student])
            mark_id = mark(student, kind_id, value, None, None, written_at)
            final_value = value
            roll = rng.random()
            if roll < 0.01:
                new_value = str(min(5, int(value) + 1)) if value.isdigit() else "3"
                reason = rng.choice(["Исправлено после пересдачи", "Ошибка ввода"])
                at = written_at + timedelta(days=rng.randint(1, 3))
                mark(student, kind_id, new_value, mark_id, reason, at)
                final_value = new_value
            elif roll < 0.012:
                mark(
                    student,
                    kind_id,
                    None,
                    mark_id,
                    "Выставлена ошибочно",
                    written_at + timedelta(days=1),
                )
                final_value = ""
            if period is not None and final_value.isdigit():
                bucket = accum[(student, subject_id, period[0])]
                bucket[0] += float(weight) * int(final_value)
                bucket[1] += float(weight)
                self.final_authors[(subject_id, klass.id)] = author

    def _finals(
        self,
        terms_of: dict[int, list[Period]],
        accum: dict[tuple[int, int, int], list[float]],
    ) -> None:
        ended = {p[0]: p for terms in terms_of.values() for p in terms if p[4] < self.today}
        pass_fail = {self.school.subjects[s] for s in cur.PASS_FAIL_SUBJECTS}
        class_of = {s: info[2] for s, info in self.people.student_info.items()}
        for period_id, period in ended.items():
            set_at = datetime.combine(period[4], time(15), ZoneInfo(self.school.zone)).astimezone(
                UTC
            )
            for klass in self.people.classes:
                if klass.grade == 1 or period not in terms_of.get(klass.id, ()):
                    continue
                for subject, hours in cur.CURRICULUM:
                    if not hours.get(klass.grade):
                        continue
                    subject_id = self.school.subjects[subject]
                    author = (
                        self.final_authors.get((subject_id, klass.id))
                        or self.people.class_teacher[klass.id]
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
