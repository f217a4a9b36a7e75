"""Threads between families and teachers on the delivery side (services/contact.py): what a
confirmed illness note does to attendance already entered and to its captured events, access
checked again when a message is sent, and a photo sent by its file id, protected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import time_machine
from aiogram import Bot
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import make_i18n
from bot.notifications import telegram_sender
from bot.testing.fake_api import FakeBotAPI
from services import contact
from services.access import NotFound
from services.db import models as m
from services.db.session import create_sessionmaker
from services.notifications import changes, fanout
from tests.fixtures.factories import add_staff, mini_school
from tests.fixtures.notifications import fast_delivery

MONDAY = date(2026, 11, 23)
# Monday 23 November 2026, 10:00 in Moscow: nobody's quiet hours.
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
MOTHER, CLASS_TEACHER = 801, 802


@dataclass(frozen=True)
class Thread:
    id: int
    student_id: int
    late_lesson: int
    absent_lesson: int
    free_lesson: int


@pytest.fixture(autouse=True)
def monday_ten() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
async def thread(committing_engine: AsyncEngine) -> Thread:
    """Миша (7Б) and his mother in a thread with his class teacher; on Monday he was late for
    lesson 1 and marked absent (no reason yet) at lesson 2 before the note was confirmed."""
    async with create_sessionmaker(committing_engine)() as session:
        await session.execute(text("SET LOCAL journal.capture = 'off'"))
        school = await mini_school(session, lesson_day=MONDAY)
        class_teacher = await add_staff(
            session,
            school,
            first_name="Вера",
            last_name="Кузнецова",
            roles=("class_teacher",),
            class_id=school.class_id,
        )
        lessons = [
            m.Lesson(
                school_id=school.school_id,
                class_id=school.class_id,
                subject_id=school.subject_id,
                teacher_id=school.teacher_id,
                date=MONDAY,
                slot=slot,
                starts_at=time(7 + slot, 30),
                ends_at=time(8 + slot, 15),
            )
            for slot in (1, 3)
        ]
        session.add_all(lessons)
        for account, link in (
            (MOTHER, {"role": "guardian", "guardian_id": school.guardian_id}),
            (CLASS_TEACHER, {"role": "staff", "staff_id": class_teacher}),
        ):
            session.add(
                m.Account(id=account, channel_user_id=account, chat_id=account, language="ru")
            )
            await session.flush()
            session.add(m.AccountLink(account_id=account, **link))
        await session.flush()
        session.add(
            m.Attendance(
                student_id=school.student_id,
                lesson_id=lessons[0].id,
                kind="late",
                minutes_late=10,
            )
        )
        await session.commit()
    async with create_sessionmaker(committing_engine)() as session:
        opened = await contact.open_thread(
            session,
            account_id=MOTHER,
            student_id=school.student_id,
            staff_id=class_teacher,
            now=NOW,
        )
    # The subject teacher marks the absence as any program would: captured, not yet told.
    async with committing_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO attendance (student_id, lesson_id) VALUES (:s, :l)"),
            {"s": school.student_id, "l": school.lesson_id},
        )
    return Thread(opened.id, school.student_id, lessons[0].id, school.lesson_id, lessons[1].id)


async def _deliver(engine: AsyncEngine, bot: Bot) -> int:
    await changes.consume_once(
        engine,
        lambda c, events: fanout.handle_events(
            c, events, hold=fanout.Policy().hold, default_zone="Europe/Moscow"
        ),
    )
    sender = telegram_sender(bot, create_sessionmaker(engine), make_i18n(), "ru")
    return await fast_delivery(engine, sender).run_once()


async def test_a_confirmed_note_keeps_lateness_explains_an_absence_and_is_told_once(
    committing_engine: AsyncEngine, thread: Thread, fake_api: FakeBotAPI, bot: Bot
) -> None:
    sessions = create_sessionmaker(committing_engine)
    async with sessions() as session:
        sent = await contact.send(
            session, account_id=MOTHER, thread_id=thread.id, now=NOW, illness=True
        )
        done = await contact.confirm_illness(
            session, account_id=CLASS_TEACHER, message_id=sent.message_id, now=NOW
        )
    assert (done.lessons, done.already) == (2, False)
    async with committing_engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT lesson_id, kind, reason, is_valid FROM attendance"
                    " WHERE student_id = :s ORDER BY lesson_id"
                ),
                {"s": thread.student_id},
            )
        ).all()
    assert sorted(rows) == sorted(
        [
            (thread.late_lesson, "late", "unknown", False),
            (thread.absent_lesson, "absent", "illness", True),
            (thread.free_lesson, "absent", "illness", True),
        ]
    )
    await _deliver(committing_engine, bot)
    told = [str(r.params["text"]) for r in fake_api.sent_messages(MOTHER)]
    assert len(told) == 1 and "уважительной причине (болезнь)" in told[0]
    assert "2 урока отмечены в журнале" in told[0]


async def test_access_is_checked_again_when_a_message_is_sent(
    committing_engine: AsyncEngine, thread: Thread, fake_api: FakeBotAPI, bot: Bot
) -> None:
    sessions = create_sessionmaker(committing_engine)
    async with sessions() as session:
        await contact.write_in(session, account_id=CLASS_TEACHER, thread_id=thread.id, now=NOW)
        await contact.send(
            session, account_id=CLASS_TEACHER, thread_id=thread.id, now=NOW, text="Спасибо"
        )
    # The mother's link is revoked before the answer goes out: it is not delivered.
    async with committing_engine.begin() as connection:
        await connection.execute(
            text("UPDATE account_links SET revoked_at = :t WHERE account_id = :a"),
            {"t": NOW, "a": MOTHER},
        )
    await _deliver(committing_engine, bot)
    assert not any("Спасибо" in str(r.params["text"]) for r in fake_api.sent_messages(MOTHER))
    async with committing_engine.connect() as connection:
        status = (
            await connection.execute(
                text("SELECT status FROM notifications WHERE category = 'contact'")
            )
        ).scalar_one()
    assert status != "pending"
    # Nor may she write any more.
    async with sessions() as session:
        with pytest.raises(NotFound):
            await contact.send(
                session, account_id=MOTHER, thread_id=thread.id, now=NOW, text="Ещё"
            )


async def test_a_photo_goes_by_its_file_id_protected_and_too_long_text_is_refused(
    committing_engine: AsyncEngine, thread: Thread, fake_api: FakeBotAPI, bot: Bot
) -> None:
    sessions = create_sessionmaker(committing_engine)
    async with sessions() as session:
        with pytest.raises(ValueError, match="too long"):
            await contact.send(
                session,
                account_id=MOTHER,
                thread_id=thread.id,
                now=NOW,
                text="а" * (contact.MAX_CAPTION + 1),
                attachment="file-1",
            )
        await contact.send(
            session,
            account_id=MOTHER,
            thread_id=thread.id,
            now=NOW,
            text="Справка",
            attachment="file-1",
        )
    await _deliver(committing_engine, bot)
    [photo] = [r for r in fake_api.requests if r.method == "sendPhoto"]
    assert photo.params["chat_id"] == CLASS_TEACHER
    assert photo.params["photo"] == "file-1"
    assert photo.params["protect_content"] in (True, "true")
    assert str(photo.params["caption"]).endswith("Справка")
    async with committing_engine.connect() as connection:
        stored = (
            await connection.execute(text("SELECT count(*) FROM contact_messages"))
        ).scalar_one()
    assert stored == 1


async def test_the_school_switch_from_the_command_line_closes_threads(
    committing_engine: AsyncEngine, thread: Thread, database_url: str, tmp_path: Path
) -> None:
    from tests.fixtures.cli import run_journalbot

    async with committing_engine.connect() as connection:
        school = (await connection.execute(text("SELECT id FROM schools"))).scalar_one()
    code, out, _ = await run_journalbot(
        database_url, tmp_path, "school", "contact", "--school", str(school), "off"
    )
    assert code == 0 and "messages to teachers off" in out
    async with create_sessionmaker(committing_engine)() as session:
        with pytest.raises(contact.Closed):
            await contact.send(
                session, account_id=MOTHER, thread_id=thread.id, now=NOW, text="Вопрос"
            )
    code, _, err = await run_journalbot(
        database_url, tmp_path, "school", "contact", "--school", "99999", "on"
    )
    assert code == 1 and "no school 99999" in err
