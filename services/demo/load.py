"""Loading the demo school (or a region of them, for benchmarks) into an empty journal, with
COPY and change capture off."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.demo.journal import Journal
from services.demo.people import Names, People
from services.demo.rows import COLUMNS, JOURNAL_TABLES, Ids, flush
from services.demo.school import ZONES, build_school

Progress = Callable[[str, int, int], None]

SCHOOL_SIZE = 1000  # students per school in a region


class DemoError(Exception):
    """The demo data cannot be loaded as asked; the message says why."""


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]
    school_id: int
    guardian_id: int  # a guardian with two children in different classes
    child_ids: tuple[int, ...]
    student_id: int
    teacher_id: int
    class_teacher_id: int
    class_id: int
    deputy_id: int

    def describe(self) -> str:
        c = self.counts
        return (
            f"{c['schools']} school(s), {c['students']} students, {c['guardians']} guardians, "
            f"{c['staff']} staff, {c['lessons']} lessons, {c['marks']} marks, "
            f"{c['attendance']} absences, {c['homework']} homework, "
            f"{c['final_grades']} final grades"
        )


async def has_schools(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return bool(
            (await connection.execute(text("SELECT EXISTS (SELECT 1 FROM schools)"))).scalar()
        )


async def seed_demo(
    engine: AsyncEngine,
    *,
    seed: int = 1,
    students: int | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    replace: bool = False,
) -> DemoSummary:
    """Load a demo school (or a region of `students` students) into an empty journal.

    Deterministic for a given seed and day. History is loaded with change capture off, so no
    notifications are produced for it.
    """
    # The demo school (the first) lies in the first zone: its today.
    today = today or datetime.now(ZoneInfo(ZONES[0])).date()
    total = students if students is not None else 720
    if total < 1:
        raise DemoError("the number of students must be positive")
    report = progress or (lambda stage, done, count: None)
    rng = random.Random(seed)
    names = Names.build(seed)
    counts: dict[str, int] = defaultdict(int)
    persona: dict[str, Any] = {}
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        pg: Any = raw.driver_connection
        async with pg.transaction():
            if await pg.fetchval("SELECT EXISTS (SELECT 1 FROM schools)"):
                if not replace:
                    raise DemoError(
                        "the database already has a school: use --replace to load the demo "
                        "instead (this deletes the journal's data)"
                    )
                await pg.execute(
                    "TRUNCATE " + ", ".join(JOURNAL_TABLES) + ", journal_events, account_links,"
                    " activation_codes, notification_prefs, audit_log RESTART IDENTITY CASCADE"
                )
            await pg.execute("SET LOCAL journal.capture = 'off'")
            ids = Ids()
            for table, columns in COLUMNS.items():
                if "id" in columns:
                    ids.next[table] = int(
                        await pg.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
                    )
            schools = max(1, math.ceil(total / SCHOOL_SIZE)) if students else 1
            left = total
            for index in range(schools):
                size = min(left, SCHOOL_SIZE) if students else total
                left -= size
                school = build_school(index=index, rng=rng, ids=ids, today=today)
                people = People(school, names=names, students=size)
                people.build()
                await flush(pg, school.rows, counts)
                classes = len(people.classes)
                for done, _ in enumerate(Journal(school, people).build_journal(), start=1):
                    if len(school.rows.tables["marks"]) > 200_000:
                        await flush(pg, school.rows, counts)
                    report(f"school {index + 1}/{schools}: journal", done, classes)
                # The journal is written here, most of the load's time: its own bar.
                stage = f"school {index + 1}/{schools}: writing"

                def writing(done: int, count: int, stage: str = stage) -> None:
                    report(stage, done, count)

                await flush(pg, school.rows, counts, writing)
                if index == 0:
                    first_class = people.classes[-1]
                    persona = {
                        **people.persona,
                        "school_id": school.school_id,
                        "student_id": next(
                            k.students[0] for k in people.classes if k.grade >= 5 and k.students
                        ),
                        "teacher_id": people.teacher_of[(first_class.id, "Алгебра", None)],
                        "class_teacher_id": people.class_teacher[first_class.id],
                        "class_id": first_class.id,
                        "deputy_id": people.deputy,
                    }
            # The sequences, the commit and the statistics: the last step of the bar.
            report("finishing", 0, 2)
            for table, columns in COLUMNS.items():
                if "id" in columns:
                    await pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" greatest((SELECT max(id) FROM {table}), 1))"
                    )
        report("finishing", 1, 2)
        # The planner's statistics of the fresh tables; then the database is ready.
        await pg.execute("ANALYZE")
        report("finishing", 2, 2)
    counts["schools"] = counts.get("schools", 0)
    return DemoSummary(
        counts=dict(counts),
        school_id=persona["school_id"],
        guardian_id=persona.get("guardian_id", 0),
        child_ids=persona.get("child_ids", ()),
        student_id=persona["student_id"],
        teacher_id=persona["teacher_id"],
        class_teacher_id=persona["class_teacher_id"],
        class_id=persona["class_id"],
        deputy_id=persona["deputy_id"],
    )
