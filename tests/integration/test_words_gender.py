"""The pupil's sex (students.sex) reaches the words that agree with it: the pushes composed
when sent and the family's screens (issue 16 item 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import time_machine
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import make_i18n
from bot.testing.chat import Chat
from handlers.pushes.family import Composer, family_text
from services import access
from services.db import models as m
from services.linking import PersonId, PersonKind
from services.notifications.content import load_batch
from services.notifications.payloads import AttendanceChange
from services.notifications.queue import Outgoing
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

# Monday 23 November 2026, 12:00 in Moscow: the lesson's day.
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _late_push(session: AsyncSession, world: World, account: int) -> str:
    """The text of a "late" push about Миша to the account, composed as when it is sent."""
    school = world.school
    late = m.Attendance(
        student_id=school.student_id, lesson_id=school.lesson_id, kind="late", reason="unknown"
    )
    session.add(late)
    await session.flush()
    message = Outgoing(
        id=1,
        account_id=account,
        channel="telegram",
        chat_id=account,
        student_id=school.student_id,
        category="attendance",
        dedup_key=f"late:{late.id}",
        payload=AttendanceChange(attendance_id=late.id, lesson_id=school.lesson_id),
        attempts=0,
        created_at=MONDAY_NOON,
    )
    content = (await load_batch(session, [message]))[1]
    assert content is not None
    await session.delete(late)
    await session.flush()
    i18n = make_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        return family_text(Composer(i18n), content)


async def _sex(session: AsyncSession, student: int, sex: str | None) -> None:
    await session.execute(update(m.Student).where(m.Student.id == student).values(sex=sex))


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_the_pupils_sex_reaches_pushes_and_screens(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    mother = await linked(session, chat(7301), PersonId(PersonKind.GUARDIAN, world.mother))
    await _sex(session, world.anya, "f")
    await _sex(session, world.school.student_id, "m")
    anya = await access.student_for(session, mother.user_id, world.anya)
    assert anya.sex == "f"
    children = {c.first_name: c.sex for c in await access.family_students(session, 7301)}
    assert children == {"Аня": "f", "Миша": "m"}

    text = await _late_push(session, world, mother.user_id)
    assert text.startswith("⏰ Миша Иванов опоздал на ")
    await _sex(session, world.school.student_id, "f")
    assert (await _late_push(session, world, mother.user_id)).startswith(
        "⏰ Миша Иванов опоздала на "
    )
    # Unknown: a wording with no gender.
    await _sex(session, world.school.student_id, None)
    assert (await _late_push(session, world, mother.user_id)).startswith(
        "⏰ Миша Иванов: опоздание на "
    )


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_a_student_linking_themself_is_greeted_in_their_gender(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    await _sex(session, world.school.student_id, "f")
    pupil = await linked(
        session, chat(7302), PersonId(PersonKind.STUDENT, world.school.student_id)
    )
    replies = await pupil.send("/start")
    assert any(
        "Вы привязаны как ученица: Миша Иванов, класс 7Б." in str(r.params.get("text"))
        for r in replies
    )
