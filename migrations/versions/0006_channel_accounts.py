"""channel accounts: `tg_accounts` becomes `accounts`, keyed by (channel, the channel's user id)
with an id of its own, so that a second messenger (MAX) needs no change elsewhere

Existing Telegram accounts keep their id (their Telegram user id), so every row that refers to
an account (links, preferences, notifications, mutes, the audit log) stays right; new accounts
take ids from a sequence that starts above any Telegram user id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_NEW_ID = 2**53

# Each table that refers to an account, and its foreign key's name before.
_REFERENCES = (
    ("account_links", "fk_account_links_account_id_tg_accounts"),
    ("notification_prefs", "fk_notification_prefs_account_id_tg_accounts"),
    ("notifications", "fk_notifications_account_id_tg_accounts"),
    ("reminder_mutes", "fk_reminder_mutes_account_id_tg_accounts"),
)


def upgrade() -> None:
    op.rename_table("tg_accounts", "accounts")
    op.execute("ALTER TABLE accounts RENAME CONSTRAINT pk_tg_accounts TO pk_accounts")
    op.execute(
        "ALTER TABLE accounts RENAME CONSTRAINT fk_tg_accounts_selected_student_id_students"
        " TO fk_accounts_selected_student_id_students"
    )
    for table, name in _REFERENCES:
        op.execute(
            f"ALTER TABLE {table} RENAME CONSTRAINT {name}"
            f" TO {name.removesuffix('_tg_accounts')}_accounts"
        )
    op.add_column(
        "accounts",
        sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False),
    )
    op.add_column("accounts", sa.Column("channel_user_id", sa.BigInteger(), nullable=True))
    op.execute("UPDATE accounts SET channel_user_id = id")
    op.alter_column("accounts", "channel_user_id", nullable=False)
    op.create_check_constraint(
        op.f("ck_accounts_channel"), "accounts", "channel IN ('telegram', 'max')"
    )
    op.create_unique_constraint(
        op.f("uq_accounts_channel_channel_user_id"), "accounts", ["channel", "channel_user_id"]
    )
    op.execute("CREATE SEQUENCE accounts_id_seq OWNED BY accounts.id")
    # Telegram's user ids stay below 2**52: from 2**53 up, no new id meets a migrated one.
    op.execute(f"SELECT setval('accounts_id_seq', {FIRST_NEW_ID}, false)")
    op.execute("ALTER TABLE accounts ALTER COLUMN id SET DEFAULT nextval('accounts_id_seq')")


def downgrade() -> None:
    # Only Telegram accounts can go back to a table keyed by Telegram's user id.
    op.execute("DELETE FROM accounts WHERE channel <> 'telegram'")
    op.execute("ALTER TABLE accounts ALTER COLUMN id DROP DEFAULT")
    op.execute("DROP SEQUENCE accounts_id_seq")
    for table, _name in _REFERENCES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_account_id_accounts")
    # Every reference to an account follows it back to its Telegram user id.
    for table, column in (
        *((t, "account_id") for t, _n in _REFERENCES),
        ("audit_log", "account_id"),
        ("activation_codes", "used_by"),
    ):
        op.execute(
            f"UPDATE {table} r SET {column} = a.channel_user_id FROM accounts a"
            f" WHERE r.{column} = a.id AND a.id <> a.channel_user_id"
        )
    # In two steps, so that no id meets another account's old one half-way.
    op.execute("UPDATE accounts SET id = -id WHERE id <> channel_user_id")
    op.execute("UPDATE accounts SET id = channel_user_id WHERE id < 0")
    op.drop_constraint(op.f("uq_accounts_channel_channel_user_id"), "accounts", type_="unique")
    op.drop_constraint(op.f("ck_accounts_channel"), "accounts", type_="check")
    op.drop_column("accounts", "channel_user_id")
    op.drop_column("accounts", "channel")
    op.execute(
        "ALTER TABLE accounts RENAME CONSTRAINT fk_accounts_selected_student_id_students"
        " TO fk_tg_accounts_selected_student_id_students"
    )
    op.execute("ALTER TABLE accounts RENAME CONSTRAINT pk_accounts TO pk_tg_accounts")
    op.rename_table("accounts", "tg_accounts")
    for table, name in _REFERENCES:
        op.create_foreign_key(
            name, table, "tg_accounts", ["account_id"], ["id"], ondelete="CASCADE"
        )
