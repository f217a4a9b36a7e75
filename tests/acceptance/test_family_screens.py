"""Family screens through the real dispatcher: a guardian of two, a student, a class teacher."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pypdfium2
import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply, joined
from bot.testing.fake_api import UploadedFile
from handlers.callbacks import ChartCb, MarksCb, MarksView, ReportCb
from handlers.family.base import parse_day
from handlers.render import split
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.factories import (
    add_lesson,
    add_mark,
    add_period,
    add_subject,
    add_work_kind,
)
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

# Monday 23 November 2026, 12:00 in Moscow: the second quarter.
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Diary:
    world: World
    misha: int
    physics: int
    english: int
    q1: int
    q2: int


async def _homework(session: AsyncSession, lesson_id: int, due: date, text: str) -> None:
    session.add(m.Homework(lesson_id=lesson_id, due_date=due, text=text))
    await session.flush()


async def _absence(
    session: AsyncSession,
    student_id: int,
    lesson_id: int,
    *,
    kind: str = "absent",
    reason: str = "unknown",
    valid: bool = False,
    minutes: int | None = None,
) -> None:
    session.add(
        m.Attendance(
            student_id=student_id,
            lesson_id=lesson_id,
            kind=kind,
            reason=reason,
            is_valid=valid,
            minutes_late=minutes,
        )
    )
    await session.flush()


@pytest.fixture
async def diary(session: AsyncSession, world: World) -> Diary:
    """Миша (7Б) with a fortnight of the journal; Аня (3А) with nothing at all."""
    school = world.school
    misha = school.student_id
    oral = await add_work_kind(session, school, "oral", "Устный ответ", "1")
    control = await add_work_kind(session, school, "control", "Контрольная работа", "2")
    physics = await add_subject(session, school, "Физика")
    english = await add_subject(session, school, "Английский язык")
    q1 = await add_period(
        session, school, "quarter", 1, start=date(2026, 9, 1), end=date(2026, 10, 24)
    )
    await add_period(session, school, "year", 1, start=date(2026, 9, 1), end=date(2027, 5, 31))
    session.add_all(
        [
            m.Holiday(
                academic_year_id=school.year_id,
                name="Зимние каникулы",
                starts_on=date(2026, 12, 29),
                ends_on=date(2027, 1, 11),
            ),
            m.Subgroup(class_id=school.class_id, subject_id=english, name="Группа 1"),
            m.Subgroup(class_id=school.class_id, subject_id=english, name="Группа 2"),
        ]
    )
    await session.flush()
    groups = (
        await session.scalars(
            select(m.Subgroup.id).where(m.Subgroup.class_id == school.class_id).order_by("name")
        )
    ).all()
    session.add(m.SubgroupMember(subgroup_id=groups[0], student_id=misha))

    async def lesson(day: date, slot: int, **kwargs: object) -> int:
        return await add_lesson(session, school, day=day, slot=slot, **kwargs)  # type: ignore[arg-type]

    # Algebra: 5 (oral), 4 (control, weight 2), 2 corrected to 3, and today's 5 (test, 1.5).
    monday = await lesson(date(2026, 11, 16), 1)
    await add_mark(session, student_id=misha, lesson_id=monday, value="5", work_kind_id=oral)
    await add_mark(
        session, student_id=world.other_child, lesson_id=monday, value="2", work_kind_id=oral
    )
    wednesday = await lesson(date(2026, 11, 18), 2)
    await add_mark(session, student_id=misha, lesson_id=wednesday, value="4", work_kind_id=control)
    await _absence(session, misha, wednesday, kind="late", minutes=5)
    friday = await lesson(date(2026, 11, 20), 1)
    first = await add_mark(
        session, student_id=misha, lesson_id=friday, value="2", work_kind_id=oral
    )
    await add_mark(
        session,
        student_id=misha,
        lesson_id=friday,
        value="3",
        work_kind_id=oral,
        replaces_id=first,
        reason="пересдал",
    )
    await add_mark(
        session,
        student_id=misha,
        lesson_id=school.lesson_id,
        value="5",
        work_kind_id=school.work_kind_id,
    )
    # Physics: exempt, one absence for illness and one without a reason.
    tuesday = await lesson(date(2026, 11, 17), 3, subject_id=physics)
    await add_mark(session, student_id=misha, lesson_id=tuesday, value="осв", work_kind_id=oral)
    await _absence(session, misha, tuesday, reason="illness", valid=True)
    thursday = await lesson(date(2026, 11, 19), 3, subject_id=physics)
    await _absence(session, misha, thursday)
    # Today: physics with a substitute, English in two groups at once.
    physics_today = await lesson(
        date(2026, 11, 23),
        3,
        subject_id=physics,
        substitute_id=world.class_teacher,
        room="301",
    )
    await lesson(date(2026, 11, 23), 4, subject_id=english, subgroup_id=groups[0], room="215а")
    await lesson(date(2026, 11, 23), 4, subject_id=english, subgroup_id=groups[1], room="215б")
    # Tomorrow and later this week.
    algebra_tomorrow = await lesson(date(2026, 11, 24), 1)
    await lesson(date(2026, 11, 24), 2, subject_id=physics)
    algebra_friday = await lesson(date(2026, 11, 27), 1)
    await lesson(date(2026, 11, 30), 1)
    await _homework(session, school.lesson_id, date(2026, 11, 24), "№ 12 <b>и</b> 14")
    await _homework(session, physics_today, date(2026, 11, 30), "§ 7, задача 3")
    await _homework(session, algebra_tomorrow, date(2026, 11, 27), "Повторить § 5")
    await _homework(session, algebra_friday, date(2026, 11, 30), "Задача 7")
    # The first quarter: algebra 4 corrected to 5, physics 5.
    october = await lesson(date(2026, 10, 5), 1)
    await add_mark(session, student_id=misha, lesson_id=october, value="4", work_kind_id=oral)
    algebra_final = m.FinalGrade(
        student_id=misha, subject_id=school.subject_id, period_id=q1, value="4"
    )
    session.add_all(
        [
            algebra_final,
            m.FinalGrade(student_id=misha, subject_id=physics, period_id=q1, value="5"),
        ]
    )
    await session.flush()
    session.add(
        m.FinalGrade(
            student_id=misha,
            subject_id=school.subject_id,
            period_id=q1,
            value="5",
            replaces_id=algebra_final.id,
            reason="апелляция",
        )
    )
    await session.commit()
    return Diary(world, misha, physics, english, q1, school.period_id)


def _sent(replies: list[Reply], method: str = "sendMessage") -> list[Reply]:
    return [r for r in replies if r.method == method]


def _screen(replies: list[Reply]) -> Reply:
    """The screen a press or a menu button produced (an edit or a new message)."""
    shown = [r for r in replies if r.method in {"sendMessage", "editMessageText"}]
    assert shown, [r.method for r in replies]
    return shown[-1]


async def _misha_parent(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat], *, language: str = "ru"
) -> Chat:
    parent = await linked(
        session,
        chat(71, language_code=language),
        PersonId(PersonKind.GUARDIAN, diary.world.mother),
        language=language,
    )
    switcher = await parent.send({"ru": "👥 Другой ребёнок", "en": "👥 Switch child"}[language])
    await parent.press(switcher[-1].callback("Миша"))
    return parent


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_guardian_of_two_sees_each_child_and_the_empty_cases(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await linked(
        session, chat(70), PersonId(PersonKind.GUARDIAN, diary.world.mother), language="ru"
    )
    # Аня is first and has nothing yet: every screen says so, and names her.
    empty = {
        "📘 Отметки": "В этом периоде отметок пока нет.",
        "🚸 Посещаемость": "В этом периоде пропусков и опозданий нет.",
        "🏁 Итоговые": "В этом учебном году итоговых отметок пока нет.",
        "🗓 Расписание": "В расписании на этот день пока нет уроков.",
        "📝 Домашнее задание": "В этот день уроков нет.",
    }
    for button, expected in empty.items():
        screen = _screen(await parent.send(button))
        assert screen.text.startswith("👤 <b>Аня Иванова</b>, 3А"), screen.text
        assert expected in screen.text
    replies = await parent.send("👥 Другой ребёнок")
    replies = await parent.press(replies[-1].callback("Миша"))
    screen = _screen(await parent.send("📘 Отметки"))
    assert screen.text.startswith("👤 <b>Миша Иванов</b>, 7Б")
    # The empty forecast and week of the first child, pressed from her own buttons.
    forecast = _screen(
        await parent.press(MarksCb(s=diary.world.anya, v=MarksView.FORECAST).pack())
    )
    assert "В этом периоде отметок пока нет, прогнозировать нечего." in forecast.text
    week = _screen(await parent.press(MarksCb(s=diary.world.anya, v=MarksView.WEEK).pack()))
    assert "На этой неделе отметок нет." in week.text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_marks_of_the_period_with_corrections_weights_and_special_marks(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    screen = _screen(await parent.send("📘 Отметки"))
    text = screen.text
    assert "📘 Отметки, 2-я четверть (3 нояб. – 28 дек.)" in text
    # Bold is weight 2 and more; ✎ is a corrected mark; the October mark is another quarter.
    assert "<b>Алгебра</b>: 5 <b>4</b> 3✎ 5 — ср. 4,27" in text
    assert "<b>Физика</b>: освобождение" in text
    assert "<b>Английский язык</b>: отметок пока нет" in text
    assert screen.button_texts()[:3] == ["Сегодня", "Неделя", "📈 Прогноз"]
    assert {"Алгебра", "Физика", "I", "✅ II", "📄 Табель (PDF)"} <= set(screen.button_texts())
    # One subject: every mark with its date, kind of work, weight and correction.
    subject = _screen(await parent.press(screen.callback("Алгебра")))
    assert subject.method == "editMessageText"
    assert subject.text.splitlines()[3:7] == [
        "пн, 16 нояб.: <b>5</b> · устный ответ",
        "ср, 18 нояб.: <b>4</b> · контрольная работа (вес 2)",
        "пт, 20 нояб.: <b>3</b> · устный ответ (исправлена, было 2: пересдал)",
        "пн, 23 нояб.: <b>5</b> · тест (вес 1,5)",
    ]
    assert "Средневзвешенный балл: 4,27. Прогноз за период: <b>4</b>." in subject.text
    assert "ещё 3 пятёрки — и будет 5; ещё 3 двойки — и станет 3." in subject.text
    # Today, this week and the week before.
    today = _screen(await parent.press(screen.callback("Сегодня")))
    assert "📘 Отметки за сегодня, понедельник, 23 ноября" in today.text
    assert "Алгебра: <b>5</b>" not in today.text and "Алгебра: 5 · тест" in today.text
    week = _screen(await parent.press(screen.callback("Неделя")))
    assert "Отметки за неделю пн, 23 нояб. – вс, 29 нояб." in week.text
    earlier = _screen(await parent.press(week.callback("Прошлая неделя")))
    assert "<b>среда, 18 ноября</b>" in earlier.text
    assert "Алгебра: <b>4</b> · контрольная работа" in earlier.text
    assert "Физика: освобождение · устный ответ" in earlier.text
    assert "Алгебра: 3✎ · устный ответ (исправлена, было 2: пересдал)" in earlier.text
    # The first quarter from the period row.
    first = _screen(await parent.press(screen.callback("I")))
    assert "1-я четверть" in first.text and "<b>Алгебра</b>: 4 — ср. 4,00" in first.text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_forecast_screen(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    screen = _screen(await parent.send("📘 Отметки"))
    forecast = _screen(await parent.press(screen.callback("Прогноз")))
    text = forecast.text
    assert "📈 Прогноз итоговых отметок, 2-я четверть" in text
    assert (
        "<b>Алгебра</b>\nСредневзвешенный балл: 4,27. Прогноз за период: <b>4</b>.\n"
        "ещё 3 пятёрки — и будет 5; ещё 3 двойки — и станет 3." in text
    )
    assert "<b>Физика</b>\nПрогноз за период: <b>освобождение</b>." in text
    assert "Пока без отметок: Английский язык." in text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_final_grades_with_a_correction(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    text = _screen(await parent.send("🏁 Итоговые")).text
    assert "🏁 Итоговые отметки за учебный год" in text
    assert "Алгебра — I: <b>5</b> (исправлена, было 4)" in text
    assert "Физика — I: <b>5</b>" in text
    # The first quarter has ended without an English grade; the second has not ended.
    assert "Английский язык" not in text
    assert "II:" not in text
    assert "I–IV — четверти учебного года." in text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_homework_next_school_day_chosen_day_and_week(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    screen = _screen(await parent.send("📝 Домашнее задание"))
    assert "📝 Домашнее задание на 24 ноября, вторник" in screen.text
    # Journal text is escaped: a teacher's "<b>" is shown, not obeyed.
    assert "• <b>Алгебра</b>: № 12 &lt;b&gt;и&lt;/b&gt; 14 (задано пн, 23 нояб.)" in screen.text
    assert "Не задано: Физика." in screen.text
    assert screen.button_texts() == ["◀ пн, 23 нояб.", "ср, 25 нояб. ▶", "Вся неделя"]
    later = _screen(await parent.press(screen.callback("ср, 25 нояб.")))
    assert "на 25 ноября, среда" in later.text
    assert "В этот день уроков нет." in later.text
    week = _screen(await parent.press(screen.callback("Вся неделя")))
    assert "📝 Домашние задания на неделю пн, 23 нояб. – пт, 27 нояб." in week.text
    assert "<b>вторник, 24 ноября</b>" in week.text
    assert "<b>пятница, 27 ноября</b>\n• <b>Алгебра</b>: Повторить § 5" in week.text
    assert "понедельник, 30 ноября" not in week.text
    following = _screen(await parent.press(week.callback("Следующая неделя")))
    # Homework of the next Monday, in the order of its lessons.
    assert "• <b>Алгебра</b>: Задача 7" in following.text
    assert "• <b>Физика</b>: § 7, задача 3" in following.text


async def test_homework_skips_weekends_and_holidays(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=UTC), tick=False):
        parent = await _misha_parent(session, diary, chat)
        friday = _screen(await parent.send("📝 Домашнее задание"))
        assert "на 30 ноября, понедельник" in friday.text
        assert "Задача 7" in friday.text
    with time_machine.travel(datetime(2026, 12, 28, 9, 0, tzinfo=UTC), tick=False):
        before_holidays = _screen(await parent.send("📝 Домашнее задание"))
        assert "на 12 января, вторник" in before_holidays.text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_attendance_of_the_period(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    text = _screen(await parent.send("🚸 Посещаемость")).text
    assert "🚸 Посещаемость, 2-я четверть" in text
    assert "Пропущено 2 урока: по уважительной причине — 1, без уважительной — 1." in text
    assert "Дней с пропусками: 2." in text
    assert "1 опоздание." in text
    assert "Физика: 2 / 0\nАлгебра: 0 / 1" in text
    assert "чт, 19 нояб., 3-й урок, Физика: пропуск · причина не указана (неуважительная)" in text
    assert "вт, 17 нояб., 3-й урок, Физика: пропуск · болезнь (уважительная)" in text
    assert "ср, 18 нояб., 2-й урок, Алгебра: опоздание на 5 мин" in text


async def test_timetable_today_next_day_substitution_and_subgroup(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(MONDAY_NOON, tick=False):
        parent = await _misha_parent(session, diary, chat)
        screen = _screen(await parent.send("🗓 Расписание"))
        text = screen.text
        assert "🗓 Расписание на 23 ноября, понедельник" in text
        assert "2. 09:25–10:10 <b>Алгебра</b> · каб. 214\n   Петрова А." in text
        assert "3. 10:20–11:05 <b>Физика</b> · каб. 301" in text
        assert "🔁 замена: Кузнецова В. вместо Петрова А." in text
        # Only Миша's own English group.
        assert "4. 11:15–12:00 <b>Английский язык</b> (Группа 1) · каб. 215а" in text
        assert "215б" not in text
        tomorrow = _screen(await parent.press(screen.callback("вт, 24 нояб.")))
        assert "🗓 Расписание на 24 ноября, вторник" in tomorrow.text
        assert "1. 08:30–09:15 <b>Алгебра</b>" in tomorrow.text
    # After lessons, the menu shows the next school day; on Saturday, Monday's.
    with time_machine.travel(datetime(2026, 11, 23, 14, 30, tzinfo=UTC), tick=False):
        assert "на 24 ноября, вторник" in _screen(await parent.send("🗓 Расписание")).text
    with time_machine.travel(datetime(2026, 11, 28, 9, 0, tzinfo=UTC), tick=False):
        assert "на 30 ноября, понедельник" in _screen(await parent.send("🗓 Расписание")).text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_chart_and_report_card(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    replies = await parent.press(ChartCb(s=diary.misha, sub=diary.world.school.subject_id).pack())
    [photo] = _sent(replies, "sendPhoto")
    picture = photo.params["photo"]
    assert isinstance(picture, UploadedFile) and picture.data.startswith(b"\x89PNG")
    assert "Миша Иванов" in photo.params["caption"] and "Алгебра" in photo.params["caption"]
    replies = await parent.press(ReportCb(s=diary.misha).pack())
    [document] = _sent(replies, "sendDocument")
    pdf = document.params["document"]
    assert isinstance(pdf, UploadedFile) and pdf.data.startswith(b"%PDF")
    page = pypdfium2.PdfDocument(io.BytesIO(pdf.data))[0]
    content = page.get_textpage().get_text_range()
    for expected in ("Табель успеваемости", "Миша Иванов, 7Б", "Алгебра", "4,27", "освобождение"):
        assert expected in content, expected
    replies = await parent.press(ReportCb(s=diary.misha, pdf=False).pack())
    # The picture comes as a photo the chat shows, not as a file to open.
    [image] = _sent(replies, "sendPhoto")
    assert image.params["photo"].data.startswith(b"\x89PNG")
    viewed = (
        await session.scalars(
            select(m.AuditEntry.details["screen"].astext).where(
                m.AuditEntry.account_id == 71, m.AuditEntry.action == "viewed"
            )
        )
    ).all()
    assert {"chart", "report_card"} <= set(viewed)


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_student_sees_only_themself(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    student = await linked(
        session, chat(72), PersonId(PersonKind.STUDENT, diary.misha), language="ru"
    )
    menu = await student.send("/start")
    assert "👥 Другой ребёнок" not in menu[-1].button_texts()
    screen = _screen(await student.send("📘 Отметки"))
    assert screen.text.startswith("👤 <b>Миша Иванов</b>, 7Б")
    assert "ср. 4,27" in screen.text
    # The sister's journal is not his.
    replies = await student.press(MarksCb(s=diary.world.anya, v=MarksView.PERIOD).pack())
    assert [r.params.get("text") for r in replies if r.method == "answerCallbackQuery"] == [
        "Не найдено."
    ]


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_class_teacher_overview_and_a_student_of_the_class(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    teacher = await linked(
        session, chat(73), PersonId(PersonKind.STAFF, diary.world.class_teacher), language="ru"
    )
    screen = _screen(await teacher.send("🏫 Мой класс"))
    text = screen.text
    assert "🏫 7Б класс, 2-я четверть" in text
    assert "1. Иванов Миша — 4,27 · 0 · 2 (1) · 1" in text
    assert "2. Сидоров Петя — 2,00 · <b>1</b> · 0 (0) · 0" in text
    student = _screen(await teacher.press(screen.callback("Сидоров Петя")))
    assert student.text.startswith("👤 <b>Петя Сидоров</b>, 7Б")
    assert "<b>Алгебра</b>: 2 — ср. 2,00" in student.text
    attendance = _screen(await teacher.press(student.callback("Прогноз")))
    assert "Петя Сидоров" in attendance.text
    # Not the teacher's class: 3А.
    replies = await teacher.press(MarksCb(s=diary.world.anya, v=MarksView.PERIOD).pack())
    assert not _sent(replies)
    parent = await _misha_parent(session, diary, chat)
    assert "Этот раздел — для классных руководителей." in joined(await parent.send("🏫 Мой класс"))


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_screens_in_english_and_tatar(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat, language="en")
    text = _screen(await parent.send("📘 Marks")).text
    assert "📘 Marks, quarter 2 (3 Nov – 28 Dec)" in text
    assert "<b>Алгебра</b>: 5 <b>4</b> 3✎ 5 — avg. 4.27" in text
    assert "<b>Физика</b>: exempt" in text
    await parent.send("/language")
    await parent.press("lang:tt")
    text = _screen(await parent.send("📘 Билгеләр")).text
    assert "📘 Билгеләр, 2 чирек" in text
    assert "урт. 4,27" in text


async def test_long_answers_are_split_under_telegrams_limit(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    for index in range(12):
        lesson = await add_lesson(
            session, diary.world.school, day=date(2026, 11, 23), slot=5 + index % 3
        )
        await _homework(session, lesson, date(2026, 11, 24), f"{index}: " + "Прочитать " * 60)
    await session.commit()
    with time_machine.travel(MONDAY_NOON, tick=False):
        parent = await _misha_parent(session, diary, chat)
        replies = _sent(await parent.send("📝 Домашнее задание"))
    assert len(replies) == 2
    assert all(len(r.text) <= 4096 for r in replies)
    assert replies[0].params.get("reply_markup") is None
    assert replies[-1].button_texts()[-1] == "Вся неделя"
    assert replies[1].text.count("Прочитать") > 0


def test_split_keeps_lines_whole_and_cuts_an_overlong_one() -> None:
    text = "\n".join(f"<b>{i}</b> строка" for i in range(1000))
    parts = split(text, limit=500)
    assert all(len(p) <= 500 for p in parts)
    assert "\n".join(parts) == text
    [single] = split("<i>" + "x" * 600 + "</i>", limit=100)
    assert len(single) == 100 and "<" not in single
    assert split("") == [""]


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_commands_take_a_typed_date(
    session: AsyncSession, diary: Diary, chat: Callable[..., Chat]
) -> None:
    parent = await _misha_parent(session, diary, chat)
    friday = _screen(await parent.send("/homework 27.11"))
    assert "📝 Домашнее задание на 27 ноября, пятница" in friday.text
    assert "Повторить § 5" in friday.text
    tuesday = _screen(await parent.send("/timetable 24.11.2026"))
    assert "🗓 Расписание на 24 ноября, вторник" in tuesday.text
    marks = _screen(await parent.send("/marks"))
    assert "ср. 4,27" in marks.text
    # 31.02 and words are tests/acceptance/test_family_commands.py's.
    for wrong in ("/homework 25-ое", "/timetable 1.13"):
        [reply] = _sent(await parent.send(wrong))
        assert reply.text.startswith("Пожалуйста, напишите дату как день и месяц")


def test_parse_day_picks_the_school_year() -> None:
    today = date(2026, 11, 23)
    assert parse_day("25.11", today) == date(2026, 11, 25)
    assert parse_day("10/01", today) == date(2027, 1, 10)
    # Without a year, a day of the current school year: June is the coming one.
    assert parse_day("1.6", today) == date(2027, 6, 1)
    assert parse_day("25.11.27", today) == date(2027, 11, 25)
    for wrong in ("29.02", "00.11", "25", "25.11.2026.1", "x"):
        assert parse_day(wrong, today) is None
