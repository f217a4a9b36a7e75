"""Access per object: forged ids, revoked links, consent; random input changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
import time_machine
from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, joined
from handlers.callbacks import (
    AttendanceCb,
    ChartCb,
    ChildCb,
    ClassCb,
    FinalsCb,
    HomeworkCb,
    MarksCb,
    MarksView,
    ReminderCb,
    ReportCb,
    TimetableCb,
)
from services import access, audit
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.linking import NOW, account_id_of, account_of, linked, links_of
from tests.fixtures.schools import World


async def test_access_service_per_relation(session: AsyncSession, world: World) -> None:
    parent = 31
    await linked(
        session,
        Chat(None, None, None, parent),  # type: ignore[arg-type]
        PersonId(PersonKind.GUARDIAN, world.mother),
    )
    kids = await access.family_students(session, parent)
    assert [(k.first_name, k.relation) for k in kids] == [
        ("Аня", access.Relation.GUARDIAN),
        ("Миша", access.Relation.GUARDIAN),
    ]
    assert (await access.student_for(session, parent, world.anya)).class_label == "3А"
    for foreign in (world.other_child, world.no_consent_child, 10**9):
        with pytest.raises(access.NotFound):
            await access.student_for(session, parent, foreign)
    teacher = 32
    await linked(
        session,
        Chat(None, None, None, teacher),  # type: ignore[arg-type]
        PersonId(PersonKind.STAFF, world.class_teacher),
    )
    # The class teacher reads the own class (seed 000 §6.3), and only that class.
    assert (await access.student_for(session, teacher, world.other_child)).relation is (
        access.Relation.CLASS_TEACHER
    )
    with pytest.raises(access.NotFound):
        await access.student_for(session, teacher, world.anya)
    assert (await access.class_for(session, teacher, world.school.class_id)).label == "7Б"
    with pytest.raises(access.NotFound):
        await access.class_for(session, parent, world.school.class_id)
    # Consent withdrawn: the child disappears at once.
    consent = await session.scalar(select(m.Consent).where(m.Consent.student_id == world.anya))
    assert consent is not None
    consent.revoked_at = NOW
    await session.flush()
    with pytest.raises(access.NotFound):
        await access.student_for(session, parent, world.anya)
    assert [k.first_name for k in await access.family_students(session, parent)] == ["Миша"]


async def test_withdrawn_consent_silences_the_students_own_account_too(
    session: AsyncSession, world: World
) -> None:
    """Seed 003 §1.5: without a parent's consent on record the child is not in the system,
    whoever asks: the student's own link shows nothing and hears nothing from now on."""
    student = 34
    misha = world.school.student_id
    await linked(
        session,
        Chat(None, None, None, student),  # type: ignore[arg-type]
        PersonId(PersonKind.STUDENT, misha),
    )
    assert [k.id for k in await access.family_students(session, student)] == [misha]
    consent = await session.scalar(select(m.Consent).where(m.Consent.student_id == misha))
    assert consent is not None
    consent.revoked_at = NOW
    await session.flush()
    assert await access.family_students(session, student) == []
    with pytest.raises(access.NotFound):
        await access.student_for(session, student, misha)
    hearing = await session.execute(access.family_accounts([misha], accounts=[student]))
    assert hearing.all() == []
    view = await access.overview(session, student)
    assert view.children == [] and view.awaiting_consent == ["Миша Иванов"]


async def test_an_ended_guardianship_shows_and_sends_nothing(
    session: AsyncSession, world: World
) -> None:
    """The roster stops naming the mother as Аня's guardian: the row stays, access ends."""
    parent = 33
    await linked(
        session,
        Chat(None, None, None, parent),  # type: ignore[arg-type]
        PersonId(PersonKind.GUARDIAN, world.mother),
    )
    ship = await session.get(m.Guardianship, (world.mother, world.anya))
    assert ship is not None
    ship.ended_on = NOW.date()
    await session.flush()
    assert [k.first_name for k in await access.family_students(session, parent)] == ["Миша"]
    with pytest.raises(access.NotFound):
        await access.student_for(session, parent, world.anya)
    hearing = await session.execute(access.family_accounts([world.anya], accounts=[parent]))
    assert hearing.all() == []


async def test_child_switcher(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    parent = await linked(session, chat(41), PersonId(PersonKind.GUARDIAN, world.mother))
    replies = await parent.send("👥 Другой ребёнок")
    # Until a choice is made, the first child is shown.
    assert replies[-1].button_texts() == ["✅ Аня 3А", "Миша 7Б"]
    replies = await parent.press(replies[-1].callback("Миша"))
    assert "Сейчас открыт дневник: Миша Иванов, класс 7Б." in joined(replies)
    account = await account_of(session, 41)
    assert account is not None and account.selected_student_id == world.school.student_id
    viewed = (
        await session.execute(
            select(m.AuditEntry.student_id, m.AuditEntry.details).where(
                m.AuditEntry.account_id == 41, m.AuditEntry.action == "viewed"
            )
        )
    ).all()
    assert viewed == [(world.school.student_id, {"screen": "child"})]
    replies = await parent.send("👥 Другой ребёнок")
    assert replies[-1].button_texts() == ["Аня 3А", "✅ Миша 7Б"]
    # Everything the bot sends is protected from forwarding and saving.
    assert all(
        r.params.get("protect_content") is True for r in replies if r.method == "sendMessage"
    )


def _forged_buttons(world: World) -> list[CallbackData]:
    """Every button that carries a student, class, period, subject or day, aimed at another
    family, at nobody, or (for the parent) at a period or subject of no school of theirs."""
    buttons: list[CallbackData] = []
    for student in (world.other_child, world.no_consent_child, 10**12, 2**63):
        buttons.extend(
            [
                ChildCb(student_id=student),
                *(MarksCb(s=student, v=view) for view in MarksView),
                HomeworkCb(s=student, d=date(2026, 11, 24).toordinal()),
                HomeworkCb(s=student, d=date(2026, 11, 24).toordinal(), week=True),
                TimetableCb(s=student, d=date(2026, 11, 24).toordinal()),
                AttendanceCb(s=student),
                FinalsCb(s=student),
                ChartCb(s=student, sub=world.school.subject_id),
                ReportCb(s=student),
            ]
        )
    own = world.anya
    buttons.extend(
        [
            MarksCb(s=own, v=MarksView.PERIOD, p=10**12),
            MarksCb(s=own, v=MarksView.SUBJECT, sub=10**12),
            MarksCb(s=own, v=MarksView.SUBJECT, sub=-5),
            AttendanceCb(s=own, p=10**12),
            ChartCb(s=own, sub=10**12),
            ReportCb(s=own, p=10**12),
            HomeworkCb(s=own, d=10**9),
            TimetableCb(s=own, d=-1),
            ClassCb(c=world.school.class_id),
            ClassCb(c=10**12),
        ]
    )
    return buttons


async def test_forged_buttons_get_not_found(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    parent = await linked(session, chat(51), PersonId(PersonKind.GUARDIAN, world.mother))
    student = await linked(
        session, chat(52), PersonId(PersonKind.STUDENT, world.school.student_id)
    )
    stranger = chat(53)
    for who in (parent, student, stranger):
        for button in _forged_buttons(world):
            replies = await who.press(button.pack())
            [answer] = [r for r in replies if r.method == "answerCallbackQuery"]
            assert answer.params.get("text") == "Не найдено.", button
            assert [r.method for r in replies] == ["answerCallbackQuery"], button
    account = await account_of(session, 51)
    assert account is not None and account.selected_student_id is None
    # Each refused press is audited as DENIED, up to the hourly cap of an account.
    presses = len(_forged_buttons(world))
    assert presses > audit.DENIED_PER_ACCOUNT
    for who in (parent, student, stranger):
        rows = (
            await session.execute(
                select(m.AuditEntry.student_id, m.AuditEntry.details)
                .where(
                    m.AuditEntry.account_id == await account_id_of(session, who.user_id),
                    m.AuditEntry.action == "denied",
                )
                .order_by(m.AuditEntry.id)
            )
        ).all()
        assert len(rows) == audit.DENIED_PER_ACCOUNT
        assert rows[0] == (world.other_child, {"button": "child"})
        assert {r.details["button"] for r in rows} <= {
            "child",
            "mk",
            "hw",
            "tt",
            "at",
            "fn",
            "ch",
            "rc",
        }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=3),
    data=st.lists(
        st.one_of(
            st.text(max_size=64),
            st.builds(lambda n: f"child:{n}", st.integers()),
            st.builds(lambda c: f"lang:{c}", st.text(max_size=5)),
            st.builds(
                lambda prefix, a, b: f"{prefix}:{a}:{b}",
                st.sampled_from(["mk", "hw", "tt", "at", "fn", "ch", "rc", "cl"]),
                st.integers(),
                st.one_of(st.integers(), st.text(max_size=4)),
            ),
        ),
        min_size=1,
        max_size=3,
    ),
)
async def test_random_input_links_nothing_and_is_answered_politely(
    session: AsyncSession,
    world: World,
    chat: Callable[..., Chat],
    texts: list[str],
    data: list[str],
) -> None:
    stranger = chat(61)
    for text in texts:
        replies = await stranger.send(text)
        sent = [r for r in replies if r.method == "sendMessage"]
        assert sent and all(r.text.strip() for r in sent)
        assert all("Traceback" not in r.text for r in sent)
    for payload in data:
        replies = await stranger.press(payload)
        assert any(r.method == "answerCallbackQuery" for r in replies)
    assert await links_of(session, 61) == 0
    account = await account_of(session, 61)
    assert account is None or account.selected_student_id is None
    if account is not None:
        links = select(func.count()).select_from(m.AccountLink)
        assert await session.scalar(links.where(m.AccountLink.account_id == account.id)) == 0


async def _denied(session: AsyncSession, user_id: int | None = None) -> int:
    """Refused presses in the audit log: all, or the Telegram user's."""
    query = select(func.count()).select_from(m.AuditEntry).where(m.AuditEntry.action == "denied")
    if user_id is not None:
        account = await account_of(session, user_id)
        if account is None:
            return 0
        query = query.where(m.AuditEntry.account_id == account.id)
    return int(await session.scalar(query) or 0)


async def test_refused_presses_are_audited_within_the_caps(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        stranger = chat(71)
        await stranger.press(ClassCb(c=world.school.class_id).pack())
        # A teacher's reminder button pressed by somebody who is not staff.
        replies = await stranger.press(ReminderCb(a="s", c="topic").pack())
        assert [r.params.get("text") for r in replies] == ["Эта кнопка больше не действует."]
        rows = (
            await session.execute(
                select(m.AuditEntry.at, m.AuditEntry.details)
                .where(
                    m.AuditEntry.account_id == await account_id_of(session, 71),
                    m.AuditEntry.action == "denied",
                )
                .order_by(m.AuditEntry.id)
            )
        ).all()
        assert rows == [(NOW, {"button": "cl"}), (NOW, {"button": "rem"})]
        # A flood from many accounts: once the hour's rows reach the global cap, a press is
        # still answered, but no row is added.
        await session.execute(
            insert(m.AuditEntry),
            [
                {"account_id": 100_000 + n, "action": "denied", "at": NOW, "details": {}}
                for n in range(audit.DENIED_GLOBAL - 2)
            ],
        )
        await session.commit()
        latecomer = chat(72)
        for _ in range(3):
            replies = await latecomer.press(ChildCb(student_id=world.other_child).pack())
            assert [r.params.get("text") for r in replies] == ["Не найдено."]
        assert await _denied(session, 72) == 0
        assert await _denied(session) == audit.DENIED_GLOBAL
        # An hour later the log takes refused presses again.
        clock.shift(audit.DENIED_WINDOW)
        await latecomer.press(ChildCb(student_id=world.other_child).pack())
        assert await _denied(session, 72) == 1


async def test_unparseable_and_unknown_buttons_are_audited_too(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(NOW, tick=False):
        stranger = chat(73)
        # Data no screen can parse: a forged id, an unknown screen, somebody's text.
        for data in ("child:abc", "mk:1:x", "zz:1", "Мария Иванова +79001234567"):
            replies = await stranger.press(data)
            assert [r.method for r in replies] == ["answerCallbackQuery"], data
        rows = (
            await session.execute(
                select(m.AuditEntry.details)
                .where(
                    m.AuditEntry.account_id == await account_id_of(session, 73),
                    m.AuditEntry.action == "denied",
                )
                .order_by(m.AuditEntry.id)
            )
        ).scalars()
        # Only a prefix that looks like one of ours is kept; anything else is "?".
        assert list(rows) == [
            {"button": "child"},
            {"button": "mk"},
            {"button": "zz"},
            {"button": "?"},
        ]
