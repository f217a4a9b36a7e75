"""Talking to the school through the real dispatcher: a parent writes to the class teacher and a
subject teacher of the child, a certificate's photo is relayed, "ill today" is confirmed in one
press, quiet hours hold a message, and nobody's phone or username is relayed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from aiogram import Bot, Dispatcher
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dispatcher import create_dispatcher
from bot.i18n import make_i18n
from bot.notifications import telegram_sender
from bot.testing.chat import Chat, Reply
from bot.testing.fake_api import FakeBotAPI, Request
from handlers.callbacks import ContactCb
from services.db import models as m
from services.db.session import create_sessionmaker
from services.notifications import changes, fanout
from tests.fixtures.bot import CODE_SECRET
from tests.fixtures.factories import add_class, add_staff, add_subject, mini_school
from tests.fixtures.notifications import fast_delivery

MONDAY = date(2026, 11, 23)
# Monday 23 November 2026, 10:00 in Moscow: school hours, nobody's quiet hours.
MONDAY_TEN = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# 22:30 in Moscow: the teachers' quiet hours (21:00–08:00).
MONDAY_NIGHT = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
TUESDAY_EIGHT = datetime(2026, 11, 24, 5, 1, tzinfo=UTC)
MOTHER, CLASS_TEACHER, TEACHER, OTHER_TEACHER = 701, 702, 703, 704
PHONES = ("+79001112233", "+79004445566", "+79007778899")
NICKNAME = "olga_tg_nick"

Deliver = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class School:
    school_id: int
    student_id: int
    class_teacher: int
    teacher: int
    other_teacher: int
    lessons: tuple[int, ...]


@pytest.fixture
async def school(committing_engine: AsyncEngine) -> School:
    """7Б: Миша with his mother; Вера Кузнецова his class teacher, Анна Петрова his algebra
    teacher, Олег Сидоров who teaches 8А only; three lessons of Миша's on Monday (one of a
    subgroup he is not in)."""
    async with create_sessionmaker(committing_engine)() as session:
        await session.execute(text("SET LOCAL journal.capture = 'off'"))
        built = await mini_school(session, lesson_day=MONDAY)
        await session.execute(
            text("UPDATE guardians SET phone = :p WHERE id = :g"),
            {"p": PHONES[0], "g": built.guardian_id},
        )
        class_teacher = await add_staff(
            session,
            built,
            first_name="Вера",
            last_name="Кузнецова",
            roles=("subject_teacher", "class_teacher"),
            class_id=built.class_id,
            phone=PHONES[1],
        )
        other = await add_staff(
            session, built, first_name="Олег", last_name="Сидоров", phone=PHONES[2]
        )
        eighth = await add_class(session, built, 8, "А")
        russian = await add_subject(session, built, "Русский язык")
        group = m.Subgroup(class_id=built.class_id, subject_id=russian, name="Группа 2")
        session.add(group)
        await session.flush()
        session.add_all(
            [
                m.TeachingAssignment(
                    staff_id=built.teacher_id, class_id=built.class_id, subject_id=built.subject_id
                ),
                m.TeachingAssignment(staff_id=other, class_id=eighth, subject_id=russian),
            ]
        )

        def lesson(slot: int, **values: object) -> m.Lesson:
            row = m.Lesson(
                school_id=built.school_id,
                class_id=built.class_id,
                subject_id=values.pop("subject_id", russian),
                teacher_id=class_teacher,
                date=MONDAY,
                slot=slot,
                starts_at=time(7 + slot, 30),
                ends_at=time(8 + slot, 15),
                **values,
            )
            session.add(row)
            return row

        first, grouped = lesson(1), lesson(4, subgroup_id=group.id)
        await session.flush()
        for account, link in (
            (MOTHER, {"role": "guardian", "guardian_id": built.guardian_id}),
            (CLASS_TEACHER, {"role": "staff", "staff_id": class_teacher}),
            (TEACHER, {"role": "staff", "staff_id": built.teacher_id}),
            (OTHER_TEACHER, {"role": "staff", "staff_id": other}),
        ):
            session.add(
                m.Account(id=account, channel_user_id=account, chat_id=account, language="ru")
            )
            await session.flush()
            session.add(m.AccountLink(account_id=account, **link))
        await session.commit()
        assert grouped.id not in (first.id, built.lesson_id)
    return School(
        built.school_id,
        built.student_id,
        class_teacher,
        built.teacher_id,
        other,
        (first.id, built.lesson_id),
    )


@pytest.fixture
def dispatcher(committing_engine: AsyncEngine) -> Dispatcher:
    return create_dispatcher(
        sessionmaker=create_sessionmaker(committing_engine),
        i18n=make_i18n(),
        code_secret=CODE_SECRET,
    )


@pytest.fixture
def talk(dispatcher: Dispatcher, bot: Bot, fake_api: FakeBotAPI) -> Callable[[int], Chat]:
    def make(user_id: int) -> Chat:
        return Chat(dispatcher, bot, fake_api, user_id, first_name=NICKNAME)

    return make


@pytest.fixture
def deliver(committing_engine: AsyncEngine, bot: Bot) -> Deliver:
    """Journal events to the queue (an absence's push would be queued from them), then the
    queue to the fake Bot API: what has fallen due by the test's clock."""
    sender = telegram_sender(bot, create_sessionmaker(committing_engine), make_i18n(), "ru")

    async def run() -> int:
        await changes.consume_once(
            committing_engine,
            lambda c, events: fanout.handle_events(
                c, events, hold=fanout.Policy().hold, default_zone="Europe/Moscow"
            ),
        )
        return await fast_delivery(committing_engine, sender).run_once()

    return run


def to(fake_api: FakeBotAPI, chat_id: int) -> list[Request]:
    return [
        r
        for r in fake_api.requests
        if r.method in {"sendMessage", "sendPhoto"}
        and r.failed_with is None
        and r.params.get("chat_id") == chat_id
    ]


def relayed(request: Request) -> str:
    return str(request.params.get("text") or request.params.get("caption") or "")


def button(request: Request, label: str) -> str:
    return Reply(request.method, request.params).callback(label)


def no_contacts(texts: list[str]) -> None:
    for value in texts:
        assert NICKNAME not in value
        for phone in PHONES:
            assert phone not in value and phone[2:] not in value


async def test_a_parent_and_the_class_teacher_talk_both_ways_with_a_photo(
    school: School,
    talk: Callable[[int], Chat],
    fake_api: FakeBotAPI,
    deliver: Deliver,
    committing_engine: AsyncEngine,
) -> None:
    with time_machine.travel(MONDAY_TEN, tick=False):
        mother = talk(MOTHER)
        [menu] = [r for r in await mother.send("/contact") if r.method == "sendMessage"]
        assert "Миша Иванов (7Б)" in menu.text
        labels = menu.button_texts()
        assert labels[0] == "Вера Кузнецова — классный руководитель, Русский язык"
        assert "Анна Петрова — Алгебра" in labels
        assert not any("Сидоров" in label for label in labels)
        await mother.press(menu.callback("Кузнецова"))
        [sent] = [r for r in await mother.send("Добрый день! Миша завтра уйдёт с 3 урока.")]
        assert "Отправлено" in sent.text
        await mother.send_photo("certificate-file-id", caption="Справка от врача")
        [sticker] = await mother.send_sticker()
        assert "только текст или фото" in sticker.text
        await deliver()

        to_teacher = to(fake_api, CLASS_TEACHER)
        assert [r.method for r in to_teacher] == ["sendMessage", "sendPhoto"]
        assert relayed(to_teacher[0]) == (
            "✉️ Ольга Иванова (родитель), ребёнок: Миша Иванов, 7Б\n\n"
            "Добрый день! Миша завтра уйдёт с 3 урока."
        )
        assert to_teacher[1].params["photo"] == "certificate-file-id"
        assert "Справка от врача" in relayed(to_teacher[1])

        teacher = talk(CLASS_TEACHER)
        await teacher.press(button(to_teacher[0], "Ответить"))
        await teacher.send("Хорошо, спасибо, отпущу.")
        await deliver()
        [answer] = to(fake_api, MOTHER)[-1:]
        assert relayed(answer) == (
            "✉️ Вера Кузнецова — классный руководитель, Русский язык — о ребёнке: Миша Иванов\n\n"
            "Хорошо, спасибо, отпущу."
        )
        no_contacts([relayed(r) for r in fake_api.requests if r.method.startswith("send")])

    async with committing_engine.connect() as connection:
        threads = (await connection.execute(text("SELECT count(*) FROM contact_threads"))).one()
        messages = (
            await connection.execute(
                text("SELECT from_family, text, attachment FROM contact_messages ORDER BY id")
            )
        ).all()
        audited = (
            await connection.execute(
                text(
                    "SELECT account_id, details->>'from', details->>'photo' FROM audit_log"
                    " WHERE action = 'contact_sent' ORDER BY id"
                )
            )
        ).all()
    assert threads == (1,)
    assert [(f, a) for f, _, a in messages] == [
        (True, None),
        (True, "certificate-file-id"),
        (False, None),
    ]
    assert audited == [
        (MOTHER, "family", "false"),
        (MOTHER, "family", "true"),
        (CLASS_TEACHER, "staff", "false"),
    ]


async def test_ill_today_confirmed_in_one_press_makes_valid_absences_without_absence_pushes(
    school: School,
    talk: Callable[[int], Chat],
    fake_api: FakeBotAPI,
    deliver: Deliver,
    committing_engine: AsyncEngine,
) -> None:
    with time_machine.travel(MONDAY_TEN, tick=False):
        mother = talk(MOTHER)
        await mother.send("/contact")
        await mother.press(ContactCb(a="to", s=school.student_id, t=school.class_teacher).pack())
        [prompt] = [r for r in mother.replies() if r.method == "sendMessage"]
        await mother.press(prompt.callback("болеет"))
        await deliver()
        [note] = to(fake_api, CLASS_TEACHER)
        assert "болеет" in relayed(note) and "пн, 23 нояб." in relayed(note)
        teacher = talk(CLASS_TEACHER)
        [done] = [
            r
            for r in await teacher.press(button(note, "Подтвердить"))
            if r.method == "sendMessage"
        ]
        assert "2 урока" in done.text
        # A second press changes nothing.
        [again] = [
            r
            for r in await teacher.press(button(note, "Подтвердить"))
            if r.method == "sendMessage"
        ]
        assert "уже подтверждено" in again.text
        seen = len(to(fake_api, MOTHER))
        await deliver()
        told = [relayed(r) for r in to(fake_api, MOTHER)[seen:]]
    async with committing_engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT lesson_id, kind, reason, is_valid, author_id FROM attendance"
                    " WHERE student_id = :s ORDER BY lesson_id"
                ),
                {"s": school.student_id},
            )
        ).all()
        confirmed = (
            await connection.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'absence_confirmed'")
            )
        ).scalar_one()
    assert rows == [
        (lesson, "absent", "illness", True, school.class_teacher)
        for lesson in sorted(school.lessons)
    ]
    assert confirmed == 1
    # The family hears of it once, in the thread, with its valid reason: no "absent" pushes.
    assert len(told) == 1
    assert "уважительной причине (болезнь)" in told[0]
    assert "2 урока отмечены в журнале" in told[0]


async def test_only_the_childs_teachers_and_only_while_the_school_allows(
    school: School,
    talk: Callable[[int], Chat],
    fake_api: FakeBotAPI,
    committing_engine: AsyncEngine,
) -> None:
    with time_machine.travel(MONDAY_TEN, tick=False):
        mother = talk(MOTHER)
        # A subject teacher of the child is reachable.
        await mother.press(ContactCb(a="to", s=school.student_id, t=school.teacher).pack())
        assert "Анна Петрова" in mother.replies()[-1].text
        # A teacher of another class is not, even with a forged button.
        [refused] = await mother.press(
            ContactCb(a="to", s=school.student_id, t=school.other_teacher).pack()
        )
        assert refused.method == "answerCallbackQuery" and refused.params["show_alert"]
        # Nor can the other teacher pretend to answer a thread that is not theirs.
        outsider = talk(OTHER_TEACHER)
        async with committing_engine.connect() as connection:
            thread = (
                await connection.execute(text("SELECT id FROM contact_threads"))
            ).scalar_one()
        [denied] = await outsider.press(ContactCb(a="re", t=thread).pack())
        assert denied.method == "answerCallbackQuery" and denied.params["show_alert"]

        async with committing_engine.begin() as connection:
            await connection.execute(
                text("UPDATE schools SET contact_enabled = false WHERE id = :s"),
                {"s": school.school_id},
            )
        [closed] = await mother.send("/contact")
        assert "не принимает сообщения учителям через бота" in closed.text
        before = await _count(committing_engine)
        # What she types now is not relayed: the thread is closed with the school's switch.
        await mother.send("Ещё вопрос")
        assert await _count(committing_engine) == before


async def test_a_message_in_the_teachers_quiet_hours_waits_until_they_end(
    school: School,
    talk: Callable[[int], Chat],
    fake_api: FakeBotAPI,
    deliver: Deliver,
) -> None:
    with time_machine.travel(MONDAY_NIGHT, tick=False):
        mother = talk(MOTHER)
        await mother.press(ContactCb(a="to", s=school.student_id, t=school.teacher).pack())
        [sent] = await mother.send("Можно пересдать контрольную?")
        assert "тихие часы" in sent.text and "08:00" in sent.text
        assert await deliver() == 0
        assert to(fake_api, TEACHER) == []
    with time_machine.travel(TUESDAY_EIGHT, tick=False):
        assert await deliver() == 1
        [message] = to(fake_api, TEACHER)
        assert "Можно пересдать контрольную?" in relayed(message)


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(select(func.count()).select_from(m.ContactMessage))
            ).scalar_one()
        )
