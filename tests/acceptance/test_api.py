"""The ingest API end to end: tokens, every endpoint, schools kept apart, idempotency, batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.api.app import create_api_app
from bot.api.kinds import KINDS
from bot.api.openapi import render
from bot.api.ratelimit import LocalBuckets
from services.ingest import tokens
from tests.fixtures.api import (
    CLASS,
    LESSON,
    OTHER_ONLY,
    STUDENT,
    TEACHER,
    ApiWorld,
    api_client,
    bearer,
)

# Monday 23 November 2026, 12:00 in Moscow: in the mini school's year and second quarter.
SCHOOL_DAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def school_day_noon() -> Iterator[None]:
    with time_machine.travel(SCHOOL_DAY_NOON, tick=True):
        yield


def mark(external_id: str = "M-1", value: str | None = "5", **more: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "student_ref": STUDENT,
        "lesson_ref": LESSON,
        "value": value,
        **more,
    }


async def count(engine: AsyncEngine, sql: str, **params: object) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(sql), params)).scalar_one())


async def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The problem answer, checked for its status, its media type and its shape."""
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json(content_type=PROBLEM)
    assert body["status"] == status
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body["errors"]]


# --- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer " + "x" * 500],
)
async def test_no_token_or_a_wrong_one_is_401(
    client: TestClient[Any, Any],
    api_world: ApiWorld,
    committing_engine: AsyncEngine,
    header: str | None,
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.post("/api/v1/marks", json=mark(), headers=headers)
    body = await problem_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert fields(body) == ["Authorization"]
    assert await count(committing_engine, "SELECT count(*) FROM marks") == 0


async def test_a_revoked_token_is_refused_at_once(
    client: TestClient[Any, Any], api_world: ApiWorld, committing_engine: AsyncEngine
) -> None:
    ok = await client.get("/api/v1/token", headers=bearer(api_world.token))
    assert ok.status == 200
    assert await ok.json() == {"school_id": api_world.school.school_id, "name": "journal"}
    async with AsyncSession(committing_engine) as session:
        (listed,) = await tokens.list_tokens(session, school_id=api_world.school.school_id)
        assert listed.last_used_at is not None
        await tokens.revoke(session, token_id=listed.id, now=datetime.now(UTC))
        await session.commit()
    response = await client.get("/api/v1/token", headers=bearer(api_world.token))
    await problem_of(response, 401)
    # The other school's token goes on working.
    other = await client.get("/api/v1/token", headers=bearer(api_world.other_token))
    assert other.status == 200


async def test_tokens_are_stored_hashed_and_audited(
    api_world: ApiWorld, committing_engine: AsyncEngine
) -> None:
    stored = await count(
        committing_engine,
        "SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to(:t, 'UTF8'))",
        t=api_world.token,
    )
    assert stored == 1
    assert (
        await count(
            committing_engine,
            "SELECT count(*) FROM audit_log WHERE action = 'api_token_issued'"
            " AND details::text NOT LIKE '%' || :t || '%'",
            t=api_world.token,
        )
        == 2
    )


# --- every endpoint -------------------------------------------------------------------------

RECORDS: list[tuple[str, dict[str, Any], str]] = [
    ("classes", {"external_id": "C-9A", "grade": 9, "letter": "А"}, "class"),
    (
        "subgroups",
        {"external_id": "G-1", "class_id": CLASS, "name": "1 группа", "members": [STUDENT]},
        "subgroup",
    ),
    (
        "students",
        {"external_id": "S-2", "last_name": "Петров", "first_name": "Коля", "class_id": CLASS},
        "student",
    ),
    (
        "guardians",
        {
            "external_id": "P-1",
            "last_name": "Иванова",
            "first_name": "Ольга",
            "children": [{"student_id": STUDENT, "relation": "mother"}],
        },
        "guardian",
    ),
    (
        "staff",
        {
            "external_id": "T-2",
            "last_name": "Орлова",
            "first_name": "Нина",
            "roles": ["subject_teacher"],
            "teaching": [{"subject": "Алгебра", "class_id": CLASS}],
        },
        "staff",
    ),
    (
        "lessons",
        {
            "external_id": "L-2",
            "date": "2026-11-24",
            "slot": 3,
            "starts_at": "10:20",
            "ends_at": "11:05",
            "class_ref": CLASS,
            "subject": "Алгебра",
            "teacher_ref": TEACHER,
            "topic": "Квадратные уравнения",
        },
        "lesson",
    ),
    (
        "homework",
        {"external_id": "H-1", "lesson_ref": LESSON, "due_date": "2026-11-25", "text": "№ 5"},
        "homework",
    ),
    ("marks", mark(work_kind="test", weight=2), "mark"),
    (
        "attendance",
        {"external_id": "A-1", "student_ref": STUDENT, "lesson_ref": LESSON, "kind": "absent"},
        "attendance",
    ),
    (
        "final-grades",
        {
            "external_id": "F-1",
            "student_ref": STUDENT,
            "subject": "Алгебра",
            "period_kind": "quarter",
            "period_number": 2,
            "value": "5",
        },
        "final_grade",
    ),
]


def test_every_kind_is_exercised() -> None:
    assert [path for path, _, _ in RECORDS] == [spec.path for spec in KINDS]


@pytest.mark.parametrize(("path", "record", "kind"), RECORDS, ids=[r[0] for r in RECORDS])
async def test_each_endpoint_writes_one_record_then_a_batch(
    client: TestClient[Any, Any], api_world: ApiWorld, path: str, record: dict[str, Any], kind: str
) -> None:
    url = f"/api/v1/{path}"
    first = await client.post(url, json=record, headers=bearer(api_world.token))
    assert first.status == 200, await first.text()
    assert (await first.json())["counts"][kind]["new"] == 1
    again = await client.post(url, json={"items": [record]}, headers=bearer(api_world.token))
    assert again.status == 200, await again.text()
    assert (await again.json())["counts"][kind]["unchanged"] == 1


# --- schools kept apart ---------------------------------------------------------------------


async def test_another_schools_id_is_404_naming_the_field(
    client: TestClient[Any, Any], api_world: ApiWorld, committing_engine: AsyncEngine
) -> None:
    batch = {"items": [mark("M-1"), mark("M-2", student_ref=OTHER_ONLY)]}
    response = await client.post("/api/v1/marks", json=batch, headers=bearer(api_world.token))
    body = await problem_of(response, 404)
    assert fields(body) == ["items[1].student_ref"]
    # All or nothing: the good mark of the batch is not written either.
    assert await count(committing_engine, "SELECT count(*) FROM marks") == 0


async def test_the_same_ids_in_two_schools_reach_each_schools_own_rows(
    client: TestClient[Any, Any], api_world: ApiWorld, committing_engine: AsyncEngine
) -> None:
    for token in (api_world.token, api_world.other_token):
        response = await client.post("/api/v1/marks", json=mark(), headers=bearer(token))
        assert response.status == 200
    for school in (api_world.school, api_world.other):
        assert (
            await count(
                committing_engine,
                "SELECT count(*) FROM marks WHERE student_id = :s AND lesson_id = :l",
                s=school.student_id,
                l=school.lesson_id,
            )
            == 1
        )


# --- bad requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[" * 100_000])
async def test_bad_json_is_400_problem(
    client: TestClient[Any, Any], api_world: ApiWorld, body: bytes
) -> None:
    headers = {**bearer(api_world.token), "Content-Type": "application/json"}
    response = await client.post("/api/v1/marks", data=body, headers=headers)
    body_of = await problem_of(response, 400)
    assert fields(body_of) == ["body"]


async def test_a_body_off_the_schema_is_422_naming_each_field(
    client: TestClient[Any, Any], api_world: ApiWorld
) -> None:
    batch = {"items": [mark(), mark("M-2", value="6"), mark("M-3", weight="2", colour="red")]}
    response = await client.post("/api/v1/marks", json=batch, headers=bearer(api_world.token))
    body = await problem_of(response, 422)
    assert sorted(fields(body)) == ["items[1].value", "items[2].colour", "items[2].weight"]
    assert "6" not in body["detail"]  # the values sent are never echoed


async def test_a_record_the_service_refuses_is_422(
    client: TestClient[Any, Any], api_world: ApiWorld
) -> None:
    record = mark(work_kind="no-such-kind")
    response = await client.post("/api/v1/marks", json=record, headers=bearer(api_world.token))
    body = await problem_of(response, 422)
    assert fields(body) == ["work_kind"]


async def test_unknown_paths_and_methods_are_problems(
    client: TestClient[Any, Any], api_world: ApiWorld
) -> None:
    await problem_of(await client.get("/api/v1/nothing", headers=bearer(api_world.token)), 404)
    response = await client.get("/api/v1/marks", headers=bearer(api_world.token))
    await problem_of(response, 405)
    assert "POST" in response.headers["Allow"]


# --- idempotency ----------------------------------------------------------------------------


async def test_a_repeated_idempotency_key_returns_the_first_answer_and_writes_nothing(
    client: TestClient[Any, Any], api_world: ApiWorld, committing_engine: AsyncEngine
) -> None:
    headers = {**bearer(api_world.token), "Idempotency-Key": "batch-0001"}
    first = await client.post("/api/v1/marks", json=mark(value="4"), headers=headers)
    assert first.status == 200
    assert "Idempotency-Replayed" not in first.headers
    events = await count(committing_engine, "SELECT count(*) FROM journal_events")
    again = await client.post("/api/v1/marks", json=mark(value="4"), headers=headers)
    assert again.status == 200
    assert again.headers["Idempotency-Replayed"] == "true"
    # The first answer ("new"), not what the request would get now ("unchanged").
    assert await again.json() == await first.json()
    assert (await again.json())["counts"]["mark"]["new"] == 1
    assert await count(committing_engine, "SELECT count(*) FROM marks") == 1
    assert await count(committing_engine, "SELECT count(*) FROM journal_events") == events
    # The same key with another request is refused; the key of another token is its own.
    other = await client.post("/api/v1/marks", json=mark(value="3"), headers=headers)
    body = await problem_of(other, 422)
    assert fields(body) == ["Idempotency-Key"]
    theirs = {**bearer(api_world.other_token), "Idempotency-Key": "batch-0001"}
    assert (await client.post("/api/v1/marks", json=mark(), headers=theirs)).status == 200


async def test_a_failed_request_stores_no_answer_for_its_key(
    client: TestClient[Any, Any], api_world: ApiWorld
) -> None:
    headers = {**bearer(api_world.token), "Idempotency-Key": "k-2"}
    refused = await client.post("/api/v1/marks", json=mark(student_ref="nobody"), headers=headers)
    await problem_of(refused, 404)
    fixed = await client.post("/api/v1/marks", json=mark(), headers=headers)
    assert fixed.status == 200


async def test_a_malformed_idempotency_key_is_400(
    client: TestClient[Any, Any], api_world: ApiWorld
) -> None:
    headers = {**bearer(api_world.token), "Idempotency-Key": "x" * 201}
    body = await problem_of(await client.post("/api/v1/marks", json=mark(), headers=headers), 400)
    assert fields(body) == ["Idempotency-Key"]


# --- batches --------------------------------------------------------------------------------


async def test_a_batch_of_1000_marks_and_not_one_more(
    client: TestClient[Any, Any], api_world: ApiWorld, committing_engine: AsyncEngine
) -> None:
    batch = {"items": [mark(f"M-{i}", value="54321"[i % 5]) for i in range(1000)]}
    response = await client.post("/api/v1/marks", json=batch, headers=bearer(api_world.token))
    assert response.status == 200, await response.text()
    assert (await response.json())["counts"]["mark"]["new"] == 1000
    assert await count(committing_engine, "SELECT count(*) FROM marks") == 1000
    assert (
        await count(
            committing_engine, "SELECT count(*) FROM journal_events WHERE kind = 'mark.new'"
        )
        == 1000
    )
    batch["items"].append(mark("M-1000"))
    response = await client.post("/api/v1/marks", json=batch, headers=bearer(api_world.token))
    body = await problem_of(response, 422)
    assert fields(body) == ["items"]


async def test_a_token_past_its_rate_gets_429_with_retry_after(
    committing_engine: AsyncEngine, api_world: ApiWorld
) -> None:
    async with api_client(committing_engine, LocalBuckets(rate=0.5, burst=2)) as limited:
        statuses = [
            (await limited.get("/api/v1/token", headers=bearer(api_world.token))).status
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        response = await limited.get("/api/v1/token", headers=bearer(api_world.token))
        await problem_of(response, 429)
        assert int(response.headers["Retry-After"]) >= 1
        # Another token has a bucket of its own.
        other = await limited.get("/api/v1/token", headers=bearer(api_world.other_token))
        assert other.status == 200


# --- the document ---------------------------------------------------------------------------


async def test_the_served_document_is_the_file_and_describes_every_route(
    client: TestClient[Any, Any],
) -> None:
    from bot.api.app import OPENAPI_FILE

    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    served = await response.read()
    assert served == OPENAPI_FILE.read_bytes()
    # The file is what the models generate: `python -m bot.api.openapi` was run.
    assert served.decode("utf-8") == render()
    document = await response.json()
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert routes == described


def test_the_factory_needs_no_database() -> None:
    from bot.api.context import ApiContext

    app = create_api_app(ApiContext(sessions=None, limit=LocalBuckets(1, 1)))  # type: ignore[arg-type]
    assert len(app.router.routes()) > len(KINDS)
