"""ingest: the journal program's own ids of our rows, the API's tokens and its idempotent
requests; pupils', guardians' and staff's sex as the program has it; the day a guardianship ended

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = (
    "class",
    "subgroup",
    "subject",
    "student",
    "guardian",
    "staff",
    "lesson",
    "homework",
    "mark",
    "attendance",
    "final_grade",
)


_PEOPLE = ("students", "guardians", "staff")


def upgrade() -> None:
    for table in _PEOPLE:
        op.add_column(table, sa.Column("sex", sa.String(length=1), nullable=True))
        op.create_check_constraint(op.f(f"ck_{table}_sex"), table, "sex IN ('m', 'f')")
    op.add_column("guardianships", sa.Column("ended_on", sa.Date(), nullable=True))
    op.create_table(
        "external_ids",
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in _KINDS) + ")",
            name=op.f("ck_external_ids_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_external_ids_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "kind", "external_id", name=op.f("pk_external_ids")),
    )
    op.create_index(op.f("ix_external_ids_kind_local_id"), "external_ids", ["kind", "local_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_api_tokens_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_school_id"), "api_tokens", ["school_id"])
    op.create_table(
        "api_requests",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_requests_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "idempotency_key", name=op.f("pk_api_requests")),
    )
    op.create_index(op.f("ix_api_requests_created_at"), "api_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_api_requests_created_at"), table_name="api_requests")
    op.drop_table("api_requests")
    op.drop_index(op.f("ix_api_tokens_school_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_external_ids_kind_local_id"), table_name="external_ids")
    op.drop_table("external_ids")
    op.drop_column("guardianships", "ended_on")
    for table in _PEOPLE:
        op.drop_constraint(op.f(f"ck_{table}_sex"), table, type_="check")
        op.drop_column(table, "sex")
