"""reminders: planned work and topic times on lessons, mutes, told gaps, scheduler runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# When a topic was first written: the deputy's report measures "on time" with it
# (seed 004 §4.6.5), whoever wrote it, this bot or another program.
_TOPIC_AT = """
CREATE FUNCTION lessons_topic_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.topic IS NULL OR btrim(NEW.topic) = '' THEN
        NEW.topic_at := NULL;
    ELSIF TG_OP = 'INSERT' THEN
        NEW.topic_at := coalesce(NEW.topic_at, clock_timestamp());
    ELSIF OLD.topic IS NULL OR btrim(OLD.topic) = '' THEN
        NEW.topic_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$
"""
_TOPIC_AT_TRIGGER = """
CREATE TRIGGER lessons_topic_at BEFORE INSERT OR UPDATE OF topic ON lessons
    FOR EACH ROW EXECUTE FUNCTION lessons_topic_at();
"""


def upgrade() -> None:
    op.add_column("lessons", sa.Column("work_kind_id", sa.BigInteger(), nullable=True))
    op.add_column("lessons", sa.Column("topic_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(
        op.f("fk_lessons_work_kind_id_work_kinds"),
        "lessons",
        "work_kinds",
        ["work_kind_id"],
        ["id"],
    )
    op.execute(_TOPIC_AT)
    op.execute(_TOPIC_AT_TRIGGER)
    op.create_table(
        "reminder_mutes",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["tg_accounts.id"],
            name=op.f("fk_reminder_mutes_account_id_tg_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "category", name=op.f("pk_reminder_mutes")),
    )
    op.create_table(
        "reminder_told",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("gap", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_reminder_told_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "day", "gap", name=op.f("pk_reminder_told")),
    )
    op.create_table(
        "scheduler_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("run_key", sa.String(length=200), nullable=False),
        sa.Column(
            "done_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("job", "run_key", name=op.f("pk_scheduler_runs")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_runs")
    op.drop_table("reminder_told")
    op.drop_table("reminder_mutes")
    op.execute("DROP TRIGGER lessons_topic_at ON lessons")
    op.execute("DROP FUNCTION lessons_topic_at()")
    op.drop_constraint(op.f("fk_lessons_work_kind_id_work_kinds"), "lessons", type_="foreignkey")
    op.drop_column("lessons", "topic_at")
    op.drop_column("lessons", "work_kind_id")
