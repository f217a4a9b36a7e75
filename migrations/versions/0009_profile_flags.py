"""profile flags: a kind of work done for internal monitoring (seed 002 §2.11) and a lesson at
which no homework is set (seed 002 §2.7 "если задается")

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds both columns without rewriting the tables.
    op.add_column(
        "work_kinds",
        sa.Column(
            "internal_monitoring", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.add_column(
        "lessons",
        sa.Column("no_homework", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("lessons", "no_homework")
    op.drop_column("work_kinds", "internal_monitoring")
