"""Documents people keep: the report card as an A4 PDF and as a phone's photo, the subject's
chart with its rounding lines, and the deputy's workbook, checked in what they render."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdfium2
import pytest
import time_machine
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import make_i18n
from bot.testing.chat import Chat, Reply
from bot.testing.fake_api import UploadedFile
from handlers.callbacks import ChartCb, ReportCb
from handlers.family.pictures import rounding_lines
from handlers.pushes.staff import deputy_headers, deputy_xlsx
from handlers.report_card import card_document
from services import charts
from services.access import Relation, StudentRef
from services.journal import MarkItem, PeriodRef
from services.linking import PersonId, PersonKind
from services.notifications.payloads import DeputyWeek, GapCategory, OverdueEntry, TeacherFigures
from services.report_card import CardRow, ReportCard
from tests.fixtures.factories import add_lesson, add_mark, add_subject
from tests.fixtures.linking import linked
from tests.fixtures.schools import World

# Monday 23 November 2026, 12:00 in Moscow: the second quarter (3 Nov – 28 Dec).
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ENGLISH = "Иностранный язык (английский)"


def _sent(replies: list[Reply], method: str) -> list[Reply]:
    return [r for r in replies if r.method == method]


def _pdf_text(data: bytes) -> tuple[int, str]:
    """Pages, and the text with line breaks as spaces (a wrapped name reads whole)."""
    pdf = pypdfium2.PdfDocument(data)
    text = " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in pdf)
    return len(pdf), text


@pytest.fixture
async def parent(session: AsyncSession, world: World, chat: Callable[..., Chat]) -> Chat:
    """Миша's mother; Миша has algebra (a 2 corrected to 3) and a long-named English."""
    school = world.school
    english = await add_subject(session, school, ENGLISH)
    for day, slot, value in ((date(2026, 11, 3), 1, "5"), (date(2026, 11, 20), 3, "4")):
        lesson = await add_lesson(session, school, day=day, slot=slot, subject_id=english)
        await add_mark(session, student_id=school.student_id, lesson_id=lesson, value=value)
    algebra = await add_lesson(session, school, day=date(2026, 11, 18), slot=1)
    first = await add_mark(session, student_id=school.student_id, lesson_id=algebra, value="2")
    await add_mark(
        session,
        student_id=school.student_id,
        lesson_id=algebra,
        value="3",
        replaces_id=first,
        reason="пересдал",
    )
    await session.commit()
    return await linked(
        session, chat(71), PersonId(PersonKind.GUARDIAN, world.mother), language="ru"
    )


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_the_report_card_pdf_has_what_a_family_keeps(parent: Chat, world: World) -> None:
    replies = await parent.press(ReportCb(s=world.school.student_id).pack())
    [document] = _sent(replies, "sendDocument")
    upload = document.params["document"]
    assert isinstance(upload, UploadedFile) and upload.data.startswith(b"%PDF")
    # Whose and when, no internal id.
    assert upload.filename == "report-card-Миша-2026-12-28.pdf"
    pages, text = _pdf_text(upload.data)
    assert pages == 1
    for expected in (
        "Табель успеваемости",
        "Миша Иванов, 7Б",
        "Школа № 1",
        "Классный руководитель: Кузнецова В.",
        "2-я четверть (3 ноября 2026 – 28 декабря 2026), 2026/27 учебный год",
        ENGLISH,  # wrapped in its cell, never cut
        "Сформировано ботом электронного журнала: 23 ноября 2026.",
        # The corrected mark carries its sign, and the sign is explained.
        "3*",
        "* — исправлено после выставления",
    ):
        assert expected in text, expected


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_the_report_card_picture_is_a_phone_sized_photo(parent: Chat, world: World) -> None:
    replies = await parent.press(ReportCb(s=world.school.student_id, pdf=False).pack())
    assert not _sent(replies, "sendDocument")
    [photo] = _sent(replies, "sendPhoto")
    upload = photo.params["photo"]
    assert isinstance(upload, UploadedFile) and upload.data.startswith(b"\x89PNG")
    assert upload.filename == "report-card-Миша-2026-12-28.png"
    width, height = Image.open(io.BytesIO(upload.data)).size
    assert width == charts.PICTURE_WIDTH == 1080
    # Telegram's photo limits: sides' sum up to 10000, ratio up to 20.
    assert height > 500 and width + height <= 10_000 and height / width <= 20
    assert "Миша Иванов, 7Б" in photo.params["caption"]


@time_machine.travel(MONDAY_NOON, tick=False)
async def test_the_chart_is_a_photo_named_by_whom_and_when(parent: Chat, world: World) -> None:
    school = world.school
    replies = await parent.press(ChartCb(s=school.student_id, sub=school.subject_id).pack())
    [photo] = _sent(replies, "sendPhoto")
    upload = photo.params["photo"]
    assert isinstance(upload, UploadedFile)
    assert upload.filename == "chart-Миша-Алгебра-2026-11-23.png"
    width, height = Image.open(io.BytesIO(upload.data)).size
    assert width == 1080 and 500 < height < 700  # a phone's screen wide


def test_rounding_lines_are_labelled_in_the_readers_language() -> None:
    for language, labels in (
        ("ru", ["3 от 2,6", "4 от 3,6", "5 от 4,6"]),
        ("en", ["3 from 2.6", "4 from 3.6", "5 from 4.6"]),
    ):
        i18n = make_i18n(language)
        with i18n.context(), i18n.use_locale(language):
            lines = rounding_lines(Decimal("0.6"))
        assert lines == [(2.6, labels[0]), (3.6, labels[1]), (4.6, labels[2])]
    i18n = make_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        assert [label for _, label in rounding_lines(Decimal("0.5"))][1] == "4 от 3,5"


def test_the_charts_dates_stay_within_the_period() -> None:
    start, end = date(2026, 11, 3), date(2026, 12, 28)
    ticks = charts.date_ticks(start, end)
    assert ticks[0] == start and ticks[-1] == end and len(ticks) <= 7
    assert all(start <= day <= end for day in ticks)
    assert charts.date_ticks(start, start) == [start]
    # A chart with marks on the period's edges draws (the dots are not clipped by the frame).
    points = [
        charts.ChartPoint(start, "5", Decimal(2)),
        charts.ChartPoint(end, "2", Decimal(1)),
    ]
    labels = charts.ChartLabels("Алгебра", "Миша", "отметки", "средний", "нет отметок")
    png = charts.subject_chart(points, labels, thresholds=[(3.6, "4 от 3,6")], period=(start, end))
    assert png.startswith(b"\x89PNG")


def _mark(value: str, previous: str | None = None) -> MarkItem:
    return MarkItem(
        id=1,
        day=date(2026, 11, 10),
        subject_id=1,
        subject="",
        value=value,
        weight=Decimal(1),
        kind_code=None,
        kind_name=None,
        previous=previous,
        reason=None,
        comment=None,
        entered_at=MONDAY_NOON,
    )


def _card(subjects: int, marks: int) -> ReportCard:
    rows = tuple(
        CardRow(
            subject=f"{ENGLISH} {n}" if n % 3 == 0 else f"Предмет {n:02d}",
            marks=tuple(_mark("45"[i % 2], "3" if i == 1 else None) for i in range(marks)),
            average=Decimal("4.5"),
            forecast=None,
            absences=n % 4,
            final="5",
            final_was="4" if n == 1 else None,
            final_under_review=False,
        )
        for n in range(subjects)
    )
    return ReportCard(
        student=StudentRef(1, 1, 1, "7Б", "Миша", "Иванов", Relation.GUARDIAN),
        school="МБОУ «Средняя общеобразовательная школа № 1»",
        class_teacher="Кузнецова В. А.",
        period=PeriodRef(1, "quarter", 2, date(2026, 11, 3), date(2026, 12, 28)),
        year="2026/27",
        rows=rows,
        made_on=date(2026, 12, 28),
    )


def test_a_full_card_stays_on_one_page_and_a_huge_one_flows_on() -> None:
    i18n = make_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        full = card_document(_card(subjects=22, marks=24), pdf=True)
        huge = card_document(_card(subjects=70, marks=30), pdf=True)
        card = _card(subjects=2, marks=3)
        rows = tuple(replace(r, marks=(_mark("5"),), final_was=None) for r in card.rows)
        plain = card_document(replace(card, rows=rows), pdf=True)
    pages, text = _pdf_text(full)
    assert pages == 1
    assert f"{ENGLISH} 21" in text and "5 (4)*" in text
    assert "28 декабря 2026" in text
    pages, text = _pdf_text(huge)
    assert pages >= 2
    # The table's header repeats on the next page.
    assert text.count("Предмет Отметки Средний") == pages
    assert "*" not in _pdf_text(plain)[1]  # no corrections, no legend


def _teacher(name: str, lessons: int, due: int) -> TeacherFigures:
    return TeacherFigures(
        name=name,
        lessons=lessons,
        topic_due=due,
        topic=due,
        attendance_due=due,
        attendance=max(due - 1, 0),
        homework_expected=due,
        homework=due,
        marks=0,
        overdue_marks=0,
        overdue=0,
    )


def _gap(teacher: str, day: int, slot: int = 1) -> OverdueEntry:
    return OverdueEntry(
        teacher=teacher,
        category=GapCategory.TOPIC,
        class_label="7Б",
        subject="Алгебра",
        day=date(2026, 11, day),
        slot=slot,
        due=datetime(2026, 11, day, 21, tzinfo=UTC),
    )


def test_the_deputys_workbook_names_no_share_for_a_teacher_without_lessons() -> None:
    week = DeputyWeek(
        start=date(2026, 11, 16),
        end=date(2026, 11, 20),
        school_id=1,
        teachers=(_teacher("Петрова Анна", 4, 4), _teacher("Сидоров Олег", 0, 0)),
        overdue=(
            _gap("Сидоров Олег", 18),
            _gap("Петрова Анна", 19),
            _gap("Петрова Анна", 17, 3),
            _gap("Петрова Анна", 17, 2),
        ),
    )
    i18n = make_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        book = load_workbook(io.BytesIO(deputy_xlsx(week, deputy_headers())))
    teachers = {row[0]: row for row in book.worksheets[0].iter_rows(values_only=True)}
    assert teachers["Петрова Анна"][1:5] == (4, 100, 75, 100)
    assert teachers["Сидоров Олег"][1:5] == (0, "—", "—", "—")
    overdue = book.worksheets[1]
    rows = [(row[0], row[3].date()) for row in overdue.iter_rows(min_row=2, values_only=True)]
    assert rows == [
        ("Петрова Анна", date(2026, 11, 17)),
        ("Петрова Анна", date(2026, 11, 17)),
        ("Петрова Анна", date(2026, 11, 19)),
        ("Сидоров Олег", date(2026, 11, 18)),
    ]
    assert overdue.auto_filter.ref == "A1:F5"
