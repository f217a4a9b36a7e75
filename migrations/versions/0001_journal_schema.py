"""journal schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=32), server_default="bot", nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=True),
        sa.Column("guardian_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        op.f("ix_audit_log_account_id_action_at"),
        "audit_log",
        ["account_id", "action", "at"],
        unique=False,
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(
        op.f("ix_audit_log_student_id_at"), "audit_log", ["student_id", "at"], unique=False
    )
    op.create_table(
        "guardians",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardians")),
    )
    op.create_index(op.f("ix_guardians_phone"), "guardians", ["phone"], unique=False)
    op.create_table(
        "journal_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=True),
        sa.Column("lesson_id", sa.BigInteger(), nullable=True),
        sa.Column("old", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_events")),
    )
    op.create_index(
        op.f("ix_journal_events_created_at"), "journal_events", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_journal_events_id"),
        "journal_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "schools",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "timezone", sa.String(length=64), server_default="Europe/Moscow", nullable=False
        ),
        sa.Column("profile", sa.String(length=64), server_default="default", nullable=False),
        sa.Column(
            "overrides",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
    )
    op.create_table(
        "academic_years",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint("starts_on < ends_on", name=op.f("ck_academic_years_dates")),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_academic_years_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_academic_years")),
        sa.UniqueConstraint(
            "school_id", "starts_on", name=op.f("uq_academic_years_school_id_starts_on")
        ),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("left_at", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_staff_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_index(op.f("ix_staff_phone"), "staff", ["phone"], unique=False)
    op.create_index(op.f("ix_staff_school_id"), "staff", ["school_id"], unique=False)
    op.create_table(
        "subjects",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_subjects_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("school_id", "name", name=op.f("uq_subjects_school_id_name")),
    )
    op.create_table(
        "work_kinds",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("weight", sa.Numeric(precision=4, scale=2), server_default="1", nullable=False),
        sa.Column("is_written", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_control", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("weight > 0", name=op.f("ck_work_kinds_weight")),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_work_kinds_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_kinds")),
        sa.UniqueConstraint("school_id", "code", name=op.f("uq_work_kinds_school_id_code")),
    )
    op.create_table(
        "classes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("academic_year_id", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("letter", sa.String(length=4), nullable=False),
        sa.Column("shift", sa.SmallInteger(), server_default="1", nullable=False),
        sa.CheckConstraint("grade BETWEEN 1 AND 11", name=op.f("ck_classes_grade")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_years.id"],
            name=op.f("fk_classes_academic_year_id_academic_years"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_classes_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classes")),
        sa.UniqueConstraint(
            "academic_year_id",
            "grade",
            "letter",
            name=op.f("uq_classes_academic_year_id_grade_letter"),
        ),
    )
    op.create_table(
        "holidays",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("academic_year_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_holidays_dates")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_years.id"],
            name=op.f("fk_holidays_academic_year_id_academic_years"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holidays")),
    )
    op.create_index(
        op.f("ix_holidays_academic_year_id_starts_on"),
        "holidays",
        ["academic_year_id", "starts_on"],
        unique=False,
    )
    op.create_table(
        "periods",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("academic_year_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('quarter', 'trimester', 'half_year', 'year', 'exam', 'final')",
            name=op.f("ck_periods_kind"),
        ),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_periods_dates")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_years.id"],
            name=op.f("fk_periods_academic_year_id_academic_years"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periods")),
        sa.UniqueConstraint(
            "academic_year_id",
            "kind",
            "number",
            name=op.f("uq_periods_academic_year_id_kind_number"),
        ),
    )
    op.create_table(
        "staff_roles",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("class_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(role = 'class_teacher') = (class_id IS NOT NULL)",
            name=op.f("ck_staff_roles_class_teacher_class"),
        ),
        sa.CheckConstraint(
            "role IN ('subject_teacher', 'class_teacher', 'deputy_director', 'administrator')",
            name=op.f("ck_staff_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_staff_roles_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_roles_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_roles")),
        sa.UniqueConstraint(
            "staff_id", "role", "class_id", name=op.f("uq_staff_roles_staff_id_role_class_id")
        ),
    )
    op.create_index(
        op.f("ix_staff_roles_class_id"),
        "staff_roles",
        ["class_id"],
        unique=True,
        postgresql_where=sa.text("role = 'class_teacher'"),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("class_id", sa.BigInteger(), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("left_at", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_students_class_id_classes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_students_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_students")),
    )
    op.create_index(op.f("ix_students_class_id"), "students", ["class_id"], unique=False)
    op.create_index(
        op.f("ix_students_school_id_last_name"),
        "students",
        ["school_id", "last_name"],
        unique=False,
    )
    op.create_table(
        "subgroups",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("class_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_subgroups_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subgroups_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subgroups")),
        sa.UniqueConstraint(
            "class_id", "subject_id", "name", name=op.f("uq_subgroups_class_id_subject_id_name")
        ),
    )
    op.create_table(
        "activation_codes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("guardian_id", sa.BigInteger(), nullable=True),
        sa.Column("student_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "num_nonnulls(guardian_id, student_id, staff_id) = 1",
            name=op.f("ck_activation_codes_one_person"),
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardians.id"],
            name=op.f("fk_activation_codes_guardian_id_guardians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_activation_codes_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_activation_codes_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_activation_codes_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_activation_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_activation_codes_guardian_id"), "activation_codes", ["guardian_id"], unique=False
    )
    op.create_index(
        op.f("ix_activation_codes_staff_id"), "activation_codes", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_activation_codes_student_id"), "activation_codes", ["student_id"], unique=False
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("guardian_id", sa.BigInteger(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("document", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardians.id"],
            name=op.f("fk_consents_guardian_id_guardians"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_consents_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(
        op.f("ix_consents_student_id"),
        "consents",
        ["student_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "final_grades",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("period_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("replaces_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "value IN ('5', '4', '3', '2', '1', 'н/а', 'осв', 'безотм', 'зач', 'незач')",
            name=op.f("ck_final_grades_value"),
        ),
        sa.CheckConstraint(
            "replaces_id IS NULL OR reason IS NOT NULL", name=op.f("ck_final_grades_reason")
        ),
        sa.CheckConstraint(
            "value IS NOT NULL OR replaces_id IS NOT NULL", name=op.f("ck_final_grades_removal")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_final_grades_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_final_grades_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["final_grades.id"],
            name=op.f("fk_final_grades_replaces_id_final_grades"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_final_grades_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_final_grades_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_final_grades")),
    )
    op.create_index(
        op.f("ix_final_grades_period_id_subject_id"),
        "final_grades",
        ["period_id", "subject_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_final_grades_replaces_id"),
        "final_grades",
        ["replaces_id"],
        unique=True,
        postgresql_where=sa.text("replaces_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_final_grades_student_id_period_id"),
        "final_grades",
        ["student_id", "period_id"],
        unique=False,
    )
    op.create_table(
        "guardianships",
        sa.Column("guardian_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.String(length=32), server_default="parent", nullable=False),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardians.id"],
            name=op.f("fk_guardianships_guardian_id_guardians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_guardianships_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guardian_id", "student_id", name=op.f("pk_guardianships")),
    )
    op.create_index(
        op.f("ix_guardianships_student_id"), "guardianships", ["student_id"], unique=False
    )
    op.create_table(
        "lessons",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("class_id", sa.BigInteger(), nullable=False),
        sa.Column("subgroup_id", sa.BigInteger(), nullable=True),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("teacher_id", sa.BigInteger(), nullable=False),
        sa.Column("substitute_teacher_id", sa.BigInteger(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("room", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("attendance_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("slot BETWEEN 0 AND 15", name=op.f("ck_lessons_slot")),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_lessons_times")),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_lessons_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_lessons_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subgroup_id"],
            ["subgroups.id"],
            name=op.f("fk_lessons_subgroup_id_subgroups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_lessons_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["substitute_teacher_id"],
            ["staff.id"],
            name=op.f("fk_lessons_substitute_teacher_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["staff.id"], name=op.f("fk_lessons_teacher_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
    )
    op.create_index(
        op.f("ix_lessons_class_id_date"), "lessons", ["class_id", "date"], unique=False
    )
    op.create_index(
        op.f("ix_lessons_school_id_date"), "lessons", ["school_id", "date"], unique=False
    )
    op.create_index(
        op.f("ix_lessons_substitute_teacher_id_date"),
        "lessons",
        ["substitute_teacher_id", "date"],
        unique=False,
        postgresql_where=sa.text("substitute_teacher_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_lessons_teacher_id_date"), "lessons", ["teacher_id", "date"], unique=False
    )
    op.create_table(
        "subgroup_members",
        sa.Column("subgroup_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_subgroup_members_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subgroup_id"],
            ["subgroups.id"],
            name=op.f("fk_subgroup_members_subgroup_id_subgroups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subgroup_id", "student_id", name=op.f("pk_subgroup_members")),
    )
    op.create_index(
        op.f("ix_subgroup_members_student_id"), "subgroup_members", ["student_id"], unique=False
    )
    op.create_table(
        "teaching_assignments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("class_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("subgroup_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_teaching_assignments_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_teaching_assignments_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subgroup_id"],
            ["subgroups.id"],
            name=op.f("fk_teaching_assignments_subgroup_id_subgroups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_teaching_assignments_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teaching_assignments")),
        sa.UniqueConstraint(
            "staff_id",
            "class_id",
            "subject_id",
            "subgroup_id",
            name=op.f("uq_teaching_assignments_staff_id_class_id_subject_id_subgroup_id"),
        ),
    )
    op.create_index(
        op.f("ix_teaching_assignments_class_id_subject_id"),
        "teaching_assignments",
        ["class_id", "subject_id"],
        unique=False,
    )
    op.create_table(
        "tg_accounts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("selected_student_id", sa.BigInteger(), nullable=True),
        sa.Column("quiet_from", sa.Time(), server_default="21:00", nullable=False),
        sa.Column("quiet_to", sa.Time(), server_default="08:00", nullable=False),
        sa.Column("low_mark_threshold", sa.SmallInteger(), server_default="2", nullable=False),
        sa.Column("digest_time", sa.Time(), server_default="19:00", nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["selected_student_id"],
            ["students.id"],
            name=op.f("fk_tg_accounts_selected_student_id_students"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tg_accounts")),
    )
    op.create_table(
        "account_links",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("guardian_id", sa.BigInteger(), nullable=True),
        sa.Column("student_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(role = 'guardian' AND guardian_id IS NOT NULL AND student_id IS NULL AND staff_id IS NULL) OR (role = 'student' AND student_id IS NOT NULL AND guardian_id IS NULL AND staff_id IS NULL) OR (role = 'staff' AND staff_id IS NOT NULL AND guardian_id IS NULL AND student_id IS NULL)",
            name=op.f("ck_account_links_one_person"),
        ),
        sa.CheckConstraint(
            "role IN ('guardian', 'student', 'staff')", name=op.f("ck_account_links_role")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["tg_accounts.id"],
            name=op.f("fk_account_links_account_id_tg_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardians.id"],
            name=op.f("fk_account_links_guardian_id_guardians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_account_links_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_account_links_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
    )
    op.create_index(
        op.f("ix_account_links_account_id"),
        "account_links",
        ["account_id"],
        unique=False,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index(
        op.f("ix_account_links_guardian_id"),
        "account_links",
        ["guardian_id"],
        unique=False,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index(
        op.f("ix_account_links_staff_id"),
        "account_links",
        ["staff_id"],
        unique=False,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index(
        op.f("ix_account_links_student_id"),
        "account_links",
        ["student_id"],
        unique=False,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("lesson_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="absent", nullable=False),
        sa.Column("reason", sa.String(length=32), server_default="unknown", nullable=False),
        sa.Column("is_valid", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("minutes_late", sa.SmallInteger(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('absent', 'late')", name=op.f("ck_attendance_kind")),
        sa.CheckConstraint(
            "minutes_late IS NULL OR kind = 'late'", name=op.f("ck_attendance_minutes_late")
        ),
        sa.CheckConstraint(
            "reason IN ('illness', 'certificate', 'parent_request', 'school_event', 'other', 'unknown')",
            name=op.f("ck_attendance_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_attendance_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_attendance_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_attendance_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint(
            "student_id", "lesson_id", name=op.f("uq_attendance_student_id_lesson_id")
        ),
    )
    op.create_index(op.f("ix_attendance_lesson_id"), "attendance", ["lesson_id"], unique=False)
    op.create_table(
        "homework",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("lesson_id", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_homework_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_homework_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homework")),
    )
    op.create_index(op.f("ix_homework_due_date"), "homework", ["due_date"], unique=False)
    op.create_index(op.f("ix_homework_lesson_id"), "homework", ["lesson_id"], unique=False)
    op.create_table(
        "marks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("lesson_id", sa.BigInteger(), nullable=False),
        sa.Column("work_kind_id", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.String(length=8), nullable=True),
        sa.Column("weight", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("replaces_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "value IN ('5', '4', '3', '2', '1', 'н/а', 'осв', 'безотм', 'зач', 'незач')",
            name=op.f("ck_marks_value"),
        ),
        sa.CheckConstraint(
            "replaces_id IS NULL OR reason IS NOT NULL", name=op.f("ck_marks_reason")
        ),
        sa.CheckConstraint(
            "value IS NOT NULL OR replaces_id IS NOT NULL", name=op.f("ck_marks_removal")
        ),
        sa.CheckConstraint("weight IS NULL OR weight > 0", name=op.f("ck_marks_weight")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_marks_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_marks_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["marks.id"], name=op.f("fk_marks_replaces_id_marks")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_marks_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_kind_id"], ["work_kinds.id"], name=op.f("fk_marks_work_kind_id_work_kinds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marks")),
    )
    op.create_index(op.f("ix_marks_lesson_id"), "marks", ["lesson_id"], unique=False)
    op.create_index(
        op.f("ix_marks_replaces_id"),
        "marks",
        ["replaces_id"],
        unique=True,
        postgresql_where=sa.text("replaces_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_marks_student_id_lesson_id"), "marks", ["student_id", "lesson_id"], unique=False
    )
    op.create_table(
        "notification_prefs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "mode IN ('immediate', 'digest', 'off')", name=op.f("ck_notification_prefs_mode")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["tg_accounts.id"],
            name=op.f("fk_notification_prefs_account_id_tg_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_notification_prefs_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_prefs")),
    )
    op.create_index(
        op.f("ix_notification_prefs_account_id_category"),
        "notification_prefs",
        ["account_id", "category", sa.literal_column("coalesce(student_id, 0)")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_notification_prefs_account_id_category"), table_name="notification_prefs"
    )
    op.drop_table("notification_prefs")
    op.drop_index(op.f("ix_marks_student_id_lesson_id"), table_name="marks")
    op.drop_index(
        op.f("ix_marks_replaces_id"),
        table_name="marks",
        postgresql_where=sa.text("replaces_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_marks_lesson_id"), table_name="marks")
    op.drop_table("marks")
    op.drop_index(op.f("ix_homework_lesson_id"), table_name="homework")
    op.drop_index(op.f("ix_homework_due_date"), table_name="homework")
    op.drop_table("homework")
    op.drop_index(op.f("ix_attendance_lesson_id"), table_name="attendance")
    op.drop_table("attendance")
    op.drop_index(
        op.f("ix_account_links_student_id"),
        table_name="account_links",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_index(
        op.f("ix_account_links_staff_id"),
        table_name="account_links",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_index(
        op.f("ix_account_links_guardian_id"),
        table_name="account_links",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_index(
        op.f("ix_account_links_account_id"),
        table_name="account_links",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_table("account_links")
    op.drop_table("tg_accounts")
    op.drop_index(
        op.f("ix_teaching_assignments_class_id_subject_id"), table_name="teaching_assignments"
    )
    op.drop_table("teaching_assignments")
    op.drop_index(op.f("ix_subgroup_members_student_id"), table_name="subgroup_members")
    op.drop_table("subgroup_members")
    op.drop_index(op.f("ix_lessons_teacher_id_date"), table_name="lessons")
    op.drop_index(
        op.f("ix_lessons_substitute_teacher_id_date"),
        table_name="lessons",
        postgresql_where=sa.text("substitute_teacher_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_lessons_school_id_date"), table_name="lessons")
    op.drop_index(op.f("ix_lessons_class_id_date"), table_name="lessons")
    op.drop_table("lessons")
    op.drop_index(op.f("ix_guardianships_student_id"), table_name="guardianships")
    op.drop_table("guardianships")
    op.drop_index(op.f("ix_final_grades_student_id_period_id"), table_name="final_grades")
    op.drop_index(
        op.f("ix_final_grades_replaces_id"),
        table_name="final_grades",
        postgresql_where=sa.text("replaces_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_final_grades_period_id_subject_id"), table_name="final_grades")
    op.drop_table("final_grades")
    op.drop_index(
        op.f("ix_consents_student_id"),
        table_name="consents",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_table("consents")
    op.drop_index(op.f("ix_activation_codes_student_id"), table_name="activation_codes")
    op.drop_index(op.f("ix_activation_codes_staff_id"), table_name="activation_codes")
    op.drop_index(op.f("ix_activation_codes_guardian_id"), table_name="activation_codes")
    op.drop_table("activation_codes")
    op.drop_table("subgroups")
    op.drop_index(op.f("ix_students_school_id_last_name"), table_name="students")
    op.drop_index(op.f("ix_students_class_id"), table_name="students")
    op.drop_table("students")
    op.drop_index(
        op.f("ix_staff_roles_class_id"),
        table_name="staff_roles",
        postgresql_where=sa.text("role = 'class_teacher'"),
    )
    op.drop_table("staff_roles")
    op.drop_table("periods")
    op.drop_index(op.f("ix_holidays_academic_year_id_starts_on"), table_name="holidays")
    op.drop_table("holidays")
    op.drop_table("classes")
    op.drop_table("work_kinds")
    op.drop_table("subjects")
    op.drop_index(op.f("ix_staff_school_id"), table_name="staff")
    op.drop_index(op.f("ix_staff_phone"), table_name="staff")
    op.drop_table("staff")
    op.drop_table("academic_years")
    op.drop_table("schools")
    op.drop_index(
        op.f("ix_journal_events_id"),
        table_name="journal_events",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_index(op.f("ix_journal_events_created_at"), table_name="journal_events")
    op.drop_table("journal_events")
    op.drop_index(op.f("ix_guardians_phone"), table_name="guardians")
    op.drop_table("guardians")
    op.drop_index(op.f("ix_audit_log_student_id_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_account_id_action_at"), table_name="audit_log")
    op.drop_table("audit_log")
