"""hardening: webhook updates already handled, so that a repeated delivery is processed once;
audit rows by action and time, for the global counts of wrong codes and refused presses;
scheduler runs by time, for retention; the error of a journal event that could not be handled

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_handled_updates")),
    )
    op.create_index(op.f("ix_handled_updates_at"), "handled_updates", ["at"])
    op.create_index(op.f("ix_audit_log_action_at"), "audit_log", ["action", "at"])
    op.create_index(op.f("ix_scheduler_runs_done_at"), "scheduler_runs", ["done_at"])
    op.add_column("journal_events", sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("journal_events", "error")
    op.drop_index(op.f("ix_scheduler_runs_done_at"), table_name="scheduler_runs")
    op.drop_index(op.f("ix_audit_log_action_at"), table_name="audit_log")
    op.drop_index(op.f("ix_handled_updates_at"), table_name="handled_updates")
    op.drop_table("handled_updates")
