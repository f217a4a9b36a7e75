"""Period-end documents (seed 004 §3.3.6, seed 003 §7.9): once a period's final grades are
due, the class teacher gets the class's summary sheet of that period as XLSX and PDF, once."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pypdfium2
import time_machine
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.i18n import make_i18n
from handlers.pushes import PushRenderer
from handlers.pushes.staff import staff_message
from services import reminders
from services.db import models as m
from services.notifications.content import load_notices
from services.notifications.payloads import (
    ClassPeriodSheet,
    PeriodReportCard,
    SchoolPeriodSheet,
    SheetPupil,
    decode,
)
from services.notifications.queue import CLAIM, Outgoing, decode_claimed
from services.period_documents import class_results, queue_period_documents
from services.scheduling import PERIOD_DOCUMENTS_JOB, due_runs
from tests.fixtures.factories import MiniSchool, add_staff
from tests.fixtures.linking import account_for
from tests.fixtures.periods import TwoKinds
from tests.fixtures.schools import CLASS_TEACHER_ACCOUNT, DEPUTY_ACCOUNT, at

# Seed 004 §5.4: a period's final grades are due two days before its last day; the first
# quarter ends on Saturday 24 October 2026, so they are due by the end of Thursday 22nd.
BEFORE = at(date(2026, 10, 22), 23, 30)
AFTER = at(date(2026, 10, 23), 9)


async def _class_teacher(session: AsyncSession, two_kinds: TwoKinds) -> None:
    """The algebra teacher is 7Б's class teacher, linked; Миша got a 2 for the quarter."""
    school = two_kinds.school
    session.add(
        m.Account(
            id=CLASS_TEACHER_ACCOUNT,
            channel_user_id=CLASS_TEACHER_ACCOUNT,
            chat_id=CLASS_TEACHER_ACCOUNT,
            language="ru",
        )
    )
    await session.flush()
    session.add(
        m.AccountLink(account_id=CLASS_TEACHER_ACCOUNT, role="staff", staff_id=school.teacher_id)
    )
    session.add(
        m.StaffRoleAssignment(
            staff_id=school.teacher_id, role="class_teacher", class_id=school.class_id
        )
    )
    deputy = await add_staff(
        session, school, first_name="Анна", last_name="Завучева", roles=("deputy_director",)
    )
    session.add(
        m.Account(
            id=DEPUTY_ACCOUNT,
            channel_user_id=DEPUTY_ACCOUNT,
            chat_id=DEPUTY_ACCOUNT,
            language="en",
        )
    )
    await session.flush()
    session.add(m.AccountLink(account_id=DEPUTY_ACCOUNT, role="staff", staff_id=deputy))
    session.add(
        m.FinalGrade(
            student_id=school.student_id,
            subject_id=school.subject_id,
            period_id=two_kinds.q1,
            value="2",
            author_id=school.teacher_id,
        )
    )
    await session.flush()


async def _queued(connection: AsyncConnection) -> list[ClassPeriodSheet]:
    rows = await connection.execute(
        text(
            "SELECT payload FROM notifications WHERE account_id = :a"
            " AND category = 'class_period_sheet' ORDER BY id"
        ),
        {"a": CLASS_TEACHER_ACCOUNT},
    )
    sheets = [decode(row[0]) for row in rows]
    assert all(isinstance(sheet, ClassPeriodSheet) for sheet in sheets)
    return [sheet for sheet in sheets if isinstance(sheet, ClassPeriodSheet)]


async def test_the_class_teacher_gets_the_periods_summary_sheet_once_after_the_deadline(
    session: AsyncSession, two_kinds: TwoKinds
) -> None:
    await _class_teacher(session, two_kinds)
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [two_kinds.school.school_id])
    assert PERIOD_DOCUMENTS_JOB in {run.job for run in due_runs(rules, AFTER)}

    assert await queue_period_documents(connection, rules, BEFORE) == 0
    # Two files to the class teacher, the school's sheet to the deputy.
    assert await queue_period_documents(connection, rules, AFTER) == 3
    # Run again (a restart, a second leader, the next day): nothing more.
    assert await queue_period_documents(connection, rules, AFTER.replace(hour=15)) == 0

    xlsx, pdf = await _queued(connection)
    assert (xlsx.document, pdf.document) == ("xlsx", "pdf")
    assert (xlsx.class_label, xlsx.period_kind, xlsx.period_number) == ("7Б", "quarter", 1)
    with make_i18n("ru").context():
        composed = staff_message(xlsx)
        assert staff_message(pdf).document is not None
    assert composed.text.startswith("📑 Сводная ведомость класса 7Б: 1-я четверть")
    assert "Неуспевающих: 1" in composed.text
    assert composed.document is not None
    name, content = composed.document
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][:2] == ("Учебный год", "2026/27, 1 четв.")
    header = next(row for row in rows if row[:2] == ("№", "Ученик"))
    algebra = header.index("Алгебра")
    failing = header.index("Неуспевающий по")
    [misha] = [row for row in rows if isinstance(row[1], str) and "Миша" in row[1]]
    assert misha[algebra] == "2"
    assert misha[failing] == "Алгебра"
    assert ("Неуспевающих", 1) in {(row[1], row[2]) for row in rows}

    [school_payload] = (
        await connection.execute(
            text("SELECT payload FROM notifications WHERE account_id = :a"),
            {"a": DEPUTY_ACCOUNT},
        )
    ).scalars()
    report = decode(school_payload)
    assert isinstance(report, SchoolPeriodSheet)
    # 7Б keeps quarters; 10А's half-year is not over, so it is not in the first quarter's sheet.
    assert [
        (c.class_label, c.pupils, c.quality, c.success, c.failing) for c in report.classes
    ] == [("7Б", 1, 0, 0, 1)]
    with make_i18n("en").context():
        deputy = staff_message(report)
    assert deputy.text.splitlines()[1:] == [
        "Quality 0%, success 0%",
        "Failing: 1",
        "Not attested: 0",
    ]
    assert deputy.document is not None
    book = load_workbook(io.BytesIO(deputy.document[1])).active
    assert book is not None
    table = list(book.iter_rows(values_only=True))
    assert table[2:] == [
        ("Class", "Pupils graded", "Quality, %", "Success, %", "Failing", "Not attested"),
        ("7Б", 1, 0, 0, 1, 0),
    ]


def _pupil(*grades: str | None, failing: bool = False, na: bool = False) -> SheetPupil:
    return SheetPupil(
        name="x",
        grades=grades,
        absent=0,
        absent_valid=0,
        late=0,
        failing=("Алгебра",) if failing else (),
        not_attested=("Химия",) if na else (),
    )


def test_quality_counts_only_4s_and_5s_and_success_excludes_2s_and_not_attested() -> None:
    sheet = ClassPeriodSheet(
        class_id=1,
        class_label="5А",
        school="Школа",
        year="2026/27",
        zone="Europe/Moscow",
        written=AFTER,
        period_id=1,
        period_kind="quarter",
        period_number=1,
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 10, 24),
        subjects=("Алгебра", "Химия", "Физкультура"),
        pupils=(
            _pupil("5", "4", "зач"),  # quality and success
            _pupil("5", "3", None),  # success only
            _pupil("2", "5", None, failing=True),
            _pupil("4", "н/а", None, na=True),
            _pupil(None, None, None),  # no grade of the period: not counted
        ),
    )
    results = class_results(sheet)
    assert (results.pupils, results.quality, results.success) == (4, 25, 50)
    assert (results.failing, results.not_attested) == (1, 1)


PARENT_ACCOUNT = 611


async def _parent(session: AsyncSession, school: MiniSchool) -> m.AccountLink:
    """Миша's and Полина's mother, linked in Russian."""
    await account_for(session, PARENT_ACCOUNT, "ru")
    link = m.AccountLink(
        account_id=PARENT_ACCOUNT, role="guardian", guardian_id=school.guardian_id
    )
    session.add(link)
    await session.flush()
    return link


async def claim_all(connection: AsyncConnection, now: datetime = AFTER) -> list[Outgoing]:
    """Every pending message as the worker claims it, quiet hours aside."""
    later = now + timedelta(days=2)
    rows = await connection.execute(
        CLAIM, {"now": later, "until": later + timedelta(minutes=1), "limit": 1000}
    )
    messages, unreadable = decode_claimed(rows.all())
    assert unreadable == []
    return messages


async def test_each_family_gets_the_report_card_once_the_periods_finals_are_due(
    session: AsyncSession, two_kinds: TwoKinds
) -> None:
    """Seed 004 §4.6.4: the families learn the period's results; the card is built when sent,
    with the period's grade (a correction shown with the grade it replaced)."""
    await _class_teacher(session, two_kinds)
    school = two_kinds.school
    await _parent(session, school)
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [school.school_id])
    await queue_period_documents(connection, rules, AFTER)
    await queue_period_documents(connection, rules, AFTER.replace(hour=15))
    rows = (
        await connection.execute(
            text(
                "SELECT id, student_id, payload FROM notifications"
                " WHERE account_id = :a AND category = 'report_card'"
            ),
            {"a": PARENT_ACCOUNT},
        )
    ).all()
    # Миша's quarter is over; Полина (10А) keeps half-years, whose first is not.
    assert [(row.student_id, decode(row.payload)) for row in rows] == [
        (school.student_id, PeriodReportCard(period_id=two_kinds.q1))
    ]
    [row] = rows
    [message] = [item for item in await claim_all(connection) if item.id == row.id]
    with time_machine.travel(AFTER, tick=False):
        content = await load_notices(session, message)
    assert content is not None and content.report_card is not None
    card = content.report_card
    assert [(r.subject, r.final, r.forecast) for r in card.rows] == [("Алгебра", "2", None)]
    composed = PushRenderer(make_i18n("ru"), "ru")(content)
    assert composed.text.splitlines() == [
        "📄 Табель успеваемости: 1-я четверть (1 сент. – 24 окт.)",
        "Миша Иванов, 7Б",
    ]
    assert composed.document is not None
    name, pdf = composed.document
    assert name == f"report-card-Миша-{date(2026, 10, 24).isoformat()}.pdf"
    page = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "Алгебра" in page and "2026/27" in page


async def test_no_report_card_once_the_link_is_gone(
    session: AsyncSession, two_kinds: TwoKinds
) -> None:
    """Access is checked again when the card is sent: a revoked link gets nothing."""
    school = two_kinds.school
    link = await _parent(session, school)
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [school.school_id])
    assert await queue_period_documents(connection, rules, AFTER) >= 1
    link.revoked_at = AFTER
    await session.flush()
    [message] = [m_ for m_ in await claim_all(connection) if m_.account_id == PARENT_ACCOUNT]
    with time_machine.travel(AFTER, tick=False):
        content = await load_notices(session, message)
    assert content is not None and not content.has_content


async def test_a_pupil_who_leaves_keeps_the_years_report_for_the_family(
    session: AsyncSession, two_kinds: TwoKinds
) -> None:
    """Seed 003 §7.7: the family of a pupil who leaves during the year gets the year's marks
    up to the day they left, once, even though the roster ended the guardianship that day."""
    school = two_kinds.school
    await _parent(session, school)
    left = date(2026, 11, 25)
    await session.execute(
        text("UPDATE students SET left_at = :d WHERE id = :s"), {"d": left, "s": school.student_id}
    )
    await session.execute(
        text("UPDATE guardianships SET ended_on = :d WHERE student_id = :s"),
        {"d": left, "s": school.student_id},
    )
    await session.flush()
    connection = await session.connection()
    [rules] = await reminders.schools(connection, [school.school_id])
    morning = at(date(2026, 11, 26), 9)
    assert await queue_period_documents(connection, rules, morning) >= 1
    await queue_period_documents(connection, rules, morning.replace(hour=15))
    [message] = [
        item
        for item in await claim_all(connection, morning)
        if item.account_id == PARENT_ACCOUNT and item.category == "leaver_report"
    ]
    assert message.student_id == school.student_id
    with time_machine.travel(morning, tick=False):
        content = await load_notices(session, message)
    assert content is not None and content.report_card is not None
    card = content.report_card
    assert card.period.ends_on == left
    # The year's marks to the day: October's 2 and November's 5.
    [algebra] = card.rows
    assert [item.value for item in algebra.marks] == ["2", "5"]
    composed = PushRenderer(make_i18n("ru"), "ru")(content)
    assert composed.text == (
        "📄 Миша Иванов: выбытие из школы. Отметки за учебный год по 25 ноября 2026:"
        " сохраните эту справку для новой школы."
    )
    # Another family, or a pupil still at school, gets nothing of the kind.
    assert {item.account_id for item in await claim_all(connection, morning)} <= {
        PARENT_ACCOUNT,
        CLASS_TEACHER_ACCOUNT,
        DEPUTY_ACCOUNT,
    }
