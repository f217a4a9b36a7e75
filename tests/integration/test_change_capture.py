"""Change capture: any writer's rows become outbox events in the same transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.db.session import asyncpg_dsn
from services.notifications import changes
from tests.fixtures.factories import MiniSchool


@pytest.fixture
async def raw(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A bare asyncpg connection: another program writing straight into the journal."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    yield connection
    await connection.close()


async def _events(raw: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await raw.fetch("SELECT * FROM journal_events ORDER BY id"))


INSERT_MARK = """
    INSERT INTO marks (student_id, lesson_id, work_kind_id, value, author_id)
    VALUES ($1, $2, $3, $4, $5) RETURNING id
"""


async def _insert_mark(raw: asyncpg.Connection, school: MiniSchool, value: str) -> int:
    mark_id: int = await raw.fetchval(
        INSERT_MARK,
        school.student_id,
        school.lesson_id,
        school.work_kind_id,
        value,
        school.teacher_id,
    )
    return mark_id


async def test_bare_insert_of_a_mark_yields_exactly_one_event(
    raw: asyncpg.Connection, school: MiniSchool
) -> None:
    mark_id = await _insert_mark(raw, school, "4")
    events = await _events(raw)
    assert len(events) == 1
    event = events[0]
    assert event["kind"] == "mark.new"
    assert event["table_name"] == "marks"
    assert event["row_id"] == mark_id
    assert event["student_id"] == school.student_id
    assert event["lesson_id"] == school.lesson_id
    assert event["old"] is None
    assert '"value": "4"' in event["new"]
    assert event["processed_at"] is None


async def test_rolled_back_insert_leaves_no_event(
    raw: asyncpg.Connection, school: MiniSchool
) -> None:
    transaction = raw.transaction()
    await transaction.start()
    await _insert_mark(raw, school, "5")
    assert len(await _events(raw)) == 1  # visible inside the writer's transaction...
    await transaction.rollback()
    assert await _events(raw) == []  # ...and gone with it


async def test_correction_and_removal_are_new_revisions_with_events(
    raw: asyncpg.Connection, school: MiniSchool
) -> None:
    first = await _insert_mark(raw, school, "3")
    corrected = await raw.fetchval(
        "INSERT INTO marks (student_id, lesson_id, value, replaces_id, reason)"
        " VALUES ($1, $2, '4', $3, 'пересдача') RETURNING id",
        school.student_id,
        school.lesson_id,
        first,
    )
    assert (
        await raw.fetchval(
            "SELECT value FROM current_marks WHERE student_id = $1", school.student_id
        )
        == "4"
    )
    await raw.execute(
        "INSERT INTO marks (student_id, lesson_id, value, replaces_id, reason)"
        " VALUES ($1, $2, NULL, $3, 'ошибка')",
        school.student_id,
        school.lesson_id,
        corrected,
    )
    kinds = [(e["kind"], e["old"] is not None) for e in await _events(raw)]
    assert kinds == [("mark.new", False), ("mark.corrected", True), ("mark.removed", True)]
    assert (
        await raw.fetchval(
            "SELECT count(*) FROM current_marks WHERE student_id = $1", school.student_id
        )
        == 0
    )
    assert await raw.fetchval("SELECT count(*) FROM marks") == 3


async def test_marks_are_append_only(raw: asyncpg.Connection, school: MiniSchool) -> None:
    mark_id = await _insert_mark(raw, school, "2")
    with pytest.raises(asyncpg.RestrictViolationError):
        await raw.execute("UPDATE marks SET value = '5' WHERE id = $1", mark_id)
    with pytest.raises(asyncpg.RestrictViolationError):
        await raw.execute("DELETE FROM marks WHERE id = $1", mark_id)
    # A correction without a reason is refused: corrections are never silent (seed 003 §8.6).
    with pytest.raises(asyncpg.CheckViolationError):
        await raw.execute(
            "INSERT INTO marks (student_id, lesson_id, value, replaces_id)"
            " VALUES ($1, $2, '5', $3)",
            school.student_id,
            school.lesson_id,
            mark_id,
        )
    # A revision must belong to the same student and lesson as the mark it replaces.
    other = await raw.fetchval(
        "INSERT INTO students (school_id, last_name, first_name) VALUES ($1, 'Сидоров', 'Петя')"
        " RETURNING id",
        school.school_id,
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await raw.execute(
            "INSERT INTO marks (student_id, lesson_id, value, replaces_id, reason)"
            " VALUES ($1, $2, '5', $3, 'x')",
            other,
            school.lesson_id,
            mark_id,
        )
    assert await raw.fetchval("SELECT value FROM marks WHERE id = $1", mark_id) == "2"


async def test_attendance_lessons_and_homework_events(
    raw: asyncpg.Connection, school: MiniSchool
) -> None:
    attendance_id = await raw.fetchval(
        "INSERT INTO attendance (student_id, lesson_id, kind, reason) VALUES ($1, $2,"
        " 'absent', 'unknown') RETURNING id",
        school.student_id,
        school.lesson_id,
    )
    await raw.execute(
        "UPDATE attendance SET reason = 'illness', is_valid = true WHERE id = $1", attendance_id
    )
    # Touching only updated_at is no news.
    await raw.execute("UPDATE attendance SET updated_at = now() WHERE id = $1", attendance_id)
    await raw.execute("DELETE FROM attendance WHERE id = $1", attendance_id)
    await raw.execute(
        "UPDATE lessons SET topic = 'Линейные уравнения' WHERE id = $1", school.lesson_id
    )
    await raw.execute(
        "INSERT INTO homework (lesson_id, due_date, text) VALUES ($1, '2026-11-25', '№ 112')",
        school.lesson_id,
    )
    events = await _events(raw)
    assert [e["kind"] for e in events] == [
        "attendance.new",
        "attendance.changed",
        "attendance.removed",
        "lesson.changed",
        "homework.new",
    ]
    assert all(e["lesson_id"] == school.lesson_id for e in events)
    assert [e["student_id"] for e in events[:3]] == [school.student_id] * 3
    changed = events[1]
    assert '"reason": "unknown"' in changed["old"] and '"reason": "illness"' in changed["new"]


async def test_bulk_insert_is_one_event_per_row_and_one_notification(
    raw: asyncpg.Connection, school: MiniSchool, database_url: str
) -> None:
    listener = await asyncpg.connect(asyncpg_dsn(database_url))
    received: list[str] = []
    await listener.add_listener(changes.CHANNEL, lambda *args: received.append(args[3]))
    await raw.execute(
        "INSERT INTO subjects (school_id, name) SELECT $1, 'Предмет ' || g"
        " FROM generate_series(1, 12) g",
        school.school_id,
    )
    await raw.execute(
        "INSERT INTO final_grades (student_id, subject_id, period_id, value)"
        " SELECT $1, id, $2, '5' FROM subjects WHERE school_id = $3",
        school.student_id,
        school.period_id,
        school.school_id,
    )
    events = await _events(raw)
    assert len(events) == 13
    assert {e["kind"] for e in events} == {"final.new"}
    for _ in range(50):
        if received:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    await listener.close()
    assert received == [""]


async def test_capture_can_be_switched_off_for_bulk_history(
    raw: asyncpg.Connection, school: MiniSchool
) -> None:
    async with raw.transaction():
        await raw.execute("SET LOCAL journal.capture = 'off'")
        await _insert_mark(raw, school, "5")
    await _insert_mark(raw, school, "4")
    assert [e["kind"] for e in await _events(raw)] == ["mark.new"]


async def test_claims_are_ordered_and_skip_locked_rows(
    committing_engine: AsyncEngine, raw: asyncpg.Connection, school: MiniSchool
) -> None:
    for value in ("5", "4", "3", "2"):
        await _insert_mark(raw, school, value)
    async with committing_engine.connect() as first, committing_engine.connect() as second:
        await first.begin()
        await second.begin()
        batch_one = await changes.claim_batch(first, limit=2)
        batch_two = await changes.claim_batch(second, limit=10)
        assert [e.new["value"] for e in batch_one if e.new] == ["5", "4"]
        assert [e.new["value"] for e in batch_two if e.new] == ["3", "2"]
        await changes.mark_done(first, [e.id for e in batch_one])
        await first.commit()
        await second.rollback()  # a consumer that died: its events are claimed again
    async with committing_engine.connect() as connection:
        assert await changes.pending_count(connection) == 2


async def test_consumer_wakes_on_notify_and_processes_everything(
    committing_engine: AsyncEngine,
    raw: asyncpg.Connection,
    school: MiniSchool,
    database_url: str,
) -> None:
    seen: list[str] = []

    async def handler(connection: AsyncConnection, events: list[changes.JournalEvent]) -> None:
        seen.extend(e.kind for e in events)

    listener = changes.OutboxListener(database_url)
    await listener.start()
    stop = asyncio.Event()
    # A long poll interval: only NOTIFY can wake the consumer in time.
    task = asyncio.create_task(
        changes.consume_forever(
            committing_engine, handler, listener=listener, stop=stop, poll_interval=60
        )
    )
    try:
        await asyncio.sleep(0.2)
        await _insert_mark(raw, school, "5")
        # The handler sees the event before the consumer commits it as done: wait for both.
        for _ in range(200):
            async with committing_engine.connect() as connection:
                if seen and await changes.pending_count(connection) == 0:
                    break
            await asyncio.sleep(0.05)
        assert seen == ["mark.new"]
        async with committing_engine.connect() as connection:
            assert await changes.pending_count(connection) == 0
            processed = (
                await connection.execute(
                    text("SELECT count(*) FROM journal_events WHERE processed_at IS NOT NULL")
                )
            ).scalar_one()
        assert processed == 1
    finally:
        stop.set()
        await listener.stop()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
