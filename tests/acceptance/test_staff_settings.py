"""⚙️ Settings for staff: which reminders and reports they get, quiet hours that hold their
reminders, and the language; each choice honoured where staff messages are queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.testing.chat import Chat, Reply
from handlers.callbacks import SettingsCb
from services import reminders, reports
from services.linking import PersonId, PersonKind
from services.reminders import Run, SchoolRules
from tests.fixtures.linking import NOW, account_of, linked
from tests.fixtures.schools import (
    DEPUTY_ACCOUNT,
    MONDAY,
    SUBSTITUTE_ACCOUNT,
    TEACHER_ACCOUNT,
    Staffroom,
    World,
    at,
    staffroom,
)


def _screen(replies: list[Reply]) -> Reply:
    return [r for r in replies if r.method in {"sendMessage", "editMessageText"}][-1]


def _alert(replies: list[Reply]) -> str:
    [answer] = [r for r in replies if r.method == "answerCallbackQuery"]
    return str(answer.params.get("text", ""))


async def _rules(connection: AsyncConnection, room: Staffroom) -> SchoolRules:
    [rules] = await reminders.schools(connection, [room.school.school_id])
    return rules


async def _queued(
    connection: AsyncConnection, account: int, category: str
) -> list[dict[str, object]]:
    rows = await connection.execute(
        text(
            "SELECT payload FROM notifications WHERE account_id = :a AND category = :c ORDER BY id"
        ),
        {"a": account, "c": category},
    )
    return [dict(payload) for (payload,) in rows]


async def test_a_teacher_turns_a_reminder_kind_and_a_report_off(
    session: AsyncSession, chat: Callable[..., Chat]
) -> None:
    room = await staffroom(session)
    teacher = chat(TEACHER_ACCOUNT)
    with time_machine.travel(at(MONDAY, 19), tick=False):
        screen = _screen(await teacher.send("⚙️ Настройки"))
        # Not the families' answer any more: the teacher's own settings.
        assert "родители и ученики" not in screen.text
        assert "⚙️ <b>Настройки</b>" in screen.text
        assert "⏰ Напоминания о записях в журнале:" in screen.text
        assert "• темы урока: включены" in screen.text
        # The teacher is 7Б's class teacher: the class's reports are listed; not the deputy's.
        assert "• Итоги недели класса по пятницам: вкл." in screen.text
        assert "Ведение журнала" not in screen.text
        assert "🌙 Тихие часы: 21:00–08:00. Сообщения дождутся их окончания." in screen.text
        assert "🌐 Язык: Русский." in screen.text
        screen = _screen(await teacher.press(screen.callback("🔕 темы урока")))
        assert screen.method == "editMessageText"
        assert "• темы урока: выкл." in screen.text
        assert "🔔 темы урока: включить" in screen.button_texts()
        screen = _screen(await teacher.press(screen.callback("🔕 Итоги недели класса")))
        assert "• Итоги недели класса по пятницам: выкл." in screen.text
    connection = await session.connection()
    rules = await _rules(connection, room)
    await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 20))
    [reminder] = await _queued(connection, TEACHER_ACCOUNT, "reminder")
    gaps = reminder["gaps"]
    assert isinstance(gaps, list)
    # Topics are off for this teacher; the rest of the lesson's gaps are still told.
    assert {g["category"] for g in gaps} == {"attendance", "homework"}
    # Another teacher's choice is their own: the substitute still hears of the topic.
    [other] = await _queued(connection, SUBSTITUTE_ACCOUNT, "reminder")
    assert isinstance(other["gaps"], list)
    assert {g["category"] for g in other["gaps"]} == {"topic"}
    friday = at(MONDAY + timedelta(4), 16, 30)
    await reports.queue_weekly_reports(connection, rules, friday)
    assert await _queued(connection, TEACHER_ACCOUNT, "class_week") == []
    assert len(await _queued(connection, DEPUTY_ACCOUNT, "deputy_week")) == 1
    # On again: the next week's report is queued.
    with time_machine.travel(at(MONDAY, 19, 5), tick=False):
        screen = _screen(await teacher.send("/settings"))
        screen = _screen(await teacher.press(screen.callback("🔔 Итоги недели класса")))
        assert "• Итоги недели класса по пятницам: вкл." in screen.text
    await reports.queue_weekly_reports(connection, rules, friday + timedelta(days=7))
    assert len(await _queued(connection, TEACHER_ACCOUNT, "class_week")) == 1


async def test_a_teachers_quiet_hours_hold_reminders_and_the_language_is_theirs(
    session: AsyncSession, chat: Callable[..., Chat]
) -> None:
    room = await staffroom(session)
    teacher = chat(TEACHER_ACCOUNT)
    with time_machine.travel(at(MONDAY, 19), tick=False):
        screen = _screen(await teacher.send("/settings"))
        screen = _screen(await teacher.press(screen.callback("🌙 Тихие часы")))
        assert "🌙 Тихие часы: 22:00–07:00. Сообщения дождутся их окончания." in screen.text
    connection = await session.connection()
    rules = await _rules(connection, room)
    # The evening run at 22:30 falls in the teacher's quiet hours: it waits until 07:00.
    await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 22, 30))
    due = (
        await connection.execute(
            text("SELECT not_before FROM notifications WHERE account_id = :a"),
            {"a": TEACHER_ACCOUNT},
        )
    ).scalar_one()
    assert due == at(MONDAY + timedelta(1), 7)
    # The language: chosen from the same screen, then the screen speaks it.
    with time_machine.travel(at(MONDAY, 19, 10), tick=False):
        screen = _screen(await teacher.send("/settings"))
        replies = await teacher.press(screen.callback("🌐 Язык"))
        await teacher.press(replies[-1].callback("English"))
        screen = _screen(await teacher.send("/settings"))
    assert "⚙️ <b>Settings</b>" in screen.text
    assert "• lesson topics: on" in screen.text
    assert "🌙 Quiet hours: 22:00–07:00. Messages wait until they end." in screen.text
    account = await account_of(session, TEACHER_ACCOUNT)
    assert account is not None
    await session.refresh(account)
    assert account.language == "en"


async def test_staff_settings_buttons_change_only_ones_own_and_allowed(
    session: AsyncSession, chat: Callable[..., Chat]
) -> None:
    await staffroom(session)
    connection = await session.connection()
    teacher = chat(TEACHER_ACCOUNT)
    stranger = chat(9801)
    with time_machine.travel(at(MONDAY, 19), tick=False):
        # Somebody who is not staff: a forged reminder switch changes nothing.
        forged = SettingsCb(a="rem", c="topic", v="t").pack()
        assert "устарела" in _alert(await stranger.press(forged))
        # The teacher is no deputy: the deputy's report is not theirs to switch.
        deputy_only = SettingsCb(a="rep", c="deputy_week", v="t").pack()
        assert "устарела" in _alert(await teacher.press(deputy_only))
        nonsense = SettingsCb(a="rem", c="everything", v="t").pack()
        assert "устарела" in _alert(await teacher.press(nonsense))
        # A linked nobody sees what to do first.
        [reply] = [r for r in await stranger.send("/settings") if r.method == "sendMessage"]
        assert reply.text == (
            "Настройки доступны после привязки: сначала привяжите аккаунт кодом от школы."
        )
    assert await reminders.mutes(connection, TEACHER_ACCOUNT, at(MONDAY, 20)) == {}
    prefs = (
        await connection.execute(
            text("SELECT count(*) FROM notification_prefs WHERE account_id IN (:a, 9801)"),
            {"a": TEACHER_ACCOUNT},
        )
    ).scalar_one()
    assert prefs == 0


@time_machine.travel(NOW, tick=False)
async def test_a_parent_who_teaches_has_both_screens(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    both = await linked(session, chat(9802), PersonId(PersonKind.GUARDIAN, world.mother))
    await linked(session, both, PersonId(PersonKind.STAFF, world.teacher))
    screen = _screen(await both.send("/settings"))
    # The family's screen first, with the way to the teacher's.
    assert "📘 Отметки: сразу" in screen.text
    screen = _screen(await both.press(screen.callback("🧑‍🏫 Сообщения для учителя")))
    assert "⏰ Напоминания о записях в журнале:" in screen.text
    assert "Мало отметок перед концом периода: вкл." in screen.text
    screen = _screen(await both.press(screen.callback("◀ Уведомления о детях")))
    assert "📘 Отметки: сразу" in screen.text
