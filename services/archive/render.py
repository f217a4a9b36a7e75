"""What the XLSX and the PDF both show: a subject's grid of marks, and the corrections' rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.archive import document as doc
from services.archive.records import ClassYear, Lesson, Revision, Subject, absences_per_subject

Cell = tuple[int, int]  # (pupil id, lesson id) or (pupil id, period id)


@dataclass(frozen=True, slots=True)
class Grid:
    """One subject's pages of the journal: pupils × lessons, then the period grades."""

    subject: Subject
    lessons: tuple[Lesson, ...]
    cells: dict[Cell, str]  # "н 5": the absence sign, then the current marks
    history: dict[Cell, str]  # the cell's corrections, one per line
    finals: dict[Cell, str]
    absent: dict[int, int]  # lessons missed per pupil


def written_text(at: datetime, zone: ZoneInfo) -> str:
    """15.06.2026 10:30 (Asia/Yekaterinburg): a moment as the school's clock showed it."""
    return f"{at.astimezone(zone):%d.%m.%Y %H:%M} ({zone.key})"


def local(at: datetime, zone: ZoneInfo) -> datetime:
    """The moment on the school's clock, without a zone: what a spreadsheet cell can hold."""
    return at.astimezone(zone).replace(tzinfo=None)


def revision_place(year: ClassYear, revision: Revision) -> str:
    """Where the corrected record was: the lesson's day and number, or the period."""
    if revision.lesson_id is not None:
        lesson = next((x for x in year.lessons if x.id == revision.lesson_id), None)
        return f"{lesson.day:%d.%m.%Y}, урок {lesson.slot}" if lesson else doc.NOTHING
    period = next((p for p in year.periods if p.id == revision.period_id), None)
    return period.label if period else doc.NOTHING


def revision_line(revision: Revision, zone: ZoneInfo) -> str:
    """3 → 4, 12.10.2025 14:03, Петрова А. И.: ошибка ввода."""
    new = revision.new if revision.new is not None else doc.REMOVED
    line = f"{revision.old or doc.NOTHING} → {new}, {local(revision.at, zone):%d.%m.%Y %H:%M}"
    if revision.author:
        line += f", {revision.author}"
    return line + (f": {revision.reason}" if revision.reason else "")


def grids(year: ClassYear, zone: ZoneInfo) -> list[Grid]:
    """A grid per subject, in the order of `year.subjects`."""
    by_subject: dict[int, list[Lesson]] = defaultdict(list)
    subject_of: dict[int, int] = {}
    for lesson in year.lessons:
        by_subject[lesson.subject_id].append(lesson)
        subject_of[lesson.id] = lesson.subject_id
    signs: dict[Cell, list[str]] = defaultdict(list)
    for item in year.absences:
        sign = doc.ABSENT_SIGN if item.kind == "absent" else doc.LATE_SIGN
        signs[item.student_id, item.lesson_id].append(sign)
    for mark in year.marks:
        signs[mark.student_id, mark.lesson_id].append(mark.value)
    history: dict[int, dict[Cell, list[str]]] = defaultdict(lambda: defaultdict(list))
    for revision in year.revisions:
        key = revision.lesson_id if revision.lesson_id is not None else revision.period_id
        if key is not None:
            history[revision.subject_id][revision.student_id, key].append(
                revision_line(revision, zone)
            )
    finals: dict[int, dict[Cell, str]] = defaultdict(dict)
    for grade in year.finals:
        finals[grade.subject_id][grade.student_id, grade.period_id] = grade.value
    missed = absences_per_subject(year)
    result = []
    for subject in year.subjects:
        lessons = tuple(by_subject.get(subject.id, ()))
        ids = {lesson.id for lesson in lessons}
        result.append(
            Grid(
                subject,
                lessons,
                {key: " ".join(v) for key, v in signs.items() if key[1] in ids},
                {key: "\n".join(v) for key, v in history[subject.id].items()},
                finals[subject.id],
                {pupil.id: missed[pupil.id, subject.id] for pupil in year.pupils},
            )
        )
    return result


def history_row(year: ClassYear, revision: Revision, zone: ZoneInfo) -> list[object]:
    """A row of the corrections' table (doc.HISTORY_COLUMNS, the moment, doc.HISTORY_AFTER)."""
    pupil = next((p.name for p in year.pupils if p.id == revision.student_id), "")
    subject = next((s.name for s in year.subjects if s.id == revision.subject_id), "")
    return [
        doc.HISTORY_MARK if revision.lesson_id is not None else doc.HISTORY_FINAL,
        pupil,
        subject,
        revision_place(year, revision),
        revision.old or doc.NOTHING,
        revision.new if revision.new is not None else doc.REMOVED,
        local(revision.at, zone),
        revision.author or doc.NOTHING,
        revision.reason or doc.NOTHING,
    ]
