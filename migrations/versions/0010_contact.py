"""talking to the school: a family's threads with the child's teachers, relayed by the bot
(seed 001 §2.6, §4.2.6; seed 003 §3.7, §7.2), and the school's switch for them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column(
        "schools",
        sa.Column("contact_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.create_table(
        "contact_threads",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("family_account_id", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("guardian_id", sa.BigInteger(), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["family_account_id"],
            ["accounts.id"],
            name=op.f("fk_contact_threads_family_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardians.id"],
            name=op.f("fk_contact_threads_guardian_id_guardians"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_contact_threads_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_contact_threads_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_threads")),
        sa.UniqueConstraint(
            "family_account_id",
            "student_id",
            "staff_id",
            name=op.f("uq_contact_threads_family_account_id_student_id_staff_id"),
        ),
    )
    op.create_index(
        op.f("ix_contact_threads_staff_id"), "contact_threads", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_contact_threads_student_id"), "contact_threads", ["student_id"], unique=False
    )
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("from_family", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="text", nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachment", sa.String(length=255), nullable=True),
        sa.Column("absence_day", sa.Date(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('text', 'illness')", name=op.f("ck_contact_messages_kind")),
        sa.CheckConstraint(
            "kind = 'illness' OR text IS NOT NULL OR attachment IS NOT NULL",
            name=op.f("ck_contact_messages_content"),
        ),
        sa.CheckConstraint(
            "(kind = 'illness') = (absence_day IS NOT NULL)",
            name=op.f("ck_contact_messages_absence_day"),
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["contact_threads.id"],
            name=op.f("fk_contact_messages_thread_id_contact_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_messages")),
    )
    op.create_index(
        op.f("ix_contact_messages_thread_id_id"),
        "contact_messages",
        ["thread_id", "id"],
        unique=False,
    )
    op.create_table(
        "contact_drafts",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_contact_drafts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["contact_threads.id"],
            name=op.f("fk_contact_drafts_thread_id_contact_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_contact_drafts")),
    )


def downgrade() -> None:
    op.drop_table("contact_drafts")
    op.drop_index(op.f("ix_contact_messages_thread_id_id"), table_name="contact_messages")
    op.drop_table("contact_messages")
    op.drop_index(op.f("ix_contact_threads_student_id"), table_name="contact_threads")
    op.drop_index(op.f("ix_contact_threads_staff_id"), table_name="contact_threads")
    op.drop_table("contact_threads")
    op.drop_column("schools", "contact_enabled")
