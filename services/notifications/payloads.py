"""What a queued push says besides what is read when it is sent: one frozen type per kind.

The `notifications.payload` JSON is written by `encode` and read by `decode` only; the field
names are the stored JSON's (rows already queued, and the SQL that merges lists, read them).
Family pushes carry ids (their facts are read when sent, with access checked again); pushes to
staff carry the facts gathered when their run happened.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


def _unset(value: object) -> bool:
    return value is None


# --- to families: ids, read when sent -----------------------------------------------------------

# A journal event's action (migration 0002): `changed` is an attendance mark's new kind.
Action = Literal["new", "corrected", "removed", "changed"]


class _Item(_Frozen):
    # The child, inside a digest (one message may tell of several); a message of its own
    # has the child in its row instead, and its JSON no such key.
    student_id: int | None = Field(default=None, exclude_if=_unset)


class MarkChange(_Item):
    kind: Literal["mark"] = "mark"
    action: Action = "new"
    mark_id: int
    # The value the family saw, kept from the first message's event.
    was: str | None = None


class AttendanceChange(_Item):
    kind: Literal["attendance"] = "attendance"
    action: Action = "new"
    attendance_id: int
    lesson_id: int | None = None
    # The kind before the change: what a removal tells.
    was_kind: str | None = None


class FinalGrades(_Item):
    """One message per child and period, however many subjects arrive together."""

    kind: Literal["finals"] = "finals"
    grades: tuple[int, ...]
    period_id: int | None = None


class NewHomework(_Item):
    kind: Literal["homework"] = "homework"
    homework_id: int
    lesson_id: int | None = None


class PeriodReportCard(_Frozen):
    """A family's report card of a period once its final grades are due (seed 004 §4.6.4,
    seed 003 §5.9); built from the journal when sent, as access stands then. The child is
    in the row (`notifications.student_id`)."""

    kind: Literal["report_card"] = "report_card"
    period_id: int


class LeaverReport(_Frozen):
    """The final report of a pupil who left the school during the year, for the family to
    hand to the next school (seed 003 §7.7): the year's marks up to the day they left. The
    child is in the row (`notifications.student_id`)."""

    kind: Literal["leaver_report"] = "leaver_report"
    left_on: date


FamilyItem = Annotated[
    MarkChange | AttendanceChange | FinalGrades | NewHomework, Field(discriminator="kind")
]


class Digest(_Frozen):
    """The evening message of an account in digest mode: every item since the last one."""

    kind: Literal["digest"] = "digest"
    items: tuple[FamilyItem, ...]


class Weekly(_Frozen):
    """The families' weekly digest (queued in SQL by `digests`): read in full when sent."""

    kind: Literal["weekly"] = "weekly"
    week_start: date


# --- to staff: the facts of the run ---------------------------------------------------------


class GapCategory(enum.StrEnum):
    """What a teacher has not entered (SPEC §4)."""

    TOPIC = "topic"
    ATTENDANCE = "attendance"
    HOMEWORK = "homework"
    MARKS = "marks"
    FINALS = "finals"
    # Not missing but against the rules: a mark or final grade the school's profile does not
    # allow, told to the teacher who wrote it (services/forbidden.py).
    FORBIDDEN = "forbidden"


class ReminderRun(enum.StrEnum):
    EVENING = "evening"  # before today's deadlines
    MORNING = "morning"  # what is overdue
    SOON = "soon"  # within the hour: for deadlines counted in hours (seed 002 §2.7)


class MissingEntry(_Frozen):
    """One gap of the journal as a reminder or the deputy's report tells it."""

    category: GapCategory
    class_label: str = Field(alias="class")
    subject: str
    day: date  # the lesson's date; for final grades the period's last day
    slot: int  # the lesson's number in the day; 0 for final grades
    due: datetime
    missing: int = 0  # students without a mark or a final grade
    subgroup: str | None = None
    period: str | None = None  # "quarter:2" for final grades
    # The value written against the rules (FORBIDDEN; `missing` counts the students; `due`
    # is when the first was written).
    value: str | None = Field(default=None, exclude_if=_unset)


class Reminder(_Frozen):
    kind: Literal["reminder"] = "reminder"
    # Whom it was meant for: checked again when sent.
    staff_id: int
    run: ReminderRun
    zone: str  # the school's time zone, for the deadlines
    gaps: tuple[MissingEntry, ...]


class StudentWeek(_Frozen):
    name: str
    valid: int  # absences with a valid reason
    invalid: int
    late: int
    twos: tuple[str, ...]  # subjects
    failing: tuple[str, ...]  # subjects whose forecast is 2


class ClassWeek(_Frozen):
    """The class teacher's week (seed 000 §6.3, seed 004 §3.3.1)."""

    kind: Literal["class_week"] = "class_week"
    start: date
    end: date
    class_id: int  # checked again when sent
    class_label: str = Field(default="", alias="class")
    students: tuple[StudentWeek, ...]
    behind: tuple[tuple[str, int], ...]  # subjects with overdue entries, how many


class TeacherFigures(_Frozen):
    name: str
    lessons: int
    # Lessons whose deadline has passed: the shares are of these, not of entries still due.
    topic_due: int
    topic: int  # entered on time
    attendance_due: int
    attendance: int
    homework_expected: int
    homework: int
    marks: int
    overdue_marks: int
    overdue: int


class OverdueEntry(MissingEntry):
    teacher: str


class CorrectionEntry(_Frozen):
    """One correction or removal of a mark (seed 003 §8.6: fixed "не позднее семи дней")."""

    teacher: str  # who corrected it; "" when the journal program did not say
    class_label: str = Field(alias="class")
    subject: str
    student: str
    day: date  # the lesson's date
    corrected_on: date  # in the school's time zone
    was: str | None
    value: str | None  # None: the mark was removed
    reason: str
    days: int  # days after the lesson
    late: bool  # more than the profile's `correction_days` after the lesson
    # A final grade's correction: its period (the day is then the period's last).
    period_kind: str | None = Field(default=None, exclude_if=_unset)
    period_number: int | None = Field(default=None, exclude_if=_unset)


class DeputyWeek(_Frozen):
    """The deputy director's report on journal keeping (seed 004 §7.1, §4.6.5)."""

    kind: Literal["deputy_week"] = "deputy_week"
    start: date
    end: date
    school_id: int  # checked again when sent
    teachers: tuple[TeacherFigures, ...]
    overdue: tuple[OverdueEntry, ...]
    # Marks corrected or removed in the seven days before the report (seed 003 §8.6); rows
    # queued before corrections were told have none.
    corrections: tuple[CorrectionEntry, ...] = ()
    correction_days: int = 7


class SheetPupil(_Frozen):
    """One row of a period's summary sheet (services/archive/records.py PupilSummary)."""

    name: str
    grades: tuple[str | None, ...]  # per subject, in the sheet's order
    absent: int
    absent_valid: int
    late: int
    failing: tuple[str, ...]
    not_attested: tuple[str, ...]


class ClassPeriodSheet(_Frozen):
    """The class teacher's summary sheet of a period once its finals are due (seed 004
    §3.3.6, seed 003 §7.9): pupils × subjects with the period's grades, absences, failing."""

    kind: Literal["class_period_sheet"] = "class_period_sheet"
    class_id: int  # checked again when sent
    class_label: str = Field(alias="class")
    school: str
    year: str  # 2025/26
    zone: str
    written: datetime
    period_id: int
    period_kind: str
    period_number: int
    starts_on: date
    ends_on: date
    class_teacher: str | None = None
    subjects: tuple[str, ...]
    pupils: tuple[SheetPupil, ...]
    document: Literal["xlsx", "pdf"] = "xlsx"


class DayAbsence(_Frozen):
    """One student's absences or lateness of the day with one reason."""

    name: str
    late: bool  # lateness; otherwise absence
    slots: tuple[int, ...]  # the lessons' numbers
    reason: str  # models.AbsenceReason
    valid: bool


class ClassDay(_Frozen):
    """The class teacher's daily attendance check (seed 001 §4.2.3)."""

    kind: Literal["class_day"] = "class_day"
    day: date
    class_id: int  # checked again when sent
    class_label: str = Field(default="", alias="class")
    absences: tuple[DayAbsence, ...]
    untaken: tuple[tuple[int, str], ...]  # lessons (number, subject) without attendance taken


class ClassResults(_Frozen):
    """One class's line of the school's period sheet (seed 004 §7.2, seed 003 §5.9)."""

    class_label: str = Field(alias="class")
    pupils: int  # pupils with a grade of the period: the shares are of these
    quality: int  # of them, with only 4s and 5s (and passes), in per cent
    success: int  # without a failing grade or н/а, in per cent
    failing: int
    not_attested: int


class SchoolPeriodSheet(_Frozen):
    """The deputy director's summary of a period across the school's classes that keep it,
    once its finals are due (seed 004 §7.2, §4.6.4; seed 002 §2.14)."""

    kind: Literal["school_period_sheet"] = "school_period_sheet"
    school_id: int  # checked again when sent
    school: str
    period_id: int
    period_kind: str
    period_number: int
    starts_on: date
    ends_on: date
    classes: tuple[ClassResults, ...]


class FewMarksSubject(_Frozen):
    subject: str
    teacher: str
    students: tuple[tuple[str, int], ...]  # name, numeric marks so far


class FewMarks(_Frozen):
    """Students short of marks before a period ends (seed 003 §8.4, seed 004 §5.2): to the
    subject teacher (`staff_id`) or, every subject together, to the class teacher."""

    kind: Literal["few_marks"] = "few_marks"
    staff_id: int | None = None  # checked again when sent; None: to the class teacher
    class_id: int  # checked again when sent
    class_label: str = Field(default="", alias="class")
    ends_on: date  # the period's last day
    min_marks: int
    subjects: tuple[FewMarksSubject, ...]


# --- between families and teachers: the message is read when sent ------------------------


class ContactNote(_Frozen):
    """A message of a family's thread with a teacher (services/contact.py): read when sent,
    with both sides' access checked again; an illness note carries the confirm button."""

    kind: Literal["contact"] = "contact"
    message_id: int
    # To the family: their illness note was confirmed as absences with a valid reason.
    confirmed: bool = False


StaffPayload = (
    Reminder | ClassWeek | DeputyWeek | ClassPeriodSheet | SchoolPeriodSheet | ClassDay | FewMarks
)
# Pushes that go as a file (sendDocument), the text being its caption.
DocumentPayload = (
    DeputyWeek | ClassPeriodSheet | SchoolPeriodSheet | PeriodReportCard | LeaverReport
)

Payload = Annotated[
    MarkChange
    | AttendanceChange
    | FinalGrades
    | NewHomework
    | Digest
    | Weekly
    | Reminder
    | ClassWeek
    | DeputyWeek
    | ClassPeriodSheet
    | SchoolPeriodSheet
    | ClassDay
    | FewMarks
    | PeriodReportCard
    | LeaverReport
    | ContactNote,
    Field(discriminator="kind"),
]

_PAYLOAD: TypeAdapter[Payload] = TypeAdapter(Payload)


def decode(stored: object) -> Payload:
    """A row's payload (JSON text, or as the driver reads `jsonb`) as its type; pydantic's
    ValidationError for one of no known kind."""
    if isinstance(stored, str | bytes):
        return _PAYLOAD.validate_json(stored)
    return _PAYLOAD.validate_python(stored)


def encode(payload: Payload) -> str:
    """The JSON stored in `notifications.payload`."""
    return _PAYLOAD.dump_json(payload).decode()
