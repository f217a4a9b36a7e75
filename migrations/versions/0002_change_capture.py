"""change capture: outbox triggers, append-only revisions, current-value views

Every write to marks, final grades, attendance, lessons and homework, whoever makes it (this
project, an import, or another program with plain SQL), adds events to `journal_events` in the
writer's own transaction and wakes listeners with NOTIFY. A rolled-back write leaves nothing.

Triggers are per statement with transition tables, so a bulk INSERT or COPY of a quarter's final
grades costs one INSERT ... SELECT, not a function call per row. NOTIFY carries no payload, so
PostgreSQL folds all notifications of a transaction into one.

Setting `journal.capture = off` (SET LOCAL) skips capture for bulk loads of historical data
such as the demo school; ordinary writers never set it.

Marks and final grades are append-only (seed 003 §8.6: corrections are never silent): UPDATE and
DELETE are refused unless `journal.allow_purge = on`, which only the archive retention job sets
(seed 002 §3.4: journals are kept 5 years).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "journal_events"

FUNCTIONS = f"""
CREATE FUNCTION journal_capture_enabled() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('journal.capture', true), '') <> 'off'
$$;

CREATE FUNCTION journal_notify() RETURNS void
LANGUAGE sql AS $$ SELECT pg_notify('{CHANNEL}', '') $$;

-- Marks and final grades: one event per inserted revision, with the revision it replaces.
CREATE FUNCTION capture_revisions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prefix text := TG_ARGV[0];
    inserted bigint;
BEGIN
    IF NOT journal_capture_enabled() THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'marks' THEN
        INSERT INTO journal_events (kind, table_name, row_id, student_id, lesson_id, old, new)
        SELECT prefix || CASE WHEN n.replaces_id IS NULL THEN '.new'
                              WHEN n.value IS NULL THEN '.removed'
                              ELSE '.corrected' END,
               TG_TABLE_NAME, n.id, n.student_id, n.lesson_id,
               (SELECT to_jsonb(o) FROM marks o WHERE o.id = n.replaces_id),
               to_jsonb(n)
        FROM new_rows n
        ORDER BY n.id;
    ELSE
        INSERT INTO journal_events (kind, table_name, row_id, student_id, lesson_id, old, new)
        SELECT prefix || CASE WHEN n.replaces_id IS NULL THEN '.new'
                              WHEN n.value IS NULL THEN '.removed'
                              ELSE '.corrected' END,
               TG_TABLE_NAME, n.id, n.student_id, NULL,
               (SELECT to_jsonb(o) FROM final_grades o WHERE o.id = n.replaces_id),
               to_jsonb(n)
        FROM new_rows n
        ORDER BY n.id;
    END IF;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted > 0 THEN
        PERFORM journal_notify();
    END IF;
    RETURN NULL;
END
$$;

-- Attendance, lessons, homework: mutable rows; one event per changed row.
-- TG_ARGV[0] is the event prefix, TG_ARGV[1] the column holding the lesson id.
CREATE FUNCTION capture_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prefix text := TG_ARGV[0];
    lesson_col text := TG_ARGV[1];
    inserted bigint;
BEGIN
    IF NOT journal_capture_enabled() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO journal_events (kind, table_name, row_id, student_id, lesson_id, old, new)
        SELECT prefix || '.new', TG_TABLE_NAME, (j->>'id')::bigint,
               (j->>'student_id')::bigint, (j->>lesson_col)::bigint, NULL, j
        FROM (SELECT to_jsonb(n) AS j FROM new_rows n) s
        ORDER BY (j->>'id')::bigint;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO journal_events (kind, table_name, row_id, student_id, lesson_id, old, new)
        SELECT prefix || '.changed', TG_TABLE_NAME, (nj->>'id')::bigint,
               (nj->>'student_id')::bigint, (nj->>lesson_col)::bigint, oj, nj
        FROM (SELECT to_jsonb(o) AS oj, to_jsonb(n) AS nj
              FROM old_rows o JOIN new_rows n ON n.id = o.id) s
        -- A touch of updated_at alone is not a change anybody needs to hear about.
        WHERE (oj - 'updated_at') IS DISTINCT FROM (nj - 'updated_at')
        ORDER BY (nj->>'id')::bigint;
    ELSE
        INSERT INTO journal_events (kind, table_name, row_id, student_id, lesson_id, old, new)
        SELECT prefix || '.removed', TG_TABLE_NAME, (j->>'id')::bigint,
               (j->>'student_id')::bigint, (j->>lesson_col)::bigint, j, NULL
        FROM (SELECT to_jsonb(o) AS j FROM old_rows o) s
        ORDER BY (j->>'id')::bigint;
    END IF;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted > 0 THEN
        PERFORM journal_notify();
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('journal.allow_purge', true), '') = 'on'
       AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows are append-only: insert a new revision with replaces_id and a reason',
        TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

-- A revision must replace a revision of the same mark: same student and lesson (subject and
-- period for final grades).
CREATE FUNCTION check_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
BEGIN
    IF NEW.replaces_id IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'marks' THEN
        SELECT o.student_id = NEW.student_id AND o.lesson_id = NEW.lesson_id INTO ok
        FROM marks o WHERE o.id = NEW.replaces_id;
    ELSE
        SELECT o.student_id = NEW.student_id AND o.subject_id = NEW.subject_id
               AND o.period_id = NEW.period_id INTO ok
        FROM final_grades o WHERE o.id = NEW.replaces_id;
    END IF;
    IF ok IS DISTINCT FROM true THEN
        RAISE EXCEPTION 'revision % of % replaces a revision of another record',
            NEW.id, TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER marks_capture AFTER INSERT ON marks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION capture_revisions('mark');

CREATE TRIGGER marks_append_only BEFORE UPDATE OR DELETE ON marks
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();

CREATE TRIGGER marks_check_revision BEFORE INSERT ON marks
    FOR EACH ROW WHEN (NEW.replaces_id IS NOT NULL) EXECUTE FUNCTION check_revision();

CREATE TRIGGER final_grades_capture AFTER INSERT ON final_grades
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION capture_revisions('final');

CREATE TRIGGER final_grades_append_only BEFORE UPDATE OR DELETE ON final_grades
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();

CREATE TRIGGER final_grades_check_revision BEFORE INSERT ON final_grades
    FOR EACH ROW WHEN (NEW.replaces_id IS NOT NULL) EXECUTE FUNCTION check_revision();
"""

MUTABLE = {
    # table: (event prefix, column with the lesson id)
    "attendance": ("attendance", "lesson_id"),
    "lessons": ("lesson", "id"),
    "homework": ("homework", "lesson_id"),
}

VIEWS = """
-- The current revision of each mark: the one nothing replaces, unless it is a removal.
CREATE VIEW current_marks AS
SELECT m.*
FROM marks m
WHERE m.value IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM marks r WHERE r.replaces_id = m.id);

CREATE VIEW current_final_grades AS
SELECT f.*
FROM final_grades f
WHERE f.value IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM final_grades r WHERE r.replaces_id = f.id);
"""


def _each(sql: str) -> list[str]:
    """Statements separated by blank lines: asyncpg runs one statement per call."""
    return [chunk.strip() for chunk in sql.split("\n\n") if chunk.strip()]


def upgrade() -> None:
    for statement in (*_each(FUNCTIONS), *_each(TRIGGERS), *_each(VIEWS)):
        op.execute(statement)
    for table, (prefix, lesson_col) in MUTABLE.items():
        for when, transition in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_capture_{when.lower()} AFTER {when} ON {table} "
                f"REFERENCING {transition} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION capture_rows('{prefix}', '{lesson_col}')"
            )
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
        )


def downgrade() -> None:
    op.execute("DROP VIEW current_final_grades")
    op.execute("DROP VIEW current_marks")
    for table in MUTABLE:
        for when in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_capture_{when} ON {table}")
        op.execute(f"DROP TRIGGER {table}_touch ON {table}")
    for table in ("marks", "final_grades"):
        for name in ("capture", "append_only", "check_revision"):
            op.execute(f"DROP TRIGGER {table}_{name} ON {table}")
    for function in (
        "touch_updated_at",
        "check_revision",
        "refuse_rewrite",
        "capture_rows",
        "capture_revisions",
        "journal_notify",
        "journal_capture_enabled",
    ):
        op.execute(f"DROP FUNCTION {function}()")
