"""A seed-004 school with quarters and half-years side by side (seed 004 §5.1–5.2): each
class's screens and forecast show its own period, through the real dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply
from handlers.callbacks import FinalsCb, MarksCb, MarksView
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.factories import add_staff
from tests.fixtures.linking import linked
from tests.fixtures.periods import TwoKinds

# Monday 23 November 2026, 12:00 in Moscow: 7Б's second quarter, 10А's first half-year.
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _screen(replies: list[Reply]) -> str:
    shown = [r for r in replies if r.method in {"sendMessage", "editMessageText"}]
    assert shown, [r.method for r in replies]
    return str(shown[-1].params["text"])


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_each_classs_marks_and_forecast_show_its_own_period(
    session: AsyncSession, two_kinds: TwoKinds, chat: Callable[..., Chat]
) -> None:
    misha, polina = two_kinds.school.student_id, two_kinds.polina
    parent = await linked(
        session,
        chat(81),
        PersonId(PersonKind.GUARDIAN, two_kinds.school.guardian_id),
        language="ru",
    )

    async def show(student: int, view: MarksView) -> str:
        return _screen(await parent.press(MarksCb(s=student, v=view).pack()))

    # 7Б: the second quarter; the October 2 belongs to the first.
    marks = await show(misha, MarksView.PERIOD)
    assert "📘 Отметки, 2-я четверть (3 нояб. – 28 дек.)" in marks
    assert "Алгебра</b>: 5 — ср. 5,00" in marks
    forecast = await show(misha, MarksView.FORECAST)
    assert "📈 Прогноз итоговых отметок, 2-я четверть" in forecast
    assert "Прогноз за период: <b>5</b>." in forecast
    # 10А: the first half-year, from September, October's 5 included.
    marks = await show(polina, MarksView.PERIOD)
    assert "📘 Отметки, 1-е полугодие (1 сент. – 28 дек.)" in marks
    assert "Алгебра</b>: 5 2 — ср. 3,50" in marks
    forecast = await show(polina, MarksView.FORECAST)
    assert "📈 Прогноз итоговых отметок, 1-е полугодие" in forecast
    assert "Средневзвешенный балл: 3,50. Прогноз за период: <b>4</b>." in forecast


# Monday 28 December 2026, 12:00 in Moscow: the last day of the quarter and the half-year.
TERM_END_NOON = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)


@time_machine.travel(TERM_END_NOON, tick=False)
async def test_each_classs_final_grades_are_by_its_own_periods(
    session: AsyncSession, two_kinds: TwoKinds, chat: Callable[..., Chat]
) -> None:
    school = two_kinds.school
    session.add_all(
        [
            m.FinalGrade(
                student_id=school.student_id,
                subject_id=school.subject_id,
                period_id=two_kinds.q1,
                value="2",
            ),
            m.FinalGrade(
                student_id=two_kinds.polina,
                subject_id=school.subject_id,
                period_id=two_kinds.h1,
                value="4",
            ),
        ]
    )
    await session.commit()
    parent = await linked(
        session, chat(83), PersonId(PersonKind.GUARDIAN, school.guardian_id), language="ru"
    )
    finals = _screen(await parent.press(FinalsCb(s=two_kinds.polina).pack()))
    assert "Алгебра — I: <b>4</b>" in finals
    assert "I, II — полугодия учебного года." in finals
    finals = _screen(await parent.press(FinalsCb(s=school.student_id).pack()))
    assert "Алгебра — I: <b>2</b>" in finals
    assert "I–IV — четверти учебного года." in finals


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_the_class_teacher_of_a_senior_class_sees_its_half_year(
    session: AsyncSession, two_kinds: TwoKinds, chat: Callable[..., Chat]
) -> None:
    teacher = await add_staff(
        session,
        two_kinds.school,
        first_name="Вера",
        last_name="Кузнецова",
        roles=("subject_teacher", "class_teacher"),
        class_id=two_kinds.tenth,
    )
    await session.commit()
    chat_ = await linked(session, chat(82), PersonId(PersonKind.STAFF, teacher), language="ru")
    screen = _screen(await chat_.send("🏫 Мой класс"))
    assert "🏫 10А класс, 1-е полугодие" in screen
    assert "Иванова Полина — 3,50" in screen
