"""The demo's rows before they are written: ids assigned ahead, columns per table, and COPY in
the order of the foreign keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The journal's tables the demo fills, parents before children.
JOURNAL_TABLES = [
    "schools",
    "academic_years",
    "periods",
    "holidays",
    "classes",
    "subjects",
    "subgroups",
    "work_kinds",
    "students",
    "subgroup_members",
    "guardians",
    "guardianships",
    "consents",
    "staff",
    "staff_roles",
    "teaching_assignments",
    "lessons",
    "homework",
    "marks",
    "attendance",
    "final_grades",
]


@dataclass
class Ids:
    """Ids assigned here so that rows can refer to each other before they are written."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.tables[table].append(row)


COLUMNS: dict[str, list[str]] = {
    "schools": ["id", "name", "timezone", "profile", "overrides"],
    "academic_years": ["id", "school_id", "name", "starts_on", "ends_on"],
    "periods": ["id", "academic_year_id", "kind", "number", "starts_on", "ends_on"],
    "holidays": ["id", "academic_year_id", "name", "starts_on", "ends_on"],
    "classes": ["id", "school_id", "academic_year_id", "grade", "letter", "shift"],
    "subjects": ["id", "school_id", "name", "short_name"],
    "subgroups": ["id", "class_id", "subject_id", "name"],
    "work_kinds": ["id", "school_id", "code", "name", "weight", "is_written", "is_control"],
    "students": [
        "id",
        "school_id",
        "class_id",
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "phone",
    ],
    "subgroup_members": ["subgroup_id", "student_id"],
    "guardians": ["id", "last_name", "first_name", "middle_name", "phone"],
    "guardianships": ["guardian_id", "student_id", "relation"],
    "consents": ["id", "student_id", "guardian_id", "given_on", "document"],
    "staff": ["id", "school_id", "last_name", "first_name", "middle_name", "phone"],
    "staff_roles": ["id", "staff_id", "role", "class_id"],
    "teaching_assignments": ["id", "staff_id", "class_id", "subject_id", "subgroup_id"],
    "lessons": [
        "id",
        "school_id",
        "class_id",
        "subgroup_id",
        "subject_id",
        "teacher_id",
        "substitute_teacher_id",
        "date",
        "slot",
        "starts_at",
        "ends_at",
        "room",
        "topic",
        "attendance_taken_at",
        "topic_at",
        "work_kind_id",
    ],
    "homework": ["id", "lesson_id", "due_date", "text", "author_id", "created_at"],
    "marks": [
        "id",
        "student_id",
        "lesson_id",
        "work_kind_id",
        "value",
        "weight",
        "comment",
        "author_id",
        "replaces_id",
        "reason",
        "created_at",
    ],
    "attendance": [
        "id",
        "student_id",
        "lesson_id",
        "kind",
        "reason",
        "is_valid",
        "minutes_late",
        "author_id",
    ],
    "final_grades": [
        "id",
        "student_id",
        "subject_id",
        "period_id",
        "value",
        "author_id",
        "replaces_id",
        "reason",
        "created_at",
    ],
}


# Rows per COPY: small enough for the progress bar to move while the marks are written.
COPY_CHUNK = 20_000


async def flush(
    pg: Any,
    rows: Rows,
    counts: dict[str, int],
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """COPY the rows gathered so far (asyncpg connection `pg`) and count them; `progress`
    is told (rows written, rows in all) after each chunk."""
    total = sum(len(rows.tables.get(table) or ()) for table in JOURNAL_TABLES)
    done = 0
    if progress is not None:
        progress(done, total)
    # Parents before children: the order of JOURNAL_TABLES follows the foreign keys.
    for table in JOURNAL_TABLES:
        batch = rows.tables.get(table)
        if not batch:
            continue
        for start in range(0, len(batch), COPY_CHUNK):
            chunk = batch[start : start + COPY_CHUNK]
            await pg.copy_records_to_table(table, records=chunk, columns=COLUMNS[table])
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        counts[table] += len(batch)
        batch.clear()
