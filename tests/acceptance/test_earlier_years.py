"""Earlier school years, read only (seed 000 §2.2, seed 001 §2.2): a family opens last year's
final grades and marks from the final grades screen; another family's child or a year of
another school is not found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply
from handlers.callbacks import YearsCb
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.factories import add_lesson, add_mark
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _last_year(session: AsyncSession, world: World) -> int:
    """2025/26: Миша was in 6Б, got 5, 4 and 4 in algebra, 4 for the year; the year's terms
    were quarters."""
    school = world.school
    year = m.AcademicYear(
        school_id=school.school_id,
        name="2025/26",
        starts_on=date(2025, 9, 1),
        ends_on=date(2026, 5, 31),
    )
    session.add(year)
    await session.flush()
    klass = m.SchoolClass(
        school_id=school.school_id, academic_year_id=year.id, grade=6, letter="Б"
    )
    session.add(klass)
    await session.flush()
    periods = []
    for kind, number, start, end in (
        ("quarter", 4, date(2026, 3, 30), date(2026, 5, 31)),
        ("year", 1, date(2025, 9, 1), date(2026, 5, 31)),
    ):
        period = m.Period(
            academic_year_id=year.id, kind=kind, number=number, starts_on=start, ends_on=end
        )
        session.add(period)
        periods.append(period)
    await session.flush()
    for day, value in ((date(2026, 4, 6), "5"), (date(2026, 4, 8), "4"), (date(2026, 4, 13), "4")):
        lesson = await add_lesson(session, school, day=day, slot=1, class_id=klass.id)
        await add_mark(session, student_id=school.student_id, lesson_id=lesson, value=value)
    for period, value in zip(periods, ("4", "4"), strict=True):
        session.add(
            m.FinalGrade(
                student_id=school.student_id,
                subject_id=school.subject_id,
                period_id=period.id,
                value=value,
                author_id=school.teacher_id,
            )
        )
    await session.flush()
    return year.id


def _shown(replies: list[Reply]) -> Reply:
    return [r for r in replies if r.method in {"sendMessage", "editMessageText"}][-1]


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_a_family_reads_last_years_grades_and_marks(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    await _last_year(session, world)
    parent = await linked(
        session, chat(81), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    switcher = await parent.send("👥 Другой ребёнок")
    await parent.press(switcher[-1].callback("Миша"))
    finals = _shown(await parent.send("🏁 Итоговые"))
    years = _shown(await parent.press(finals.callback("Прошлые годы")))
    assert "🗂 Прошлые учебные годы" in years.text
    shown = _shown(await parent.press(years.callback("2025/26, 6Б")))
    text = shown.text
    assert "🗂 2025/26 учебный год, 6Б класс" in text
    assert "Алгебра — IV: <b>4</b>, год: <b>4</b>" in text
    assert "Алгебра: 3 отметки (5×1 4×2), средний балл 4,33" in text
    # This year's marks are not last year's.
    assert "ноября" not in text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_another_childs_years_and_another_year_are_not_found(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    year_id = await _last_year(session, world)
    other = await linked(
        session, chat(82), PersonId(PersonKind.GUARDIAN, world.other_guardian), language="ru"
    )
    replies = await other.press(YearsCb(s=world.school.student_id, y=year_id).pack())
    assert [r.params.get("text") for r in replies if r.method == "answerCallbackQuery"] == [
        "Не найдено."
    ]
    # Миша's own parent and a year id that is this year's, not an earlier one.
    parent = await linked(
        session, chat(83), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    replies = await parent.press(YearsCb(s=world.school.student_id, y=world.school.year_id).pack())
    assert [r.params.get("text") for r in replies if r.method == "answerCallbackQuery"] == [
        "Не найдено."
    ]
