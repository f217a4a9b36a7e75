"""Linking flows, fed as whole conversations through create_dispatcher() and the fake Bot API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.testing.chat import Chat, joined
from services import linking
from services.db import models as m
from services.linking import PersonId, PersonKind
from tests.fixtures.bot import CODE_SECRET
from tests.fixtures.linking import NOW, account_id_of, account_of, issue, links_of
from tests.fixtures.schools import World


@time_machine.travel(NOW, tick=False)
async def test_deep_link_links_a_guardian_of_two_children(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.GUARDIAN, world.mother))
    parent = chat()
    replies = await parent.send(f"/start {code}")
    text = joined(replies)
    assert "Аккаунт привязан" in text
    assert "Миша Иванов, 7Б" in text and "Аня Иванова, 3А" in text
    assert "Петя" not in text
    menu = replies[-1].button_texts()
    assert "📘 Отметки" in menu and "👥 Другой ребёнок" in menu
    assert await links_of(session, parent.user_id) == 1
    used = await session.scalar(select(m.ActivationCode.used_at))
    assert used is not None


@time_machine.travel(NOW, tick=False)
async def test_typed_code_with_dashes_and_lower_case_links_a_student(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.STUDENT, world.school.student_id))
    student = chat(6001, language_code="en")
    welcome = joined(await student.send("/start"))
    assert "send me the access code" in welcome
    typed = f"{code[:5].lower()}-{code[5:]}"
    text = joined(await student.send(typed))
    assert "linked as a student: Миша Иванов, class 7Б" in text
    menu = student.replies()[-1].button_texts()
    assert "👥 Switch child" not in menu


@time_machine.travel(NOW, tick=False)
async def test_staff_code_links_a_teacher_with_roles(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.STAFF, world.class_teacher))
    teacher = chat(7001)
    replies = await teacher.send(f"/start {code}")
    assert "Вера Кузнецова" in joined(replies)
    assert "🏫 Мой класс" in replies[-1].button_texts()


@time_machine.travel(NOW, tick=False)
async def test_wrong_expired_and_used_codes(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    stranger = chat(8001)
    assert "не похоже на код" in joined(await stranger.send("привет"))
    assert "Код не подходит" in joined(await stranger.send("ABCDE-FGHJK"))
    assert "осталось 4 попытки" in joined(stranger.replies())

    expired = await issue(
        session, PersonId(PersonKind.STUDENT, world.other_child), now=NOW - timedelta(days=20)
    )
    assert "истёк" in joined(await stranger.send(expired))

    used = await issue(session, PersonId(PersonKind.GUARDIAN, world.other_guardian))
    assert "привязан" in joined(await chat(8002).send(used))
    assert "уже использован" in joined(await stranger.send(used))
    assert await links_of(session, stranger.user_id) == 0


async def test_lockout_after_five_wrong_codes_and_its_end(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        code = await issue(session, PersonId(PersonKind.GUARDIAN, world.mother))
        guesser = chat(9001)
        for _ in range(4):
            await guesser.send("ZZZZZ-ZZZZZ")
        locked = joined(await guesser.send("ZZZZZ-ZZZZY"))
        assert "заблокирован до 13:00" in locked  # 09:00 UTC + 1 h in Moscow time
        # Even the right code is refused while locked, and nothing is linked.
        assert "заблокирован" in joined(await guesser.send(code))
        assert await links_of(session, guesser.user_id) == 0
        clock.shift(timedelta(hours=1, minutes=1))
        assert "привязан" in joined(await guesser.send(code))
    actions = (
        await session.scalars(
            select(m.AuditEntry.action).where(
                m.AuditEntry.account_id == await account_id_of(session, 9001)
            )
        )
    ).all()
    assert actions.count("code_failed") == 5
    assert "code_locked" in actions and "linked" in actions


@time_machine.travel(NOW, tick=False)
async def test_student_without_consent_cannot_be_linked(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.STUDENT, world.no_consent_child))
    text = joined(await chat(9101).send(f"/start {code}"))
    assert "согласии" in text
    assert await links_of(session, 9101) == 0
    # The code is not spent: it works once the school registers the consent.
    session.add(m.Consent(student_id=world.no_consent_child, given_on=NOW.date()))
    await session.commit()
    assert "привязан" in joined(await chat(9101).send(code))


@time_machine.travel(NOW, tick=False)
async def test_guardian_whose_only_child_lacks_consent_is_told_to_ask_the_school(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.GUARDIAN, world.no_consent_guardian))
    text = joined(await chat(9102).send(code))
    assert "согласии" in text and "попросите школу" in text.lower()
    assert await links_of(session, 9102) == 0


@time_machine.travel(NOW, tick=False)
async def test_logout_unlinks_and_hides_everything(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.GUARDIAN, world.mother))
    parent = chat(9201)
    await parent.send(code)
    assert await links_of(session, 9201) == 1
    # Asked once more first (tests/acceptance/test_safety.py): yes.
    question = (await parent.send("/logout"))[-1]
    assert "отвязан" in joined(await parent.press(question.callback("Да")))
    assert await links_of(session, 9201) == 0
    assert "код доступа" in joined(await parent.send("/start"))
    assert "не привязан" in joined(await parent.send("/logout"))


@time_machine.travel(NOW, tick=False)
async def test_admin_revoke_takes_effect_on_the_next_update(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    person = PersonId(PersonKind.GUARDIAN, world.mother)
    parent = chat(9301)
    await parent.send(await issue(session, person))
    second_phone = chat(9302)
    await second_phone.send(await issue(session, person))
    spare = await issue(session, person)  # an unused slip, revoked along with the links
    ended = await linking.revoke_person(session, person=person, now=NOW)
    assert ended == 2
    assert "код доступа" in joined(await parent.send("/start"))
    assert "код доступа" in joined(await second_phone.send("/start"))
    assert "не подходит" in joined(await chat(9303).send(spare))


async def test_group_chat_gets_nothing_but_a_pointer_to_private(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    code = await issue(session, PersonId(PersonKind.GUARDIAN, world.mother))
    group = chat(9401, chat_type="group", chat_id=-100123)
    for text in ("/start", f"/start {code}", "/help"):
        reply = joined(await group.send(text))
        assert reply == "Я работаю только в личном чате. Откройте чат со мной, чтобы продолжить."
    # Plain text is the members' talk: not answered (and a code in it links nobody).
    assert joined(await group.send(code)) == ""
    assert await links_of(session, 9401) == 0


@time_machine.travel(NOW, tick=False)
async def test_language_is_chosen_and_remembered(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    user = chat(9501, language_code="ru")
    replies = await user.send("/language")
    data = replies[-1].callback("Татарча")
    await user.press(data)
    assert "Тел: татарча" in joined(user.replies())
    assert "керү коды" in joined(await user.send("/start"))
    account = await account_of(session, 9501)
    assert account is not None and account.language == "tt"


@time_machine.travel(NOW, tick=False)
async def test_phone_login_only_with_own_contact_and_school_switch(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    guardian = await session.get(m.Guardian, world.other_guardian)
    assert guardian is not None
    guardian.phone = "+79161234567"
    await session.commit()
    user = chat(9601)
    assert "недоступна" in joined(await user.send("/phone"))
    school = await session.get(m.School, world.school.school_id)
    assert school is not None
    school.overrides = {"phone_login": True}
    await session.commit()
    assert "поделиться" in joined(await user.send("/phone")).lower()
    # Somebody else's contact card never links.
    assert "свой номер" in joined(await user.send_contact("+79161234567", user_id=4242))
    assert await links_of(session, 9601) == 0
    assert "не нашёл" in joined(await user.send_contact("+79990000000"))
    text = joined(await user.send_contact("89161234567"))
    assert "привязан" in text and "Петя Сидоров" in text


@time_machine.travel(NOW, tick=False)
async def test_revocation_holds_against_phone_login_until_a_new_code_or_restore(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    """Seed 002 §4.3–4.4: after a revocation the phone does not link the person again a minute
    later; a new code from the school does, and so does `access restore`."""
    guardian = await session.get(m.Guardian, world.other_guardian)
    school = await session.get(m.School, world.school.school_id)
    assert guardian is not None and school is not None
    guardian.phone = "+79161234567"
    school.overrides = {"phone_login": True}
    await session.commit()
    person = PersonId(PersonKind.GUARDIAN, world.other_guardian)
    user = chat(9701)
    assert "привязан" in joined(await user.send_contact("+79161234567"))
    assert await linking.revoke_person(session, person=person, now=NOW) == 1
    assert "школа закрыла доступ" in joined(await user.send_contact("+79161234567"))
    assert await links_of(session, 9701) == 0
    # The school's restore lets the phone in again...
    assert await linking.restore_person(session, person=person, now=NOW)
    assert "привязан" in joined(await user.send_contact("+79161234567"))
    # ...and so does a new code after another revocation.
    await linking.revoke_person(session, person=person, now=NOW)
    assert "привязан" in joined(await user.send(await issue(session, person)))
    await linking.logout(session, account_id=await account_id_of(session, 9701), now=NOW)
    assert "привязан" in joined(await user.send_contact("+79161234567"))


@time_machine.travel(NOW, tick=False)
async def test_lost_phone_ends_every_session_of_the_person_at_once(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    person = PersonId(PersonKind.GUARDIAN, world.mother)
    phone, tablet = chat(9801), chat(9802)
    await phone.send(await issue(session, person))
    await tablet.send(await issue(session, person))
    replies = await tablet.send("/lost")
    assert "новый код" in joined(replies)
    await tablet.press(replies[-1].callback("Отмена"))
    assert await links_of(session, 9801) == 1
    replies = await tablet.send("/lost")
    await tablet.press(replies[-1].callback("Завершить все сеансы"))
    assert "обратитесь" in joined(tablet.replies()).lower()
    assert await links_of(session, 9801) == 0 and await links_of(session, 9802) == 0
    held = await session.get(m.AccessHold, ("guardian", world.mother))
    assert held is not None and held.reason == "reported lost"


@time_machine.travel(NOW, tick=False)
async def test_codes_are_stored_only_as_hmac_and_are_well_formed(
    session: AsyncSession, world: World
) -> None:
    issued = await linking.issue(
        session, linking.ClassOf("7б", world.school.school_id), secret=CODE_SECRET, now=NOW
    )
    people = {str(i.person) for i in issued}
    assert f"student:{world.school.student_id}" in people
    assert f"guardian:{world.mother}" in people and f"guardian:{world.other_guardian}" in people
    for slip in issued:
        assert len(slip.code) == 10 and set(slip.code) <= set(linking.ALPHABET)
        assert not set(slip.code) & set("01OIL")
        assert slip.expires_at == NOW + timedelta(days=14)
    hashes = (await session.scalars(select(m.ActivationCode.code_hash))).all()
    assert len(hashes) == len(issued)
    assert all(slip.code.encode() not in h for slip in issued for h in hashes)
    assert {linking.hash_code(CODE_SECRET, s.code) for s in issued} == set(hashes)


def _wrong_code(account: int, attempt: int) -> str:
    """A well-formed code that no slip carries (issued codes are random: a clash is 1 in 2**49)."""
    letters = linking.ALPHABET
    return f"ZZZZ{letters[account % 31]}-{letters[account // 31 % 31]}ZZZ{letters[attempt]}"


async def _failures(session: AsyncSession, account_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(m.AuditEntry)
        .where(m.AuditEntry.account_id == account_id, m.AuditEntry.action == "code_failed")
    )
    return int(count or 0)


async def test_a_flood_of_wrong_codes_never_stops_a_right_code(
    session: AsyncSession, world: World, chat: Callable[..., Chat]
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        code = await issue(session, PersonId(PersonKind.GUARDIAN, world.mother))
        second = await issue(session, PersonId(PersonKind.STUDENT, world.school.student_id))
        third = await issue(session, PersonId(PersonKind.GUARDIAN, world.other_guardian))
        # A quarter of an hour before the flood, a parent mistypes three times.
        early = chat(30_000)
        clock.move_to(NOW - timedelta(minutes=15))
        for attempt in range(3):
            await early.send(_wrong_code(997, attempt))
        assert "осталось 2 попытки" in joined(early.replies())
        clock.move_to(NOW)
        # 50 throwaway accounts, 5 wrong codes each: 250 tries against a flood line of 200.
        guessers = [chat(20_000 + n) for n in range(50)]
        for n, guesser in enumerate(guessers):
            for attempt in range(linking.MAX_FAILURES_PER_ACCOUNT):
                await guesser.send(_wrong_code(n, attempt))
        assert await linking.flood(session, now=NOW)
        # Before the flood each account got its own five; once it began, only two.
        per_account = [
            await _failures(session, await account_id_of(session, g.user_id)) for g in guessers
        ]
        assert per_account[:40] == [5] * 40
        assert per_account[40:] == [linking.MAX_FAILURES_IN_FLOOD] * 10
        last = joined(guessers[-1].replies())
        assert "кто-то пытается подобрать коды" in last and "приостановлен до 13:00" in last
        # Guessing stays limited per account: a sixth code is refused unseen, even a right one.
        assert "заблокирован" in joined(await guessers[0].send(second))
        assert await links_of(session, guessers[0].user_id) == 0
        # A parent with the right code links in the middle of the flood, at the first try...
        parent = chat(30_001)
        assert "Аккаунт привязан" in joined(await parent.send(f"/start {code}"))
        assert await links_of(session, parent.user_id) == 1
        # ...and so does one who mistypes once first.
        student = chat(30_002)
        assert "осталась 1 попытка" in joined(await student.send(_wrong_code(999, 0)))
        assert "привязан" in joined(await student.send(second))
        assert await links_of(session, student.user_id) == 1
        # The parent who mistyped before the flood keeps the two tries they were told of.
        assert "осталась 1 попытка" in joined(await early.send(_wrong_code(997, 3)))
        assert "привязан" in joined(await early.send(third))
        # When the flood is over, a newcomer has five tries again.
        clock.shift(linking.GLOBAL_WINDOW + timedelta(seconds=1))
        assert not await linking.flood(session, now=datetime.now(UTC))
        later = chat(30_003)
        assert "осталось 4 попытки" in joined(await later.send(_wrong_code(998, 0)))
