"""A mark or final grade against the school's profile on the family's screens, through the real
dispatcher: shown as under review, its value hidden, left out of the average (seed 000 §5.8,
seed 004 §5.3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import time_machine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.factories import add_lesson, add_mark, add_subject
from tests.fixtures.linking import linked
from tests.fixtures.schools import MONDAY, World

MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEGEND = "🔍 на проверке: эту запись проверяет школа, она пока не учитывается."


def _screen(replies: list[Reply]) -> Reply:
    shown = [r for r in replies if r.method in {"sendMessage", "editMessageText"}]
    assert shown, [r.method for r in replies]
    return shown[-1]


async def _mishas_parent(session: AsyncSession, world: World, chat: Callable[..., Chat]) -> Chat:
    parent = await linked(
        session, chat(91), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    switcher = await parent.send("👥 Другой ребёнок")
    await parent.press(switcher[-1].callback("Миша"))
    return parent


async def _profile(session: AsyncSession, world: World, profile: str) -> None:
    await session.execute(
        text("UPDATE schools SET profile = :p WHERE id = :s"),
        {"p": profile, "s": world.school.school_id},
    )


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_seed000_a_pass_mark_is_under_review_on_the_marks_screens(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    school = world.school
    await _profile(session, world, "seed000")
    later = await add_lesson(session, school, day=MONDAY, slot=4)
    await add_mark(session, student_id=school.student_id, lesson_id=school.lesson_id, value="5")
    await add_mark(session, student_id=school.student_id, lesson_id=later, value="зач")
    await session.commit()
    parent = await _mishas_parent(session, world, chat)

    screen = _screen(await parent.send("📘 Отметки"))
    assert "<b>Алгебра</b>: 5 🔍 — ср. 5,00" in screen.text
    assert screen.text.endswith(LEGEND) and "зачёт" not in screen.text
    subject = _screen(await parent.press(screen.callback("Алгебра")))
    assert "пн, 23 нояб.: 🔍 на проверке · работа на уроке" in subject.text
    assert "Средневзвешенный балл: 5,00. Прогноз за период: <b>5</b>." in subject.text
    today = _screen(await parent.press(screen.callback("Сегодня")))
    assert "Алгебра: 🔍 · работа на уроке" in today.text and LEGEND in today.text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_seed004_a_not_attested_final_is_under_review_on_the_finals_screen(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    school = world.school
    await _profile(session, world, "seed004")
    physics = await add_subject(session, school, "Физика")
    for subject, value in ((school.subject_id, "н/а"), (physics, "5")):
        session.add(
            m.FinalGrade(
                student_id=school.student_id,
                subject_id=subject,
                period_id=school.period_id,
                value=value,
            )
        )
    await session.commit()
    parent = await _mishas_parent(session, world, chat)

    finals = _screen(await parent.send("🏁 Итоговые")).text
    assert "Алгебра — II: 🔍 на проверке" in finals
    assert "Физика — II: <b>5</b>" in finals
    assert "не аттестован" not in finals and finals.endswith(LEGEND)
