"""Staff screens through the real dispatcher: a teacher's lessons and class marks, /help and
the command menu per role, the class teacher's pupil card, families, codes and week, and the
deputy's journal-keeping report with its XLSX for a chosen week, class and period."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pypdfium2
import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply, joined
from bot.testing.fake_api import UploadedFile
from handlers.callbacks import CardCb, ClassToolCb, DeputyCb, StaffDayCb, TaughtCb
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.factories import add_class, add_lesson, add_mark, add_staff, add_subject
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

# Monday 23 November 2026, 12:00 in Moscow: the second quarter.
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 23)


@dataclass(frozen=True)
class Staffroom:
    world: World
    physics: int
    class_3a: int
    class_5v: int
    deputy: int


@pytest.fixture
async def staffroom(session: AsyncSession, world: World) -> Staffroom:
    """Петрова teaches algebra in 7Б and stands in for Кузнецова at 3А's physics today;
    Кузнецова (7Б's class teacher) teaches physics in 7Б; Завучева is the deputy."""
    school = world.school
    physics = await add_subject(session, school, "Физика")
    class_3a = (
        await session.scalars(select(m.Student.class_id).where(m.Student.id == world.anya))
    ).one()
    assert class_3a is not None
    deputy = await add_staff(
        session, school, first_name="Елена", last_name="Завучева", roles=("deputy_director",)
    )
    # Today: the mini school's algebra (7Б, lesson 2); physics in 3А taken by Петрова.
    await add_lesson(
        session,
        school,
        day=MONDAY,
        slot=3,
        subject_id=physics,
        class_id=class_3a,
        teacher_id=world.class_teacher,
        substitute_id=world.teacher,
        room="301",
    )
    # Tomorrow: algebra in 7Б; physics in 7Б by Кузнецова with marks Петрова may not read.
    await add_lesson(session, school, day=date(2026, 11, 24), slot=1)
    physics_7b = await add_lesson(
        session, school, day=date(2026, 11, 20), slot=4, subject_id=physics,
        teacher_id=world.class_teacher,
    )  # fmt: skip
    await add_mark(session, student_id=world.other_child, lesson_id=physics_7b, value="3")
    # Algebra marks: Миша 5 today, Петя 2 on Friday (the week before).
    await add_mark(
        session,
        student_id=school.student_id,
        lesson_id=school.lesson_id,
        value="5",
        work_kind_id=school.work_kind_id,
    )
    friday = await add_lesson(session, school, day=date(2026, 11, 20), slot=1)
    await add_mark(session, student_id=world.other_child, lesson_id=friday, value="2")
    # The week before: two algebra lessons in 7Б and one in 3А, every entry missing.
    await add_lesson(session, school, day=date(2026, 11, 16), slot=1)
    await add_lesson(session, school, day=date(2026, 11, 17), slot=1, class_id=class_3a)
    # 5В's algebra is Кузнецова's.
    class_5v = await add_class(session, school, 5, "В")
    await add_lesson(
        session, school, day=date(2026, 11, 10), slot=1, class_id=class_5v,
        teacher_id=world.class_teacher,
    )  # fmt: skip
    # Петя missed today's algebra without a valid reason.
    session.add(
        m.Attendance(
            student_id=world.other_child,
            lesson_id=school.lesson_id,
            kind="absent",
            reason="unknown",
            is_valid=False,
        )
    )
    await session.commit()
    return Staffroom(world, physics, class_3a, class_5v, deputy)


def _sent(replies: list[Reply], method: str = "sendMessage") -> list[Reply]:
    return [r for r in replies if r.method == method]


def _screen(replies: list[Reply]) -> Reply:
    shown = [r for r in replies if r.method in {"sendMessage", "editMessageText"}]
    assert shown, [r.method for r in replies]
    return shown[-1]


def _alerts(replies: list[Reply]) -> list[str]:
    return [str(r.params.get("text")) for r in replies if r.method == "answerCallbackQuery"]


async def _staff(session: AsyncSession, chat: Chat, staff_id: int) -> Chat:
    return await linked(session, chat, PersonId(PersonKind.STAFF, staff_id), language="ru")


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_teacher_sees_own_lessons_with_a_substitution_today_tomorrow_and_any_day(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    teacher = await _staff(session, chat(81), world.teacher)
    # Staff only: /timetable is the teacher's own, not "not linked to a student".
    text = _screen(await teacher.send("/timetable")).text
    assert "🗓 Мои уроки на 23 ноября, понедельник" in text
    assert "2. 09:25–10:10 <b>7Б</b>, Алгебра · каб. 214" in text
    assert "3. 10:20–11:05 <b>3А</b>, Физика · каб. 301" in text
    assert "🔁 замена: вы замещаете Кузнецова В." in text
    assert "не привязан" not in text
    # The next school day by its button, and a day typed.
    screen = _screen(await teacher.send("/timetable"))
    tomorrow = _screen(await teacher.press(screen.callback("вт, 24 нояб.")))
    assert "на 24 ноября, вторник" in tomorrow.text and "1. 08:30–09:15 <b>7Б</b>" in tomorrow.text
    friday = _screen(await teacher.send("/lessons 20.11")).text
    assert "на 20 ноября, пятница" in friday and "Физика" not in friday
    assert "Пожалуйста" in _screen(await teacher.send("/timetable 45.13")).text
    # Кузнецова sees her 3А lesson taken by Петрова.
    owner = await _staff(session, chat(82), world.class_teacher)
    text = _screen(await owner.send("🗓 Мои уроки")).text
    assert "<b>3А</b>, Физика" in text and "🔁 ведёт Петрова А. вместо вас" in text
    # A parent pressing a teacher's day button gets "not found"; the family /timetable stays.
    parent = await linked(
        session, chat(83), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    assert _alerts(await parent.press(StaffDayCb(d=MONDAY.toordinal()).pack())) == ["Не найдено."]
    assert "🗓 Расписание на" in _screen(await parent.send("/timetable")).text
    assert joined(await parent.send("/lessons")) == "Этот раздел — для учителей."
    # A teacher who is also a parent: /timetable is the child's, /lessons their own.
    both = await _staff(session, chat(96), world.teacher)
    await linked(session, both, PersonId(PersonKind.GUARDIAN, world.other_guardian))
    child = _screen(await both.send("/timetable")).text
    assert child.startswith("👤 <b>Петя Сидоров</b>, 7Б") and "🗓 Расписание на" in child
    assert "🗓 Мои уроки на 23 ноября" in _screen(await both.send("/lessons")).text


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_teacher_reads_own_classes_marks_in_own_subject_only(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    teacher = await _staff(session, chat(84), world.teacher)
    menu = _screen(await teacher.send("📒 Отметки моих классов"))
    # Algebra in 3А and 7Б: the 3А physics she took as a substitute is not hers.
    assert menu.button_texts() == ["3А · Алгебра", "7Б · Алгебра"]
    screen = _screen(await teacher.press(menu.callback("7Б · Алгебра")))
    text = screen.text
    assert "📒 7Б, Алгебра: 2-я четверть" in text
    assert "1. Иванов Миша: 5 — ср. 5,00" in text
    assert "2. Сидоров Петя: 2 — ср. 2,00" in text
    assert "Физика" not in text
    # Another subject of her class, another class, a substitution's class: not found.
    school = world.school
    for forged in (
        TaughtCb(c=school.class_id, sub=staffroom.physics),
        TaughtCb(c=staffroom.class_5v, sub=school.subject_id),
        TaughtCb(c=staffroom.class_3a, sub=staffroom.physics),
        TaughtCb(c=2**63, sub=school.subject_id),
    ):
        replies = await teacher.press(forged.pack())
        assert _alerts(replies) == ["Не найдено."] and not _sent(replies)


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_help_and_the_command_menu_follow_the_role(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    parent = await linked(
        session, chat(85), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    teacher = await _staff(session, chat(86), world.teacher)
    class_teacher = await _staff(session, chat(87), world.class_teacher)
    deputy = await _staff(session, chat(88), staffroom.deputy)
    sections = ("Для учителей", "Для классного руководителя", "Для заместителя директора")
    expected = [
        (parent, "/marks", ()),
        (teacher, "/lessons", sections[:1]),
        (class_teacher, "/lessons", sections[:2]),
        (deputy, "/lessons", (sections[0], sections[2])),
    ]
    for person, command, shown in expected:
        replies = await person.send("/help")
        text = joined(replies)
        assert command in text
        for section in sections:
            assert (section in text) is (section in shown), (person.user_id, section)
        [menu] = [r for r in replies if r.method == "setMyCommands"]
        assert menu.params["scope"] == {"type": "chat", "chat_id": person.user_id}
        names = [c["command"] for c in menu.params["commands"]]
        assert ("marks" in names) is (person is parent)
        assert ("lessons" in names) is (person is not parent)
        assert "help" in names
    assert "/marks" not in joined(await teacher.send("/help"))


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_class_teacher_opens_a_pupils_card_and_goes_back_to_the_class(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    teacher = await _staff(session, chat(89), world.class_teacher)
    overview = _screen(await teacher.send("🏫 Мой класс"))
    card = _screen(await teacher.press(overview.callback("Сидоров Петя")))
    text = card.text
    assert text.startswith("👤 <b>Петя Сидоров</b>, 7Б")
    for section in (
        "📘 Отметки, 2-я четверть",
        "<b>Алгебра</b>: 2 — ср. 2,00",
        "📈 Прогноз итоговых отметок",
        "🚸",
        "📝 Домашнее задание на 24 ноября",
        "🏁 Итоговые отметки за учебный год",
    ):
        assert section in text, section
    assert text.count("👤") == 1
    back = _screen(await teacher.press(card.callback("◀ Класс 7Б")))
    assert "🏫 7Б класс, 2-я четверть" in back.text
    # Another class's pupil, and a parent pressing the card: not found.
    assert _alerts(await teacher.press(CardCb(s=world.anya).pack())) == ["Не найдено."]
    parent = await linked(
        session, chat(90), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    replies = await parent.press(CardCb(s=world.school.student_id).pack())
    assert _alerts(replies) == ["Не найдено."] and not _sent(replies)


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_families_linked_and_not_and_codes_as_slips(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    await linked(session, chat(91), PersonId(PersonKind.GUARDIAN, world.mother), language="ru")
    teacher = await _staff(session, chat(92), world.class_teacher)
    overview = _screen(await teacher.send("🏫 Мой класс"))
    families = _screen(await teacher.press(overview.callback("Семьи")))
    text = families.text
    assert "Подключено: 1 семья из 2." in text
    assert "1. ❌ Иванов Миша (ученик); ✅ Иванова Ольга" in text
    assert "2. ❌ Сидоров Петя (ученик); ❌ Сидоров Пётр" in text
    assert "Ещё никто не подключился: Сидоров Петя." in text
    menu = _screen(await teacher.press(families.callback("Коды доступа")))
    assert "Ещё не подключены: 3 человека." in menu.text
    replies = await teacher.press(menu.callback("Все, кто ещё не подключён (3)"))
    [document] = _sent(replies, "sendDocument")
    pdf = document.params["document"]
    assert isinstance(pdf, UploadedFile) and pdf.data.startswith(b"%PDF")
    assert pdf.filename == "codes-7Б-2026-11-23.pdf"
    content = pypdfium2.PdfDocument(io.BytesIO(pdf.data))[0].get_textpage().get_text_range()
    for name in ("Иванов Миша", "Сидоров Петя", "Сидоров Пётр", "t.me/journal_demo_bot"):
        assert name in content, name
    assert "Иванова Ольга" not in content
    # Whom each slip is for: the pupil, and a parent of the pupil.
    assert "Ученику (ученице) 7Б класса" in content
    assert "Родителю (законному\r\nпредставителю): 7Б" in content
    assert "3 кода доступа для 7Б" in document.params["caption"]
    issued = (
        await session.execute(
            select(m.AuditEntry.actor, m.AuditEntry.account_id).where(
                m.AuditEntry.action == "code_issued"
            )
        )
    ).all()
    # The three codes (and the linking ones the fixtures issued from the command line).
    assert [row for row in issued if row[0] == "bot"] == [("bot", 92)] * 3
    codes = await session.scalar(
        select(m.ActivationCode.id).where(
            m.ActivationCode.guardian_id == world.other_guardian,
            m.ActivationCode.used_at.is_(None),
            m.ActivationCode.revoked_at.is_(None),
        )
    )
    assert codes is not None
    # One pupil's family; another class's pupil or class is refused and nothing is issued.
    replies = await teacher.press(menu.callback("Сидоров Петя"))
    [document] = _sent(replies, "sendDocument")
    for forged in (
        ClassToolCb(c=world.school.class_id, a="kp", s=world.anya),
        ClassToolCb(c=staffroom.class_3a, a="ka"),
        ClassToolCb(c=staffroom.class_3a, a="f"),
    ):
        replies = await teacher.press(forged.pack())
        assert _alerts(replies) == ["Не найдено."] and not _sent(replies, "sendDocument")
    count = await session.scalar(
        select(m.AuditEntry.id).where(
            m.AuditEntry.action == "code_issued", m.AuditEntry.student_id == world.anya
        )
    )
    assert count is None


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_class_teacher_asks_for_the_classs_week(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    teacher = await _staff(session, chat(93), world.class_teacher)
    overview = _screen(await teacher.send("🏫 Мой класс"))
    week = _screen(await teacher.press(overview.callback("Неделя класса")))
    text = week.text
    assert "🏫 7Б класс: неделя пн, 23 нояб. – пн, 23 нояб." in text
    assert "• Сидоров Петя: 0 / <b>1</b> · 0" in text
    assert "Пока что: по пн, 23 нояб." in text
    before = _screen(await teacher.press(week.callback("Прошлая неделя")))
    assert "неделя пн, 16 нояб. – вс, 22 нояб." in before.text
    assert "• Сидоров Петя: двойки — Алгебра" in before.text
    # Entries of the 16th are overdue: algebra's teacher is behind.
    assert "• Алгебра:" in before.text
    back = _screen(await teacher.press(before.callback("◀ Класс 7Б")))
    assert "🏫 7Б класс" in back.text
    forged = ClassToolCb(c=staffroom.class_3a, a="w").pack()
    assert _alerts(await teacher.press(forged)) == ["Не найдено."]


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_deputy_report_for_a_chosen_week_class_and_period_with_xlsx(
    session: AsyncSession, staffroom: Staffroom, chat: Callable[..., Chat]
) -> None:
    world = staffroom.world
    deputy = await _staff(session, chat(94), staffroom.deputy)
    screen = _screen(await deputy.send("📊 Ведение журнала"))
    assert "📊 Ведение журнала, вся школа, неделя пн, 23 нояб. – вс, 29 нояб." in screen.text
    # The week before, class 7Б: two algebra lessons of Петрова (3А's is left out).
    before = _screen(await deputy.press(screen.callback("Прошлая неделя")))
    assert "неделя пн, 16 нояб. – вс, 22 нояб." in before.text
    chooser = _screen(await deputy.press(before.callback("Класс")))
    report = _screen(await deputy.press(chooser.callback("7Б")))
    assert "📊 Ведение журнала, класс 7Б, неделя пн, 16 нояб. – вс, 22 нояб." in report.text
    replies = await deputy.press(report.callback("XLSX"))
    [document] = _sent(replies, "sendDocument")
    data = document.params["document"]
    assert isinstance(data, UploadedFile)
    assert data.filename == "journal-7Б-2026-11-16-2026-11-22.xlsx"
    book = load_workbook(io.BytesIO(data.data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("Учитель", "Уроков")
    by_teacher = {row[0]: row for row in rows[1:]}
    # Петрова: algebra of the 16th and the 20th; Кузнецова: physics of the 20th.
    assert by_teacher["Петрова Анна"][1] == 2
    assert by_teacher["Петрова Анна"][2] == 0  # no topic entered on time
    assert by_teacher["Кузнецова Вера"][1] == 1
    overdue = list(book.worksheets[1].iter_rows(values_only=True))
    assert {row[1] for row in overdue[1:]} == {"7Б"}
    # The whole school that week counts 3А's lesson too.
    school = _screen(await deputy.press(report.callback("Вся школа")))
    [document] = _sent(await deputy.press(school.callback("XLSX")), "sendDocument")
    book = load_workbook(io.BytesIO(document.params["document"].data))
    school_rows = {row[0]: row for row in book.worksheets[0].iter_rows(values_only=True)}
    assert school_rows["Петрова Анна"][1] == 3
    # A period: the second quarter up to today.
    periods = _screen(await deputy.press(school.callback("Период")))
    quarter = _screen(await deputy.press(periods.callback("II")))
    assert "📊 Ведение журнала, вся школа, 2-я четверть" in quarter.text
    [document] = _sent(await deputy.press(quarter.callback("XLSX")), "sendDocument")
    assert document.params["document"].filename == "journal-school-2026-11-03-2026-12-28.xlsx"
    book = load_workbook(io.BytesIO(document.params["document"].data))
    period_rows = {row[0]: row for row in book.worksheets[0].iter_rows(values_only=True)}
    assert period_rows["Петрова Анна"][1] == 5  # the 16th, 17th, 20th, today, and today's physics
    # Not a deputy, or another school: not found; the menu answers a teacher politely.
    teacher = await _staff(session, chat(95), world.teacher)
    forged = DeputyCb(sc=world.school.school_id).pack()
    assert _alerts(await teacher.press(forged)) == ["Не найдено."]
    for button in (
        DeputyCb(sc=world.school.school_id + 1000),
        DeputyCb(sc=2**63),
        DeputyCb(sc=world.school.school_id, c=2**63),
        DeputyCb(sc=world.school.school_id, p=world.school.period_id + 1000),
        DeputyCb(sc=world.school.school_id, w=-1),
    ):
        assert _alerts(await deputy.press(button.pack())) == ["Не найдено."], button
    assert "заместителя директора" in joined(await teacher.send("📊 Ведение журнала"))
