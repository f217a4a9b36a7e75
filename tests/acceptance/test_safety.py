"""Safety and clarity: /logout asks first; a person the school cut off is told so and what to
do; a push held by quiet hours goes at once when they are turned off; the quiet hours read
right; in a group the bot answers only what is meant for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import time_machine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply, joined
from services import linking, reminders
from services.linking import PersonId, PersonKind
from services.reminders import Run
from tests.fixtures.linking import NOW, issue, linked, links_of
from tests.fixtures.schools import MONDAY, TEACHER_ACCOUNT, World, at, staffroom


def _screen(replies: list[Reply]) -> Reply:
    return [r for r in replies if r.method in {"sendMessage", "editMessageText"}][-1]


def _alert(replies: list[Reply]) -> str:
    [answer] = [r for r in replies if r.method == "answerCallbackQuery"]
    return str(answer.params.get("text", ""))


@time_machine.travel(NOW, tick=False)
async def test_logout_asks_first_and_both_answers_do_what_they_say(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    parent = await linked(session, chat(9901), PersonId(PersonKind.GUARDIAN, world.mother))
    question = _screen(await parent.send("/logout"))
    assert "Отвязать этот аккаунт Telegram от журнала?" in question.text
    assert question.button_texts() == ["Да, отвязать", "Нет, остаться"]
    # Nothing is unlinked by the question itself.
    assert await links_of(session, 9901) == 1
    kept = _screen(await parent.press(question.callback("Нет")))
    assert kept.method == "editMessageText"
    assert kept.text == "Ничего не изменилось: аккаунт остаётся привязанным."
    assert await links_of(session, 9901) == 1
    question = _screen(await parent.send("/logout"))
    replies = await parent.press(question.callback("Да"))
    done = [r for r in replies if r.method == "editMessageText"]
    assert "отвязан" in done[0].text
    # The linked menu goes with the link.
    assert any(r.params.get("reply_markup", {}).get("remove_keyboard") for r in replies)
    assert await links_of(session, 9901) == 0
    # Asked again: there is nothing to unlink, and no question.
    assert joined(await parent.send("/logout")) == "Этот аккаунт Telegram ни к кому не привязан."
    # One's own logout is no revocation: the usual answers, not the school's notice.
    assert "Школа закрыла" not in joined(await parent.send("/start"))


@time_machine.travel(NOW, tick=False)
async def test_a_person_whose_access_the_school_revoked_is_told_and_how_to_come_back(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    person = PersonId(PersonKind.GUARDIAN, world.mother)
    parent = await linked(session, chat(9902), person)
    assert "📘" in joined(await parent.send("📘 Отметки"))
    await linking.revoke_person(session, person=person, now=NOW, reason="left the school")
    # Their next message, whatever it is, is answered with what happened and what to do.
    replies = await parent.send("📘 Отметки")
    told = joined(replies)
    assert "Школа закрыла этому аккаунту доступ к журналу" in told
    assert "администратору электронного журнала или классному руководителю" in told
    assert "новый код доступа" in told
    assert replies[-1].params["reply_markup"] == {"remove_keyboard": True}
    assert "Школа закрыла" in joined(await parent.send("/start"))
    # An old button: a short alert saying the same.
    assert "Школа закрыла" in _alert(await parent.press("mk:1:p:0:0:0"))
    # /help still helps, and a new code from the school links again.
    assert "Школа закрыла" not in joined(await parent.send("/help"))
    code = await issue(session, person)
    assert "Готово" in joined(await parent.send(code))
    assert "Школа закрыла" not in joined(await parent.send("📘 Отметки"))


async def test_a_held_push_goes_at_once_when_quiet_hours_are_turned_off(
    session: AsyncSession, chat: Callable[..., Chat]
) -> None:
    room = await staffroom(session)
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [room.school.school_id])
    teacher = chat(TEACHER_ACCOUNT)
    late = at(MONDAY, 23)  # inside the default quiet hours, 21:00–08:00

    async def due() -> datetime:
        value = (
            await connection.execute(
                text("SELECT not_before FROM notifications WHERE account_id = :a"),
                {"a": TEACHER_ACCOUNT},
            )
        ).scalar_one()
        assert isinstance(value, datetime)
        return value

    await reminders.queue_reminders(connection, rules, Run.EVENING, at(MONDAY, 22, 50))
    assert await due() == at(MONDAY + timedelta(1), 8)
    with time_machine.travel(late, tick=False):
        screen = _screen(await teacher.send("/settings"))
        # Narrowed to 22:00–07:00: it waits only until the new end.
        screen = _screen(await teacher.press(screen.callback("🌙 Тихие часы")))
        assert await due() == at(MONDAY + timedelta(1), 7)
        # 23:00–07:00: the same end, nothing moves.
        screen = _screen(await teacher.press(screen.callback("🌙 Тихие часы")))
        assert await due() == at(MONDAY + timedelta(1), 7)
        # Off: it goes now, not in the morning.
        screen = _screen(await teacher.press(screen.callback("🌙 Тихие часы")))
        assert "🌙 Тихие часы выключены: сообщения приходят в любое время." in screen.text
        assert await due() == late.astimezone(UTC)


@time_machine.travel(NOW, tick=False)
async def test_quiet_hours_read_right_on_and_off(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    parent = await linked(session, chat(9903), PersonId(PersonKind.GUARDIAN, world.mother))
    screen = _screen(await parent.send("/settings"))
    assert "🌙 Тихие часы: 21:00–08:00. Сообщения дождутся их окончания." in screen.text
    for _ in range(3):  # 22–7, 23–7, off
        screen = _screen(await parent.press(screen.callback("🌙 Тихие часы")))
    assert "🌙 Тихие часы выключены: сообщения приходят в любое время." in screen.text
    assert ".." not in screen.text
    assert "дождутся" not in screen.text
    assert "🌙 Тихие часы: выкл." in screen.button_texts()
    account_quiet = (
        await session.execute(
            text("SELECT quiet_from, quiet_to FROM accounts WHERE channel_user_id = 9903")
        )
    ).one()
    assert tuple(account_quiet) == (time(0), time(0))


@time_machine.travel(NOW, tick=False)
async def test_in_a_group_the_bot_answers_commands_and_mentions_only(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    group = chat(9904, chat_type="group", chat_id=-100777)
    pointer = "Я работаю только в личном чате. Откройте чат со мной, чтобы продолжить."

    def sent(replies: list[Reply]) -> list[Reply]:
        return [r for r in replies if r.method != "getMe"]

    # The members' own talk: nothing at all.
    assert sent(await group.send("Кто знает, что задали по алгебре?")) == []
    assert sent(await group.send("5UDHVA5STT")) == []
    # A command to another bot is not ours either.
    assert sent(await group.send("/help@other_bot")) == []
    # A command, plain or addressed to this bot, and a mention get the pointer.
    assert joined(await group.send("/help")) == pointer
    assert joined(await group.send("/marks@journal_demo_bot")) == pointer
    mention = "@journal_demo_bot подскажи оценки"
    replies = await group._feed(
        {
            "message": group._message(
                text=mention, entities=[{"type": "mention", "offset": 0, "length": 17}]
            )
        }
    )
    assert joined(replies) == pointer
    assert await links_of(session, 9904) == 0
