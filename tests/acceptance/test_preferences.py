"""/settings in the bot: per category and child, quiet hours, low marks, digest time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, Reply
from handlers.callbacks import SettingsCb
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.linking import account_of, linked
from tests.fixtures.schools import World


def _screen(replies: list[Reply]) -> Reply:
    return [r for r in replies if r.method in {"sendMessage", "editMessageText"}][-1]


def _alert(replies: list[Reply]) -> str:
    [answer] = [r for r in replies if r.method == "answerCallbackQuery"]
    return str(answer.params.get("text", ""))


async def _prefs(session: AsyncSession, account: int) -> set[tuple[int | None, str, str]]:
    rows = await session.execute(
        select(
            m.NotificationPreference.student_id,
            m.NotificationPreference.category,
            m.NotificationPreference.mode,
        ).where(m.NotificationPreference.account_id == account)
    )
    return {(s, c, mode) for s, c, mode in rows}


async def test_settings_change_what_and_when(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    parent = await linked(session, chat(91), PersonId(PersonKind.GUARDIAN, world.mother))
    screen = _screen(await parent.send("⚙️ Настройки"))
    assert "📘 Отметки: сразу" in screen.text
    assert "📝 Домашнее задание: выкл." in screen.text
    assert "📅 Итоги недели: вкл. (в воскресенье вечером)" in screen.text
    assert "🌙 Тихие часы: 21:00–08:00. Сообщения дождутся их окончания." in screen.text
    screen = _screen(await parent.press(screen.callback("📘 Отметки")))
    assert screen.method == "editMessageText"
    assert "📘 Отметки: в вечерней сводке" in screen.text
    for button in ("🌙 Тихие часы", "⚠️ Низкая отметка", "🕖 Сводка"):
        screen = _screen(await parent.press(screen.callback(button)))
    assert "🌙 Тихие часы: 22:00–07:00" in screen.text
    assert "⚠️ Выделять отметки 3 и ниже." in screen.text
    assert "🕖 Вечерняя сводка в 20:00." in screen.text
    account = await account_of(session, 91)
    assert account is not None
    await session.refresh(account)
    assert (account.quiet_from, account.quiet_to) == (time(22), time(7))
    assert (account.low_mark_threshold, account.digest_time) == (3, time(20))
    # One child only: Миша's final grades off, the rest as for all children.
    misha = _screen(await parent.press(screen.callback("Только для: Миша")))
    assert "⚙️ <b>Уведомления: Миша Иванов</b>" in misha.text
    assert "📘 Отметки: в вечерней сводке" in misha.text
    misha = _screen(await parent.press(misha.callback("🏁 Итоговые")))
    assert "🏁 Итоговые: выкл." in misha.text
    assert await _prefs(session, 91) == {
        (None, "marks", "digest"),
        (world.school.student_id, "finals", "off"),
    }


async def test_settings_refuse_other_children_and_strangers(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    parent = await linked(session, chat(92), PersonId(PersonKind.GUARDIAN, world.mother))
    for forged in (
        SettingsCb(a="child", s=world.other_child),
        SettingsCb(a="mode", c="marks", s=world.other_child),
        SettingsCb(a="mode", c="marks", s=10**12),
    ):
        assert _alert(await parent.press(forged.pack())) == "Не найдено."
    assert "устарела" in _alert(await parent.press(SettingsCb(a="mode", c="bogus").pack()))
    assert await _prefs(session, 92) == set()
    stranger = chat(93)
    [reply] = [r for r in await stranger.send("/settings") if r.method == "sendMessage"]
    assert reply.text == (
        "Настройки доступны после привязки: сначала привяжите аккаунт кодом от школы."
    )
