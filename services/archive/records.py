"""A class's academic year as frozen records, and the summary sheet computed from them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from services.archive import document as doc


@dataclass(frozen=True, slots=True)
class Pupil:
    id: int
    name: str
    left_on: date | None
    moved: bool  # listed for this class's year but in another class now

    @property
    def note(self) -> str:
        return doc.left_note(self.left_on, self.moved)


@dataclass(frozen=True, slots=True)
class Subject:
    id: int
    name: str
    teachers: str


@dataclass(frozen=True, slots=True)
class Period:
    id: int
    kind: str
    number: int
    starts_on: date
    ends_on: date

    @property
    def label(self) -> str:
        return doc.period_label(self.kind, self.number)


@dataclass(frozen=True, slots=True)
class Lesson:
    id: int
    day: date
    slot: int
    subject_id: int
    subgroup: str | None
    teacher: str
    substitute: str | None
    topic: str | None
    work: str | None
    homework: str | None


@dataclass(frozen=True, slots=True)
class Mark:
    lesson_id: int
    student_id: int
    value: str
    corrected: bool


@dataclass(frozen=True, slots=True)
class Absence:
    lesson_id: int
    student_id: int
    kind: str  # "absent" or "late"
    reason: str
    is_valid: bool
    minutes_late: int | None


@dataclass(frozen=True, slots=True)
class FinalGrade:
    student_id: int
    subject_id: int
    period_id: int
    value: str
    corrected: bool


@dataclass(frozen=True, slots=True)
class Revision:
    """One correction of a mark (of a lesson) or of a final grade (of a period)."""

    student_id: int
    subject_id: int
    lesson_id: int | None
    period_id: int | None
    old: str | None
    new: str | None  # None: the mark was removed
    at: datetime
    author: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ClassYear:
    school_id: int
    school: str
    year: str  # 2025/26
    starts_on: date
    ends_on: date
    klass: str  # 7Б
    class_teacher: str | None
    pupils: tuple[Pupil, ...]
    subjects: tuple[Subject, ...]
    periods: tuple[Period, ...]  # in the summary's order: terms, then year, exam, final
    lessons: tuple[Lesson, ...]
    marks: tuple[Mark, ...]
    absences: tuple[Absence, ...]
    finals: tuple[FinalGrade, ...]
    revisions: tuple[Revision, ...]

    def counts(self) -> dict[str, int]:
        return {
            "pupils": len(self.pupils),
            "subjects": len(self.subjects),
            "lessons": len(self.lessons),
            "marks": len(self.marks),
            "corrections": len(self.revisions),
            "absences": len(self.absences),
            "final_grades": len(self.finals),
        }


# --- the summary sheet ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PupilSummary:
    pupil: Pupil
    grades: Mapping[tuple[int, int], str]  # (subject id, period id) → current final grade
    absent: int
    absent_valid: int
    late: int
    failing: tuple[str, ...]  # subjects whose latest grade is unsatisfactory
    not_attested: tuple[str, ...]  # subjects whose latest grade is н/а


@dataclass(frozen=True, slots=True)
class Summary:
    periods: tuple[Period, ...]  # the columns under each subject
    rows: tuple[PupilSummary, ...]

    @property
    def failing(self) -> int:
        return sum(1 for row in self.rows if row.failing)

    @property
    def not_attested(self) -> int:
        return sum(1 for row in self.rows if row.not_attested)


def shown_periods(year: ClassYear) -> tuple[Period, ...]:
    """The periods the class has grades in, and the year's own period: the summary's columns."""
    graded = {grade.period_id for grade in year.finals}
    return tuple(p for p in year.periods if p.id in graded or p.kind == "year")


def summarize(year: ClassYear) -> Summary:
    """Per pupil: every final grade, absences counted, and the subjects in which the latest
    grade (the last period, in the summary's order, that has one) is failing or н/а."""
    periods = shown_periods(year)
    order = {period.id: index for index, period in enumerate(periods)}
    grades: dict[int, dict[tuple[int, int], str]] = {p.id: {} for p in year.pupils}
    for grade in year.finals:
        if grade.student_id in grades and grade.period_id in order:
            grades[grade.student_id][grade.subject_id, grade.period_id] = grade.value
    absent: Counter[int] = Counter()
    valid: Counter[int] = Counter()
    late: Counter[int] = Counter()
    for item in year.absences:
        if item.kind == "late":
            late[item.student_id] += 1
        else:
            absent[item.student_id] += 1
            valid[item.student_id] += item.is_valid
    rows = []
    for pupil in year.pupils:
        own = grades[pupil.id]
        failing, not_attested = [], []
        for subject in year.subjects:
            latest = [
                own[subject.id, p.id]
                for p in sorted(periods, key=lambda p: order[p.id])
                if (subject.id, p.id) in own
            ]
            if latest and latest[-1] in doc.FAILING_GRADES:
                failing.append(subject.name)
            elif latest and latest[-1] == doc.NOT_ATTESTED_GRADE:
                not_attested.append(subject.name)
        rows.append(
            PupilSummary(
                pupil,
                own,
                absent[pupil.id],
                valid[pupil.id],
                late[pupil.id],
                tuple(failing),
                tuple(not_attested),
            )
        )
    return Summary(periods, tuple(rows))


def absences_per_subject(year: ClassYear) -> Counter[tuple[int, int]]:
    """Lessons missed per (pupil, subject), lateness not counted."""
    subject_of = {lesson.id: lesson.subject_id for lesson in year.lessons}
    return Counter(
        (item.student_id, subject_of[item.lesson_id])
        for item in year.absences
        if item.kind == "absent" and item.lesson_id in subject_of
    )
