"""access holds: a person whose access was revoked stays unlinkable by phone until the school
gives a new code or restores the access (seed 002 §4.3–4.4)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_holds",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('guardian', 'student', 'staff')", name=op.f("ck_access_holds_kind")
        ),
        sa.PrimaryKeyConstraint("kind", "person_id", name=op.f("pk_access_holds")),
    )
    # Revocations made before this revision hold as well, for people not linked again since.
    op.execute(
        """
        INSERT INTO access_holds (kind, person_id, reason, since)
        SELECT DISTINCT ON (kind, person_id) kind, person_id, 'revoked', revoked_at
        FROM (
            SELECT role AS kind, coalesce(guardian_id, student_id, staff_id) AS person_id,
                   revoked_at
            FROM account_links
            WHERE revoked_reason <> 'logout' AND revoked_at IS NOT NULL
        ) r
        WHERE NOT EXISTS (
            SELECT 1 FROM account_links l
            WHERE l.revoked_at IS NULL AND l.role = r.kind
              AND coalesce(l.guardian_id, l.student_id, l.staff_id) = r.person_id
        )
        ORDER BY kind, person_id, revoked_at DESC
        """
    )


def downgrade() -> None:
    op.drop_table("access_holds")
