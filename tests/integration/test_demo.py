"""The demo school is realistic, deterministic and produces no notifications."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services import demo

TODAY = date(2026, 11, 23)


async def _scalar(engine: AsyncEngine, sql: str) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar()


async def test_demo_school(committing_engine: AsyncEngine) -> None:
    summary = await demo.seed_demo(committing_engine, seed=7, today=TODAY)
    engine = committing_engine
    assert summary.counts["students"] == 720
    assert summary.counts["schools"] == 1
    # Seed 001 §4.3.6: grade 1 gets no marks at all.
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM marks m JOIN students s ON s.id = m.student_id
        JOIN classes c ON c.id = s.class_id WHERE c.grade = 1""",
        )
        == 0
    )
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM classes c WHERE NOT EXISTS (SELECT 1 FROM staff_roles r
        WHERE r.role = 'class_teacher' AND r.class_id = c.id)""",
        )
        == 0
    )
    # The guardian persona has two children in different classes, both with consent.
    assert len(summary.child_ids) == 2
    assert (
        await _scalar(
            engine,
            f"""
        SELECT count(DISTINCT s.class_id) FROM guardianships g JOIN students s
        ON s.id = g.student_id JOIN consents c ON c.student_id = s.id
        WHERE g.guardian_id = {summary.guardian_id}""",
        )
        == 2
    )
    # Corrections have reasons and stay with the same student and lesson.
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM marks r JOIN marks o ON o.id = r.replaces_id
        WHERE r.reason IS NULL OR r.student_id <> o.student_id
           OR r.lesson_id <> o.lesson_id""",
        )
        == 0
    )
    assert (
        int(str(await _scalar(engine, "SELECT count(*) FROM marks WHERE replaces_id IS NOT NULL")))
        > 0
    )
    # Q1 has ended: its final grades are there; Q2 is running: none yet.
    assert (
        int(
            str(
                await _scalar(
                    engine,
                    """
        SELECT count(*) FROM final_grades f JOIN periods p ON p.id = f.period_id
        WHERE p.kind = 'quarter' AND p.number = 1""",
                )
            )
        )
        > 5000
    )
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM final_grades f JOIN periods p ON p.id = f.period_id
        WHERE p.number = 2""",
        )
        == 0
    )
    share_of_twos = float(
        str(
            await _scalar(
                engine,
                """
        SELECT avg((value = '2')::int) FROM current_marks""",
            )
        )
    )
    assert 0.02 < share_of_twos < 0.12
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM lessons l WHERE extract(isodow FROM l.date) > 5
           OR EXISTS (SELECT 1 FROM holidays h WHERE l.date BETWEEN h.starts_on AND h.ends_on)
    """,
        )
        == 0
    )
    # No marks, topics or attendance in the future; homework exists.
    assert (
        await _scalar(
            engine,
            f"""
        SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id
        WHERE l.date >= '{TODAY}'""",
        )
        == 0
    )
    assert int(str(await _scalar(engine, "SELECT count(*) FROM homework"))) > 1000
    # History is loaded with change capture off: no flood of notifications.
    assert await _scalar(engine, "SELECT count(*) FROM journal_events") == 0
    # Sequences continue after the loaded ids.
    assert (
        int(str(await _scalar(engine, "SELECT nextval(pg_get_serial_sequence('marks','id'))")))
        > summary.counts["marks"]
    )

    digest = await _scalar(
        engine,
        """
        SELECT md5(string_agg(s.last_name || s.first_name || coalesce(m.value, ''), ','
                              ORDER BY m.id))
        FROM marks m JOIN students s ON s.id = m.student_id""",
    )
    with pytest.raises(demo.DemoError):
        await demo.seed_demo(committing_engine, seed=7, today=TODAY)
    await demo.seed_demo(committing_engine, seed=7, today=TODAY, replace=True)
    assert (
        await _scalar(
            engine,
            """
        SELECT md5(string_agg(s.last_name || s.first_name || coalesce(m.value, ''), ','
                              ORDER BY m.id))
        FROM marks m JOIN students s ON s.id = m.student_id""",
        )
        == digest
    )


async def test_region_of_several_schools(committing_engine: AsyncEngine) -> None:
    summary = await demo.seed_demo(committing_engine, seed=3, students=2500, today=TODAY)
    assert summary.counts["students"] == 2500
    assert summary.counts["schools"] == 3
    assert await _scalar(committing_engine, "SELECT count(*) FROM students") == 2500
