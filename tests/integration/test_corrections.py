"""Corrections are never silent (seed 003 §8.6): told to the family, listed for the deputy."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta

import time_machine
from aiogram import Bot
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.i18n import make_i18n
from bot.notifications import telegram_sender
from bot.testing.fake_api import FakeBotAPI
from handlers.pushes.staff import deputy_caption, deputy_headers, deputy_xlsx
from services import reminders, reports
from services.db import models as m
from services.db.session import create_sessionmaker
from services.notifications import changes, fanout
from services.notifications.sender import Sender
from tests.fixtures.notifications import fast_delivery, write_mark
from tests.fixtures.schools import FATHER, MONDAY, MOTHER, SON, Family, at, staffroom

# Monday 23 November 2026 in Moscow: 22:30 (quiet hours) and the next morning after 08:00.
LATE_EVENING = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 11, 24, 5, 0, 1, tzinfo=UTC)
NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

RU_CORRECTED = (
    "⚠️ ✎ Миша Иванов — Алгебра: отметка за пн, 23 нояб. (устный ответ) исправлена: "
    "5 → <b>2</b>. Причина: ошибка при вводе"
)


def _sender(engine: AsyncEngine, bot: Bot) -> Sender:
    return telegram_sender(bot, create_sessionmaker(engine), make_i18n(), "ru")


async def _fan_out(engine: AsyncEngine) -> int:
    return await changes.consume_once(
        engine,
        lambda c, events: fanout.handle_events(
            c, events, hold=timedelta(0), default_zone="Europe/Moscow"
        ),
    )


def _texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [str(r.params["text"]) for r in api.sent_messages(chat)]


def _assert_told_as_correction(api: FakeBotAPI) -> None:
    """One message each, the correction from the value never sent to the current one."""
    assert _texts(api, MOTHER) == [RU_CORRECTED]
    [father] = _texts(api, FATHER)
    assert father.startswith("⚠️ ✎ Миша Иванов — Алгебра: ")
    assert "was corrected: 5 → <b>2</b>. Reason: ошибка при вводе" in father
    [son] = _texts(api, SON)  # Tatar: the same facts, in its own words
    assert "5 → <b>2</b>" in son and "ошибка при вводе" in son
    assert "corrected" not in son and "исправлена" not in son


async def test_a_mark_corrected_during_quiet_hours_reaches_the_family_as_a_correction(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, bot: Bot
) -> None:
    with time_machine.travel(LATE_EVENING, tick=False):
        first = await write_mark(committing_engine, family, "5")
        await _fan_out(committing_engine)
        await write_mark(committing_engine, family, "2", replaces=first, reason="ошибка при вводе")
        await _fan_out(committing_engine)
        assert (
            await fast_delivery(committing_engine, _sender(committing_engine, bot)).run_once() == 0
        )
    with time_machine.travel(NEXT_MORNING, tick=False):
        await fast_delivery(committing_engine, _sender(committing_engine, bot)).run_once()
    _assert_told_as_correction(fake_api)


async def test_a_mark_corrected_before_the_fan_out_ran_is_one_correction(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, bot: Bot
) -> None:
    with time_machine.travel(NOON, tick=False):
        # Both revisions are in the journal before the change reader sees either: one batch.
        first = await write_mark(committing_engine, family, "5")
        await write_mark(committing_engine, family, "2", replaces=first, reason="ошибка при вводе")
        await _fan_out(committing_engine)
        await fast_delivery(committing_engine, _sender(committing_engine, bot)).run_once()
    _assert_told_as_correction(fake_api)


async def test_corrections_waiting_in_the_evening_digest_are_folded_in(
    committing_engine: AsyncEngine, family: Family, fake_api: FakeBotAPI, bot: Bot
) -> None:
    async with committing_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO notification_prefs (account_id, category, mode)"
                " VALUES (:a, 'marks', 'digest')"
            ),
            {"a": MOTHER},
        )
    with time_machine.travel(NOON, tick=False):
        first = await write_mark(committing_engine, family, "5")
        await _fan_out(committing_engine)
        second = await write_mark(committing_engine, family, "4", replaces=first, reason="описка")
        await _fan_out(committing_engine)
        await write_mark(
            committing_engine, family, "2", replaces=second, reason="ошибка при вводе"
        )
        await _fan_out(committing_engine)
    with time_machine.travel(
        NOON + timedelta(hours=7, minutes=1), tick=False
    ):  # 19:01, the digest
        await fast_delivery(committing_engine, _sender(committing_engine, bot)).run_once()
    [digest] = _texts(fake_api, MOTHER)
    assert digest.count("Миша Иванов") == 1
    assert RU_CORRECTED in digest


async def test_the_deputys_week_lists_every_correction_and_flags_the_late_ones(
    session: AsyncSession,
) -> None:
    room = await staffroom(session)
    misha, petya = room.students

    async def revision(
        student: int, value: str | None, day: int, replaces: int | None = None, **extra: object
    ) -> int:
        mark = m.Mark(
            student_id=student,
            lesson_id=room.kept_lesson,
            value=value,
            replaces_id=replaces,
            created_at=at(MONDAY + timedelta(day), 10),
            **extra,
        )
        session.add(mark)
        await session.flush()
        return mark.id

    teacher = {"author_id": room.teacher}
    first = await revision(misha, "5", 0, **teacher)
    # Corrected the next day: before the report's seven days, so in last week's report.
    early = await revision(misha, "4", 1, first, reason="описка", **teacher)
    second = await revision(misha, "3", 5, early, reason="пересдал", **teacher)
    await revision(misha, "2", 9, second, reason="пересмотр работы", **teacher)
    other = await revision(petya, "4", 0, **teacher)
    await revision(petya, None, 6, other, reason="не тот ученик")  # no author given
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [room.school.school_id])
    now = at(MONDAY + timedelta(10), 16)
    week = await reports.deputy_week(
        connection,
        rules,
        start=MONDAY + timedelta(7),
        end=MONDAY + timedelta(10),
        gaps=[],
        now=now,
    )
    told = [
        (c.student, c.was, c.value, c.teacher, c.reason, c.days, c.late) for c in week.corrections
    ]
    assert told == [
        ("Иванов Миша", "4", "3", "Петрова Анна", "пересдал", 5, False),
        ("Иванов Петя", "4", None, "", "не тот ученик", 6, False),
        ("Иванов Миша", "3", "2", "Петрова Анна", "пересмотр работы", 9, True),
    ]
    assert week.correction_days == 7
    with make_i18n("ru").context():
        caption = deputy_caption(week)
        headers = deputy_headers(week.correction_days)
    assert "Исправлено или удалено отметок: 3." in caption
    assert "⚠️ Позже чем через 7 дней после урока: 1" in caption
    assert "• Петрова Анна, 7Б Алгебра, пн, 23 нояб.: 3 → 2 (через 9 дней после урока)" in caption
    book = load_workbook(io.BytesIO(deputy_xlsx(week, headers)))
    sheet = book["Исправления"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Кто исправил", "Класс", "Предмет", "Ученик", "Дата", "Дата исправления",
        "Было", "Стало", "Причина", "Дней после урока", "Позже 7 дней",
    )  # fmt: skip
    assert rows[1][:4] == ("Петрова Анна", "7Б", "Алгебра", "Иванов Миша")
    assert rows[1][4].date() == MONDAY and rows[1][5].date() == MONDAY + timedelta(5)
    assert rows[1][6:] == ("4", "3", "пересдал", 5, None)
    assert rows[2][0] == "—" and rows[2][6:8] == ("4", "удалена")
    assert rows[3][6:] == ("3", "2", "пересмотр работы", 9, "да")
    assert sheet.cell(4, 1).font.color.rgb.endswith("C00000")
    for language in ("en", "tt"):
        with make_i18n(language).context():
            other_caption = deputy_caption(week)
            assert deputy_headers(7)["sheet_corrections"] != headers["sheet_corrections"]
        assert "3 → 2" in other_caption and other_caption != caption
    # A school allowing ten days (an override of seed 003 §8.6's seven) flags none.
    lenient = dataclasses.replace(
        rules, profile=dataclasses.replace(rules.profile, correction_days=10)
    )
    week = await reports.deputy_week(
        connection,
        lenient,
        start=MONDAY + timedelta(7),
        end=MONDAY + timedelta(10),
        gaps=[],
        now=now,
    )
    assert not any(c.late for c in week.corrections) and week.correction_days == 10


async def test_a_corrected_final_grade_is_in_the_deputys_corrections(
    session: AsyncSession,
) -> None:
    """Seed 003 §8.6 holds for final grades too: a quarter's grade corrected is listed with
    its period, counted from the period's last day."""
    room = await staffroom(session)
    misha = room.students[0]
    period = room.school.period_id  # the second quarter: 3 November – 28 December
    first = m.FinalGrade(
        student_id=misha,
        subject_id=room.school.subject_id,
        period_id=period,
        value="3",
        author_id=room.teacher,
        created_at=at(MONDAY, 10),
    )
    session.add(first)
    await session.flush()
    session.add(
        m.FinalGrade(
            student_id=misha,
            subject_id=room.school.subject_id,
            period_id=period,
            value="4",
            author_id=room.teacher,
            replaces_id=first.id,
            reason="ошибка при выставлении",
            created_at=at(MONDAY + timedelta(2), 10),
        )
    )
    await session.flush()
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [room.school.school_id])
    week = await reports.deputy_week(
        connection,
        rules,
        start=MONDAY,
        end=MONDAY + timedelta(4),
        gaps=[],
        now=at(MONDAY + timedelta(4), 16),
    )
    [entry] = week.corrections
    assert (entry.was, entry.value, entry.reason, entry.period_kind, entry.period_number) == (
        "3",
        "4",
        "ошибка при выставлении",
        "quarter",
        2,
    )
    assert entry.day == date(2026, 12, 28) and not entry.late
    with make_i18n("ru").context():
        headers = deputy_headers(week.correction_days)
        book = load_workbook(io.BytesIO(deputy_xlsx(week, headers)))
    rows = list(book["Исправления"].iter_rows(values_only=True))
    assert rows[1][2] == "Алгебра, итоговая за II"
