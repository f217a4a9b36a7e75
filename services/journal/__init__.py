"""What families and class teachers read from the journal: marks, homework, attendance, finals.

Every function here takes a student or class the caller has already obtained from
`services.access` (which checked the viewer's right to it at query time) and returns plain frozen
dataclasses. Ids that come from buttons (periods, subjects) are checked against the student's
school: another school's period is `NotFound`, like another family's child. Marks and final
grades are read from their current revisions (`services.db.current`).
"""

from services.journal.absences import AttendanceItem, AttendanceSummary, attendance
from services.journal.classes import StudentLine, class_overview
from services.journal.grades import (
    FinalRow,
    MarkItem,
    PeriodFinal,
    SubjectMarks,
    finals,
    marks,
    period_finals,
    period_subjects,
    student_subject,
    subject_marks,
    subject_name,
)
from services.journal.history import SentPush, sent_pushes
from services.journal.school import PeriodRef, SchoolContext, class_terms, school_context
from services.journal.timetable import (
    HOMEWORK_LOOKBACK,
    DayPlan,
    HomeworkItem,
    LessonItem,
    PlannedWork,
    day_plans,
    homework,
    lessons,
    planned_works,
)

__all__ = [
    "HOMEWORK_LOOKBACK",
    "AttendanceItem",
    "AttendanceSummary",
    "DayPlan",
    "FinalRow",
    "HomeworkItem",
    "LessonItem",
    "MarkItem",
    "PeriodFinal",
    "PeriodRef",
    "PlannedWork",
    "SchoolContext",
    "SentPush",
    "StudentLine",
    "SubjectMarks",
    "attendance",
    "class_overview",
    "class_terms",
    "day_plans",
    "finals",
    "homework",
    "lessons",
    "marks",
    "period_finals",
    "period_subjects",
    "planned_works",
    "school_context",
    "sent_pushes",
    "student_subject",
    "subject_marks",
    "subject_name",
]
