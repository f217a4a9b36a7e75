"""/history through the real dispatcher (issue 16, item 6): the latest pushes per child, at the
school's local time, only of children the account may see now."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, joined
from services.db import models as m
from services.linking import PersonId, PersonKind
from services.notifications.payloads import (
    AttendanceChange,
    Digest,
    MarkChange,
    NewHomework,
    Payload,
    encode,
)
from tests.fixtures.factories import add_lesson, add_mark
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

# Monday 23 November 2026, 20:00 in Yekaterinburg (UTC+5), where the school is.
EVENING = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MOTHER = 91


async def _sent(
    session: AsyncSession,
    student_id: int | None,
    payload: Payload,
    sent_at: datetime,
    *,
    key: str,
    status: str = "sent",
) -> None:
    session.add(
        m.Notification(
            account_id=MOTHER,
            chat_id=MOTHER,
            student_id=student_id,
            category="marks",
            dedup_key=key,
            payload=json.loads(encode(payload)),
            status=status,
            not_before=sent_at,
            created_at=sent_at,
            sent_at=sent_at if status == "sent" else None,
        )
    )
    await session.flush()


@time_machine.travel(EVENING, tick=False)
async def test_history_lists_each_childs_pushes_in_the_schools_time(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    school = world.school
    await session.execute(
        update(m.School)
        .where(m.School.id == school.school_id)
        .values(timezone="Asia/Yekaterinburg")
    )
    parent = await linked(
        session, chat(MOTHER), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )
    misha = school.student_id
    mark = await add_mark(
        session,
        student_id=misha,
        lesson_id=school.lesson_id,
        value="5",
        work_kind_id=school.work_kind_id,
    )
    homework = m.Homework(lesson_id=school.lesson_id, due_date=date(2026, 11, 24), text="№ 7")
    class_3a = await session.scalar(select(m.Student.class_id).where(m.Student.id == world.anya))
    anya_lesson = await add_lesson(
        session, school, day=date(2026, 11, 23), slot=1, class_id=class_3a
    )
    absence = m.Attendance(student_id=world.anya, lesson_id=anya_lesson, kind="absent")
    other = await add_mark(
        session, student_id=world.other_child, lesson_id=school.lesson_id, value="2"
    )
    session.add_all([homework, absence])
    await session.flush()
    await _sent(
        session, misha, MarkChange(mark_id=mark), datetime(2026, 11, 23, 9, 5, tzinfo=UTC), key="a"
    )
    await _sent(
        session,
        world.anya,
        AttendanceChange(attendance_id=absence.id, lesson_id=anya_lesson),
        datetime(2026, 11, 23, 7, 10, tzinfo=UTC),
        key="b",
    )
    await _sent(
        session,
        None,
        Digest(
            items=(
                NewHomework(student_id=misha, homework_id=homework.id, lesson_id=school.lesson_id),
            )
        ),
        datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
        key="c",
    )
    # Not this account's child, and a message still waiting: neither is history.
    await _sent(
        session,
        world.other_child,
        MarkChange(mark_id=other),
        datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        key="d",
    )
    await _sent(
        session,
        misha,
        MarkChange(mark_id=mark),
        datetime(2026, 11, 23, 9, 40, tzinfo=UTC),
        key="e",
        status="pending",
    )
    await session.commit()

    text = joined(await parent.send("/history"))
    assert text.startswith(
        "🔔 <b>Последние уведомления</b>\nВремя указано по часовому поясу школы."
    )
    anya_part, misha_part = text.split("👤 <b>Миша Иванов</b>, 7Б")
    assert "👤 <b>Аня Иванова</b>, 3А\n<b>пн, 23 нояб., 12:10</b>\n🚸 Аня Иванова" in anya_part
    # Newest first: the evening digest at 19:00 local time, then the mark at 14:05.
    assert misha_part.index("<b>пн, 23 нояб., 19:00</b> · 🌙 вечерняя сводка") < misha_part.index(
        "<b>пн, 23 нояб., 14:05</b>\n📘 Миша Иванов — Алгебра: <b>5</b> (тест, пн, 23 нояб.)"
    )
    assert "№ 7" in misha_part
    assert "Петя" not in text and "14:40" not in text
    # Words ask for it too.
    assert joined(await parent.send("уведомления")) == text

    # The guardianship of Аня ends: her pushes go with it.
    await session.execute(
        update(m.Guardianship)
        .where(m.Guardianship.student_id == world.anya)
        .values(ended_on=date(2026, 11, 23))
    )
    await session.commit()
    after = joined(await parent.send("/history"))
    assert "Аня" not in after and "12:10" not in after
    assert "14:05" in after


@time_machine.travel(EVENING, tick=False)
async def test_history_of_a_child_without_pushes_and_of_nobody(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    student = await linked(
        session, chat(92), PersonId(PersonKind.STUDENT, world.school.student_id), language="en"
    )
    text = joined(await student.send("/history"))
    assert "👤 <b>Миша Иванов</b>, 7Б\nNo notifications yet." in text
    stranger = chat(93, language_code="en")
    assert joined(await stranger.send("/history")) == (
        "Nothing to show: this account is not linked to a student."
    )
