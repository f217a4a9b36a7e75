"""The demo's seed-004 school keeps quarters and half-years (seed 004 §5.1–5.2), class by class."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services import demo
from services.demo import sandbox

# The second quarter and the first half-year: only the first quarter has ended.
TODAY = date(2026, 11, 23)

_FINALS_BY_GRADE = text(
    """
    SELECT c.grade, p.kind, count(*)
    FROM final_grades f
    JOIN periods p ON p.id = f.period_id
    JOIN students s ON s.id = f.student_id
    JOIN classes c ON c.id = s.class_id
    WHERE s.school_id = :school
    GROUP BY c.grade, p.kind
    """
)


async def test_the_demos_seed004_school_gives_each_grade_its_own_periods_finals(
    committing_engine: AsyncEngine,
) -> None:
    # Seed 6 makes a region whose second school follows seed 004.
    await demo.seed_demo(committing_engine, seed=6, students=1500, today=TODAY)
    async with committing_engine.connect() as connection:
        school = (
            await connection.execute(text("SELECT id FROM schools WHERE profile = 'seed004'"))
        ).scalar_one()
        kinds = set(
            (
                await connection.execute(
                    text(
                        "SELECT p.kind FROM periods p JOIN academic_years y"
                        " ON y.id = p.academic_year_id WHERE y.school_id = :school"
                    ),
                    {"school": school},
                )
            ).scalars()
        )
        assert kinds == {"quarter", "half_year", "year"}
        finals = {
            (grade, kind): count
            for grade, kind, count in await connection.execute(
                _FINALS_BY_GRADE, {"school": school}
            )
        }
        # The first quarter's grades for grades 2–9; none yet for 10–11, whose half-year runs.
        assert {kind for _, kind in finals} == {"quarter"}
        assert {grade for grade, _ in finals} == set(range(2, 10))
        first_of: dict[int, int] = {}
        for grade in (7, 10):
            first_of[grade] = (
                await connection.execute(
                    text(
                        "SELECT min(s.id) FROM students s JOIN classes c ON c.id = s.class_id"
                        " WHERE s.school_id = :school AND c.grade = :grade"
                    ),
                    {"school": school, "grade": grade},
                )
            ).scalar_one()
    # The offline chat's `:final`: the period each class is in now.
    for student, kind in ((first_of[7], "quarter"), (first_of[10], "half_year")):
        event = await sandbox.add_finals(committing_engine, student, TODAY)
        assert int(event.detail) > 0
        async with committing_engine.connect() as connection:
            written = (
                await connection.execute(
                    text(
                        "SELECT DISTINCT p.kind, p.number FROM final_grades f"
                        " JOIN periods p ON p.id = f.period_id"
                        " WHERE f.student_id = :s AND p.starts_on <= :today"
                        " AND p.ends_on >= :today"
                    ),
                    {"s": student, "today": TODAY},
                )
            ).all()
        assert written == [(kind, 2 if kind == "quarter" else 1)]
