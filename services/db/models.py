"""The journal schema (school, people, lessons, marks) and the bot's own tables."""

from __future__ import annotations

import datetime as dt
import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.db.base import Base, CreatedMixin, IdMixin
from services.zones import DEFAULT_TIMEZONE


def _check_in(column: str, values: type[enum.StrEnum]) -> str:
    """SQL for `column IN (...)`: enums are CHECK constraints, easy to extend in migrations."""
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"


class PeriodKind(enum.StrEnum):
    QUARTER = "quarter"
    TRIMESTER = "trimester"
    HALF_YEAR = "half_year"
    YEAR = "year"
    EXAM = "exam"
    FINAL = "final"


class MarkValue(enum.StrEnum):
    """Five-point marks and the special marks of the regulations (seed 002 §2.8)."""

    FIVE = "5"
    FOUR = "4"
    THREE = "3"
    TWO = "2"
    ONE = "1"
    NOT_ATTESTED = "н/а"
    EXEMPT = "осв"
    NO_MARKS = "безотм"
    PASS = "зач"
    FAIL = "незач"


class StaffRole(enum.StrEnum):
    SUBJECT_TEACHER = "subject_teacher"
    CLASS_TEACHER = "class_teacher"
    DEPUTY_DIRECTOR = "deputy_director"
    ADMINISTRATOR = "administrator"


class AttendanceKind(enum.StrEnum):
    ABSENT = "absent"
    LATE = "late"


class AbsenceReason(enum.StrEnum):
    ILLNESS = "illness"
    CERTIFICATE = "certificate"
    PARENT_REQUEST = "parent_request"
    SCHOOL_EVENT = "school_event"
    OTHER = "other"
    UNKNOWN = "unknown"


class LinkRole(enum.StrEnum):
    GUARDIAN = "guardian"
    STUDENT = "student"
    STAFF = "staff"


# --- school structure ------------------------------------------------------------------


class School(IdMixin, CreatedMixin, Base):
    __tablename__ = "schools"

    name: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64), server_default=DEFAULT_TIMEZONE)
    # The regulation profile (a key of services.profiles) and single-value overrides.
    profile: Mapped[str] = mapped_column(String(64), server_default="default")
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Families may write to their children's teachers through the bot (services/contact.py).
    contact_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class AcademicYear(IdMixin, Base):
    __tablename__ = "academic_years"
    __table_args__ = (
        UniqueConstraint("school_id", "starts_on"),
        CheckConstraint("starts_on < ends_on", name="dates"),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Period(IdMixin, Base):
    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("academic_year_id", "kind", "number"),
        CheckConstraint(_check_in("kind", PeriodKind), name="kind"),
        CheckConstraint("starts_on <= ends_on", name="dates"),
    )

    academic_year_id: Mapped[int] = mapped_column(
        ForeignKey("academic_years.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(SmallInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Holiday(IdMixin, Base):
    __tablename__ = "holidays"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="dates"),
        Index(None, "academic_year_id", "starts_on"),
    )

    academic_year_id: Mapped[int] = mapped_column(
        ForeignKey("academic_years.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class SchoolClass(IdMixin, Base):
    __tablename__ = "classes"
    __table_args__ = (
        UniqueConstraint("academic_year_id", "grade", "letter"),
        CheckConstraint("grade BETWEEN 1 AND 11", name="grade"),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    academic_year_id: Mapped[int] = mapped_column(
        ForeignKey("academic_years.id", ondelete="CASCADE")
    )
    grade: Mapped[int] = mapped_column(SmallInteger)
    letter: Mapped[str] = mapped_column(String(4))
    # The shift matters for the homework deadline of seed 000 §5.5.
    shift: Mapped[int] = mapped_column(SmallInteger, server_default="1")


class Subject(IdMixin, Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(32))


class Subgroup(IdMixin, Base):
    __tablename__ = "subgroups"
    __table_args__ = (UniqueConstraint("class_id", "subject_id", "name"),)

    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    name: Mapped[str] = mapped_column(String(64))


class WorkKind(IdMixin, Base):
    """A kind of work and its weight in the weighted average."""

    __tablename__ = "work_kinds"
    __table_args__ = (
        UniqueConstraint("school_id", "code"),
        CheckConstraint("weight > 0", name="weight"),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    weight: Mapped[Decimal] = mapped_column(Numeric(4, 2), server_default="1")
    # Written work has a marking deadline (seed 000 §5.3, seed 002 §2.11–2.12).
    is_written: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_control: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Control work "в рамках внутреннего мониторинга качества образования": seed 002 §2.11
    # gives it 3 days, ordinary written and control work a week (§2.12).
    internal_monitoring: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


# --- people ----------------------------------------------------------------------------

_SEX = "sex IN ('m', 'f')"


class Student(IdMixin, CreatedMixin, Base):
    __tablename__ = "students"
    __table_args__ = (
        Index(None, "class_id"),
        Index(None, "school_id", "last_name"),
        CheckConstraint(_SEX, name="sex"),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    # "m" or "f", as the journal program has it: Russian texts agree with it.
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    left_at: Mapped[date | None] = mapped_column(Date)


class SubgroupMember(Base):
    __tablename__ = "subgroup_members"
    __table_args__ = (Index(None, "student_id"),)

    subgroup_id: Mapped[int] = mapped_column(
        ForeignKey("subgroups.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), primary_key=True
    )


class Guardian(IdMixin, CreatedMixin, Base):
    """A legal representative; not bound to one school, children may study in several."""

    __tablename__ = "guardians"
    __table_args__ = (Index(None, "phone"), CheckConstraint(_SEX, name="sex"))

    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    # "m" or "f", as the journal program has it: Russian texts agree with it.
    sex: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20))


class Guardianship(Base):
    __tablename__ = "guardianships"
    __table_args__ = (Index(None, "student_id"),)

    guardian_id: Mapped[int] = mapped_column(
        ForeignKey("guardians.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), primary_key=True
    )
    relation: Mapped[str] = mapped_column(String(32), server_default="parent")
    # The day the school's roster stopped naming this guardian for the child; the row is kept.
    ended_on: Mapped[date | None] = mapped_column(Date)


class Consent(IdMixin, CreatedMixin, Base):
    """A parent's written consent to process the child's data (seed 003 §1.5)."""

    __tablename__ = "consents"
    __table_args__ = (
        Index(None, "student_id", unique=True, postgresql_where=text("revoked_at IS NULL")),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("guardians.id", ondelete="SET NULL")
    )
    given_on: Mapped[date] = mapped_column(Date)
    document: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]


class Staff(IdMixin, CreatedMixin, Base):
    __tablename__ = "staff"
    __table_args__ = (
        Index(None, "school_id"),
        Index(None, "phone"),
        CheckConstraint(_SEX, name="sex"),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    # "m" or "f", as the journal program has it: Russian texts agree with it.
    sex: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20))
    left_at: Mapped[date | None] = mapped_column(Date)


class StaffRoleAssignment(IdMixin, Base):
    __tablename__ = "staff_roles"
    __table_args__ = (
        CheckConstraint(_check_in("role", StaffRole), name="role"),
        CheckConstraint(
            "(role = 'class_teacher') = (class_id IS NOT NULL)", name="class_teacher_class"
        ),
        UniqueConstraint("staff_id", "role", "class_id"),
        # One class teacher per class.
        Index(
            None,
            "class_id",
            unique=True,
            postgresql_where=text("role = 'class_teacher'"),
        ),
    )

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))


class TeachingAssignment(IdMixin, Base):
    """Who teaches which subject to which class (or subgroup)."""

    __tablename__ = "teaching_assignments"
    __table_args__ = (
        UniqueConstraint("staff_id", "class_id", "subject_id", "subgroup_id"),
        Index(None, "class_id", "subject_id"),
    )

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    subgroup_id: Mapped[int | None] = mapped_column(ForeignKey("subgroups.id", ondelete="CASCADE"))


# --- the journal -----------------------------------------------------------------------


class Lesson(IdMixin, CreatedMixin, Base):
    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="times"),
        CheckConstraint("slot BETWEEN 0 AND 15", name="slot"),
        Index(None, "class_id", "date"),
        Index(None, "teacher_id", "date"),
        Index(
            None,
            "substitute_teacher_id",
            "date",
            postgresql_where=text("substitute_teacher_id IS NOT NULL"),
        ),
        Index(None, "school_id", "date"),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subgroup_id: Mapped[int | None] = mapped_column(ForeignKey("subgroups.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    substitute_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    slot: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    room: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(Text)
    # When the topic was first written (a trigger keeps it), for the deputy's report.
    topic_at: Mapped[datetime | None]
    # The written or control work planned for the lesson, whose marks have a deadline
    # (seed 000 §5.3, seed 002 §2.11–2.12).
    work_kind_id: Mapped[int | None] = mapped_column(ForeignKey("work_kinds.id"))
    # Set when the teacher has marked attendance, so "nobody absent" differs from "not taken".
    attendance_taken_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # No homework is set at this lesson ("в случае, если домашнее задание задается", seed 002
    # §2.7): its homework is not missing.
    no_homework: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Homework(IdMixin, CreatedMixin, Base):
    __tablename__ = "homework"
    __table_args__ = (Index(None, "lesson_id"), Index(None, "due_date"))

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    due_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Mark(IdMixin, CreatedMixin, Base):
    """One revision of a mark. Rows are never updated or deleted (seed 003 §8.6).

    A correction or removal is a new row whose `replaces_id` points at the revision it
    supersedes; `value` is NULL for a removal. The current mark is the revision that nothing
    replaces (view `current_marks`).
    """

    __tablename__ = "marks"
    __table_args__ = (
        CheckConstraint(_check_in("value", MarkValue), name="value"),
        CheckConstraint("value IS NOT NULL OR replaces_id IS NOT NULL", name="removal"),
        CheckConstraint("weight IS NULL OR weight > 0", name="weight"),
        CheckConstraint("replaces_id IS NULL OR reason IS NOT NULL", name="reason"),
        Index(None, "student_id", "lesson_id"),
        Index(None, "lesson_id"),
        # A revision is replaced at most once: history is a chain, never a fork.
        Index(None, "replaces_id", unique=True, postgresql_where=text("replaces_id IS NOT NULL")),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    work_kind_id: Mapped[int | None] = mapped_column(ForeignKey("work_kinds.id"))
    value: Mapped[str | None] = mapped_column(String(8))
    # NULL means the kind of work's weight.
    weight: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("marks.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class Attendance(IdMixin, CreatedMixin, Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("student_id", "lesson_id"),
        CheckConstraint(_check_in("kind", AttendanceKind), name="kind"),
        CheckConstraint(_check_in("reason", AbsenceReason), name="reason"),
        CheckConstraint("minutes_late IS NULL OR kind = 'late'", name="minutes_late"),
        Index(None, "lesson_id"),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), server_default="absent")
    reason: Mapped[str] = mapped_column(String(32), server_default="unknown")
    is_valid: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    minutes_late: Mapped[int | None] = mapped_column(SmallInteger)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class FinalGrade(IdMixin, CreatedMixin, Base):
    """One revision of a final grade for a period; append-only like `Mark`."""

    __tablename__ = "final_grades"
    __table_args__ = (
        CheckConstraint(_check_in("value", MarkValue), name="value"),
        CheckConstraint("value IS NOT NULL OR replaces_id IS NOT NULL", name="removal"),
        CheckConstraint("replaces_id IS NULL OR reason IS NOT NULL", name="reason"),
        Index(None, "student_id", "period_id"),
        Index(None, "period_id", "subject_id"),
        Index(None, "replaces_id", unique=True, postgresql_where=text("replaces_id IS NOT NULL")),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    value: Mapped[str | None] = mapped_column(String(8))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("final_grades.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class JournalEvent(IdMixin, Base):
    """The change-capture outbox, written by triggers in the writer's own transaction."""

    __tablename__ = "journal_events"
    __table_args__ = (
        Index(None, "id", postgresql_where=text("processed_at IS NULL")),
        Index(None, "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[int] = mapped_column(BigInteger)
    student_id: Mapped[int | None] = mapped_column(BigInteger)
    lesson_id: Mapped[int | None] = mapped_column(BigInteger)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # clock_timestamp(), not now(): latency is measured from the write, not the BEGIN.
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    processed_at: Mapped[datetime | None]
    # Why the event could not be turned into notifications (it is processed all the same).
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")


# --- the bot's side --------------------------------------------------------------------


class Channel(enum.StrEnum):
    """The messengers an account can come from."""

    TELEGRAM = "telegram"
    MAX = "max"


class Account(IdMixin, CreatedMixin, Base):
    """A person's account in one messenger, keyed by (channel, the channel's user id)."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("channel", "channel_user_id"),
        CheckConstraint(_check_in("channel", Channel), name="channel"),
    )

    channel: Mapped[str] = mapped_column(String(16), server_default=Channel.TELEGRAM.value)
    # The messenger's own user id; Telegram's private chats share it as chat id.
    channel_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    blocked_at: Mapped[datetime | None]
    selected_student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="SET NULL")
    )
    quiet_from: Mapped[time] = mapped_column(Time, server_default="21:00")
    quiet_to: Mapped[time] = mapped_column(Time, server_default="08:00")
    low_mark_threshold: Mapped[int] = mapped_column(SmallInteger, server_default="2")
    digest_time: Mapped[time] = mapped_column(Time, server_default="19:00")
    last_seen_at: Mapped[datetime | None]


class AccountLink(IdMixin, CreatedMixin, Base):
    """An account's proven identity: exactly one of guardian, student or staff."""

    __tablename__ = "account_links"
    __table_args__ = (
        CheckConstraint(_check_in("role", LinkRole), name="role"),
        CheckConstraint(
            "(role = 'guardian' AND guardian_id IS NOT NULL AND student_id IS NULL"
            " AND staff_id IS NULL) OR "
            "(role = 'student' AND student_id IS NOT NULL AND guardian_id IS NULL"
            " AND staff_id IS NULL) OR "
            "(role = 'staff' AND staff_id IS NOT NULL AND guardian_id IS NULL"
            " AND student_id IS NULL)",
            name="one_person",
        ),
        Index(None, "account_id", postgresql_where=text("revoked_at IS NULL")),
        Index(None, "guardian_id", postgresql_where=text("revoked_at IS NULL")),
        Index(None, "student_id", postgresql_where=text("revoked_at IS NULL")),
        Index(None, "staff_id", postgresql_where=text("revoked_at IS NULL")),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id", ondelete="CASCADE"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))


class ActivationCode(IdMixin, CreatedMixin, Base):
    """A one-time code; only its HMAC is stored."""

    __tablename__ = "activation_codes"
    __table_args__ = (
        CheckConstraint("num_nonnulls(guardian_id, student_id, staff_id) = 1", name="one_person"),
        Index(None, "guardian_id"),
        Index(None, "student_id"),
        Index(None, "staff_id"),
    )

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id", ondelete="CASCADE"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None]


class NotificationPreference(IdMixin, Base):
    """Per category (and optionally per child): immediately, digest or off."""

    __tablename__ = "notification_prefs"
    __table_args__ = (
        CheckConstraint("mode IN ('immediate', 'digest', 'off')", name="mode"),
        Index(
            None,
            "account_id",
            "category",
            text("coalesce(student_id, 0)"),
            unique=True,
        ),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


class Notification(IdMixin, Base):
    """One message to one account: the delivery queue (SPEC §5).

    At most one row per (account, dedup_key), so an event is never queued twice for the same
    person; the text is composed when the message is sent, in the recipient's language.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("account_id", "dedup_key"),
        CheckConstraint(_check_in("status", NotificationStatus), name="status"),
        Index(None, "not_before", postgresql_where=text("status = 'pending'")),
        Index(None, "status", "created_at"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    student_id: Mapped[int | None] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    # Not sent before this moment: the end of quiet hours, a digest's time, a correction hold.
    not_before: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    # A sender that claimed the row holds it until then; after a crash the lease runs out.
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    sent_at: Mapped[datetime | None]


class AuditEntry(IdMixin, Base):
    """Who did what to which person's data; never message texts."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "account_id", "action", "at"),
        Index(None, "student_id", "at"),
        Index(None, "at"),
        # The region-wide counts of wrong codes and refused presses within the last hour.
        Index(None, "action", "at"),
    )

    at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(32), server_default="bot")
    action: Mapped[str] = mapped_column(String(48))
    student_id: Mapped[int | None] = mapped_column(BigInteger)
    guardian_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class ReminderMute(Base):
    """A teacher's reminders of one category snoozed until a moment, or off (until NULL)."""

    __tablename__ = "reminder_mutes"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    until: Mapped[datetime | None]


class ReminderTold(Base):
    """A gap a teacher was told of on a day: never told twice the same day."""

    __tablename__ = "reminder_told"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    gap: Mapped[str] = mapped_column(String(100), primary_key=True)


class SchedulerRun(Base):
    """A scheduled job's run that has happened: its key makes a second run a no-op."""

    __tablename__ = "scheduler_runs"
    # Retention deletes old runs by age.
    __table_args__ = (Index(None, "done_at"),)

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())


class HandledUpdate(Base):
    """A Telegram update a webhook process has taken on: a repeated delivery is skipped.

    Used when Redis is not configured; rows older than an hour are deleted as claims go by.
    """

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)


# --- what the school's journal program sends ------------------------------------------


class ExternalKind(enum.StrEnum):
    """The kinds of rows a school's journal program names by ids of its own."""

    CLASS = "class"
    SUBGROUP = "subgroup"
    SUBJECT = "subject"
    STUDENT = "student"
    GUARDIAN = "guardian"
    STAFF = "staff"
    LESSON = "lesson"
    HOMEWORK = "homework"
    MARK = "mark"
    ATTENDANCE = "attendance"
    FINAL_GRADE = "final_grade"


class ExternalId(Base):
    """The journal program's id of one of our rows, per school and kind.

    For marks and final grades `local_id` is the first revision of the chain; the current one
    is found from it. Importing the same id again updates the row it names.
    """

    __tablename__ = "external_ids"
    __table_args__ = (
        CheckConstraint(_check_in("kind", ExternalKind), name="kind"),
        Index(None, "kind", "local_id"),
    )

    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_id: Mapped[int] = mapped_column(BigInteger)


class ApiToken(IdMixin, CreatedMixin, Base):
    """A school's bearer token for the ingest API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "school_id"),)

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiRequest(Base):
    """An ingest request made with an Idempotency-Key, and the answer it got."""

    __tablename__ = "api_requests"
    __table_args__ = (Index(None, "created_at"),)

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The request's method, path and body hashed: the same key with another request is refused.
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())


class AccessHold(Base):
    """A person whose access the school ended (seed 002 §4.3–4.4: operations after a reported
    compromise are void): phone login cannot link them again until a new code from the school
    is redeemed or `journalbot access restore` lifts the hold."""

    __tablename__ = "access_holds"
    __table_args__ = (CheckConstraint(_check_in("kind", LinkRole), name="kind"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime]


# --- talking to the school: families and teachers through the bot ---------------------------


class ContactKind(enum.StrEnum):
    TEXT = "text"  # a text, a photo (a certificate) or both
    ILLNESS = "illness"  # "the child is ill today": the class teacher confirms it in one press


class ContactThread(IdMixin, CreatedMixin, Base):
    """One family account's correspondence with one teacher about one child (seed 001 §2.6,
    §4.2.6; seed 003 §3.7, §7.2): relayed by the bot, neither side sees the other's contacts."""

    __tablename__ = "contact_threads"
    __table_args__ = (
        UniqueConstraint("family_account_id", "student_id", "staff_id"),
        Index(None, "staff_id"),
        Index(None, "student_id"),
    )

    family_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    # The guardian the family side writes as (their name as the journal has it); NULL for the
    # student's own account.
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("guardians.id", ondelete="SET NULL")
    )
    last_at: Mapped[datetime | None]


class ContactMessage(IdMixin, CreatedMixin, Base):
    """One message of a thread, either way; `attachment` is the messenger's file id."""

    __tablename__ = "contact_messages"
    __table_args__ = (
        CheckConstraint(_check_in("kind", ContactKind), name="kind"),
        CheckConstraint(
            "kind = 'illness' OR text IS NOT NULL OR attachment IS NOT NULL", name="content"
        ),
        CheckConstraint("(kind = 'illness') = (absence_day IS NOT NULL)", name="absence_day"),
        Index(None, "thread_id", "id"),
    )

    thread_id: Mapped[int] = mapped_column(ForeignKey("contact_threads.id", ondelete="CASCADE"))
    from_family: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(16), server_default=ContactKind.TEXT.value)
    text: Mapped[str | None] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(255))
    # An illness note: the day it is about (the school's date when it was written), and when
    # the class teacher confirmed it as absences with a valid reason.
    absence_day: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None]


class ContactDraft(Base):
    """The thread an account is writing in now: its next text or photo goes there."""

    __tablename__ = "contact_drafts"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(ForeignKey("contact_threads.id", ondelete="CASCADE"))
    until: Mapped[datetime]
