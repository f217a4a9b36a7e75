"""Family commands and words through the real dispatcher (issue 16, item 4): a command for
every screen, days typed as people type them, a mark's topic and comment, the works planned
for the next two weeks, a closed period's final grade, far hints, and out-of-range buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply, joined
from handlers.callbacks import HomeworkCb, MarksCb, MarksView
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.factories import add_lesson, add_mark, add_period, add_subject
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

# Monday 23 November 2026, 12:00 in Moscow: the second quarter.
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Journal:
    world: World
    misha: int
    physics: int
    chemistry: int  # the school's, not 7Б's
    q1: int


async def _kind(session: AsyncSession, world: World, code: str, name: str, **flags: object) -> int:
    kind = m.WorkKind(
        school_id=world.school.school_id, code=code, name=name, weight=Decimal(2), **flags
    )
    session.add(kind)
    await session.flush()
    return kind.id


@pytest.fixture
async def journal(session: AsyncSession, world: World) -> Journal:
    """Миша (7Б): algebra marks with a topic and a comment, a closed first quarter with one
    final grade, physics far below a 3, and control and written works ahead."""
    school = world.school
    misha = school.student_id
    control = await _kind(session, world, "control", "Контрольная работа", is_control=True)
    written = await _kind(session, world, "dictation", "Диктант", is_written=True)
    physics = await add_subject(session, school, "Физика")
    chemistry = await add_subject(session, school, "Химия")
    q1 = await add_period(
        session, school, "quarter", 1, start=date(2026, 9, 1), end=date(2026, 10, 24)
    )
    # Today's algebra lesson has a topic; its mark a comment.
    await session.execute(
        update(m.Lesson).where(m.Lesson.id == school.lesson_id).values(topic="Дроби")
    )
    session.add(
        m.Mark(
            student_id=misha,
            lesson_id=school.lesson_id,
            value="4",
            work_kind_id=school.work_kind_id,
            comment="Молодец, но не торопись",
        )
    )
    # The first quarter: algebra 4 → final 5; physics 3 without a final grade.
    october = await add_lesson(session, school, day=date(2026, 10, 5), slot=1)
    await add_mark(session, student_id=misha, lesson_id=october, value="4")
    october_physics = await add_lesson(
        session, school, day=date(2026, 10, 6), slot=2, subject_id=physics
    )
    await add_mark(session, student_id=misha, lesson_id=october_physics, value="3")
    session.add(
        m.FinalGrade(student_id=misha, subject_id=school.subject_id, period_id=q1, value="5")
    )
    # Physics this quarter: forty 2s of weight 2, so even ten 5s would not lift it to a 3.
    physics_lesson = await add_lesson(
        session, school, day=date(2026, 11, 17), slot=3, subject_id=physics
    )
    for _ in range(40):
        await add_mark(session, student_id=misha, lesson_id=physics_lesson, value="2", weight="2")
    # Works ahead: a control work next Monday, a dictation in twelve days, one in three weeks.
    session.add_all(
        [
            m.Lesson(
                school_id=school.school_id,
                class_id=school.class_id,
                subject_id=school.subject_id,
                teacher_id=school.teacher_id,
                date=day,
                slot=slot,
                starts_at=time(8, 30),
                ends_at=time(9, 15),
                work_kind_id=kind,
                topic=topic,
            )
            for day, slot, kind, topic in (
                (date(2026, 11, 30), 1, control, "Уравнения"),
                (date(2026, 12, 4), 2, written, None),
                (date(2026, 12, 14), 1, control, "Итоговая"),
            )
        ]
    )
    session.add(m.Homework(lesson_id=school.lesson_id, due_date=date(2026, 11, 24), text="№ 5"))
    await session.commit()
    return Journal(world, misha, physics, chemistry, q1)


async def _parent(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat], language: str = "ru"
) -> Chat:
    """Миша's mother, Миша chosen in the switcher."""
    parent = await linked(
        session,
        chat(81, language_code=language),
        PersonId(PersonKind.GUARDIAN, journal.world.mother),
        language=language,
    )
    switcher = await parent.send({"ru": "👥 Другой ребёнок", "en": "👥 Switch child"}[language])
    await parent.press(switcher[-1].callback("Миша"))
    return parent


def _screen(replies: list[Reply]) -> str:
    shown = [r for r in replies if r.method in {"sendMessage", "editMessageText"}]
    assert shown, [r.method for r in replies]
    return "\n".join(r.text for r in shown)


def _alerts(replies: list[Reply]) -> list[str]:
    return [str(r.params.get("text")) for r in replies if r.method == "answerCallbackQuery"]


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_every_screen_has_its_command(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    expected = {
        "/marks": "📘 Отметки, 2-я четверть",
        "/today": "📘 Отметки за сегодня, понедельник, 23 ноября",
        "/week": "📘 Отметки за неделю пн, 23 нояб. – вс, 29 нояб.",
        "/forecast": "📈 Прогноз итоговых отметок, 2-я четверть",
        "/finals": "🏁 Итоговые отметки за учебный год",
        "/homework": "📝 Домашнее задание на 24 ноября, вторник",
        "/timetable": "🗓 Расписание на 23 ноября, понедельник",
        "/attendance": "🚸 Посещаемость, 2-я четверть",
        "/history": "🔔 <b>Последние уведомления</b>",
    }
    for command, title in expected.items():
        text = _screen(await parent.send(command))
        assert title in text, (command, text)
        assert "Я понимаю только" not in text
    settings = _screen(await parent.send("/settings"))
    assert "Я понимаю только" not in settings and "Я не знаю команды" not in settings
    # A command nobody has: the list of those there are.
    unknown = _screen(await parent.send("/grades"))
    assert unknown.startswith("Я не знаю команды /grades. Вот какие команды есть:")
    assert "/attendance — пропуски и опоздания" in unknown


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_words_and_the_ways_a_day_is_written(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    assert "📘 Отметки, 2-я четверть" in _screen(await parent.send("Оценки"))
    assert "📘 Отметки за неделю" in _screen(await parent.send("оценки за неделю"))
    assert "🚸 Посещаемость" in _screen(await parent.send("пропуски"))
    tomorrow = _screen(await parent.send("дз на завтра"))
    assert "📝 Домашнее задание на 24 ноября, вторник" in tomorrow and "№ 5" in tomorrow
    assert "на 24 ноября, вторник" in _screen(await parent.send("/homework завтра"))
    assert "🗓 Расписание на 27 ноября, пятница" in _screen(
        await parent.send("расписание на пятницу")
    )
    # A date alone is that day's homework, in any of the usual forms; no year: this school year.
    for typed in ("2026-12-03", "3.12.2026", "3.12", "3 декабря"):
        assert "📝 Домашнее задание на 3 декабря, четверг" in _screen(await parent.send(typed))
    assert "на 10 января, воскресенье" in _screen(await parent.send("/homework 10.01"))
    assert "на 1 июня, вторник" in _screen(await parent.send("/timetable 1.06"))
    # A day of another school year shows its year.
    older = _screen(await parent.send("/timetable 3.12.2025"))
    assert "🗓 Расписание на 3 декабря 2025, среда" in older
    # A date the calendar has not, and text that is no date.
    assert _screen(await parent.send("/homework 31.02")) == (
        "Такой даты нет: 31.02. Пожалуйста, проверьте день и месяц."
    )
    assert "Такой даты нет: 29.02.2027" in _screen(await parent.send("дз на 29.02.2027"))
    assert _screen(await parent.send("/homework когда-нибудь")).startswith(
        "Пожалуйста, напишите дату как день и месяц, например: /homework 25.11"
    )
    # Words no screen reads are not guessed at.
    lost = _screen(await parent.send("оценки по физике"))
    assert lost.startswith("Я не понял.") and "«дз на завтра»" in lost


async def test_words_in_english_and_tatar(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(MONDAY_NOON, tick=False):
        parent = await _parent(session, journal, chat, language="en")
        text = _screen(await parent.send("homework tomorrow"))
        assert "📝 Homework for Tuesday, 24 November" in text
        assert "Homework for Thursday, 3 December" in _screen(await parent.send("December 3"))
        assert "Final grades of the school year" in _screen(await parent.send("final grades"))
        await parent.send("/language")
        await parent.press("lang:tt")
        tatar = _screen(await parent.send("өй эше иртәгә"))
        assert "24 ноябрь, сишәмбе" in tatar and "№ 5" in tatar
        assert "27 ноябрь, җомга" in _screen(await parent.send("дәресләр тәртибе җомгага"))


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_topic_and_comment_beside_a_mark(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    today = _screen(await parent.send("/today"))
    assert (
        "Алгебра: 4 · тест · тема: Дроби · комментарий учителя: <i>Молодец, но не торопись</i>"
        in today
    )
    marks = await parent.send("/marks")
    subject = _screen(await parent.press(marks[-1].callback("Алгебра")))
    assert (
        "пн, 23 нояб.: <b>4</b> · тест (вес 1,5) · тема: Дроби · "
        "комментарий учителя: <i>Молодец, но не торопись</i>" in subject
    )


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_control_and_written_works_of_the_next_two_weeks(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    text = _screen(await parent.send("/marks"))
    assert (
        "<b>Контрольные и письменные работы в ближайшие две недели</b>\n"
        "• пн, 30 нояб., 1-й урок — Алгебра: контрольная работа (Уравнения)\n"
        "• пт, 4 дек., 2-й урок — Алгебра: диктант\n\nЖирным" in text
    )
    # Three weeks ahead is not yet in the list.
    assert "Итоговая" not in text
    # The timetable of the day marks the lesson.
    monday = _screen(await parent.send("/timetable 30.11"))
    assert "1. 08:30–09:15 <b>Алгебра</b>\n   Петрова А.\n   📝 контрольная работа" in monday


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_a_closed_period_shows_its_final_grade_not_a_forecast(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    first = await parent.press(MarksCb(s=journal.misha, v=MarksView.PERIOD, p=journal.q1).pack())
    period = _screen(first)
    assert "<b>Алгебра</b>: 4 — ср. 4,00 · итог: <b>5</b>" in period
    assert "Контрольные и письменные работы" not in period
    algebra = _screen(
        await parent.press(
            MarksCb(
                s=journal.misha,
                v=MarksView.SUBJECT,
                p=journal.q1,
                sub=journal.world.school.subject_id,
            ).pack()
        )
    )
    assert "Итоговая отметка за период: <b>5</b>.\nСредневзвешенный балл: 4,00." in algebra
    assert "пятёрк" not in algebra and "Прогноз" not in algebra
    results = _screen(
        await parent.press(MarksCb(s=journal.misha, v=MarksView.FORECAST, p=journal.q1).pack())
    )
    assert "🏁 Итоги: 1-я четверть" in results
    assert "<b>Алгебра</b>\nИтоговая отметка за период: <b>5</b>." in results
    assert (
        "<b>Физика</b>\nПериод закончился, итоговая отметка ещё не выставлена.\n"
        "Средневзвешенный балл: 3,00." in results
    )
    assert "ещё 1 пятёрка" not in results


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_a_change_beyond_ten_marks_is_said(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    forecast = _screen(await parent.send("/forecast"))
    assert (
        "<b>Физика</b>\nСредневзвешенный балл: 2,00. Прогноз за период: <b>2</b>.\n"
        "чтобы стало 3, нужно больше 10 пятёрок подряд." in forecast
    )


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_buttons_out_of_range_are_not_found(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    parent = await _parent(session, journal, chat)
    misha = journal.misha
    for data in (
        # A subject of the school that 7Б does not take, and one of nobody's.
        MarksCb(s=misha, v=MarksView.SUBJECT, sub=journal.chemistry).pack(),
        MarksCb(s=misha, v=MarksView.SUBJECT, sub=999_999).pack(),
        MarksCb(s=misha, v=MarksView.WEEK, w=9999).pack(),
        MarksCb(s=misha, v=MarksView.WEEK, w=-1).pack(),
        MarksCb(s=misha, v=MarksView.PERIOD, p=999_999).pack(),
        HomeworkCb(s=misha, d=99_999_999).pack(),
    ):
        replies = await parent.press(data)
        assert _alerts(replies) == ["Не найдено."], data
        assert not [r for r in replies if r.method in {"sendMessage", "editMessageText"}]
    # The oldest week still shown has no button further back.
    oldest = await parent.press(MarksCb(s=misha, v=MarksView.WEEK, w=80).pack())
    assert "Прошлая неделя" not in oldest[-1].button_texts()
    assert "Следующая неделя ▶" in oldest[-1].button_texts()


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_a_teachers_timetable_is_not_the_family_screen(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    teacher = await linked(
        session, chat(82), PersonId(PersonKind.STAFF, journal.world.teacher), language="ru"
    )
    # Answered by the staff screens (handlers/teacher), not refused as a family screen.
    answer = joined(await teacher.send("/timetable"))
    assert answer and "аккаунт не привязан к ученику" not in answer


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_words_written_to_a_teacher_are_relayed_not_read_as_a_request(
    session: AsyncSession, journal: Journal, chat: Callable[..., Chat]
) -> None:
    # The class teacher is in the bot, so the family can write to her.
    await linked(session, chat(84), PersonId(PersonKind.STAFF, journal.world.class_teacher))
    parent = await _parent(session, journal, chat)
    [menu] = [r for r in await parent.send("/contact") if r.method == "sendMessage"]
    await parent.press(menu.callback("Кузнецова"))
    answer = _screen(await parent.send("дз на завтра"))
    assert "Отправлено" in answer and "Домашнее задание на" not in answer
