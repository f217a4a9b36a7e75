"""schemathesis against the served OpenAPI document: no 500 for any generated request, and
every answer as the document describes it (status, media type, body, headers)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
import time_machine
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.api import ApiWorld, api_client, bearer

SCHOOL_DAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Small, so that the suite stays fast; derandomised, so that a run repeats the last one.
POSITIVE_EXAMPLES = 15
NEGATIVE_EXAMPLES = 10
CONFORMS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(autouse=True)
def school_day_noon() -> Iterator[None]:
    with time_machine.travel(SCHOOL_DAY_NOON, tick=True):
        yield


def _exercise(
    schema: Any, base_url: str, headers: dict[str, str], mode: schemathesis.GenerationMode
) -> list[str]:
    """Every operation with generated requests; the operations whose answers failed a check."""
    negative = mode is schemathesis.GenerationMode.NEGATIVE
    checks = [*CONFORMS, negative_data_rejection] if negative else CONFORMS
    failed: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if negative and operation.method.upper() != "POST":
            continue  # nothing to negate in a GET without parameters

        @settings(
            max_examples=NEGATIVE_EXAMPLES if negative else POSITIVE_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

        try:
            run()
        except Exception as exc:
            failed.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failed


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
async def test_generated_requests_get_documented_answers_and_never_a_500(
    committing_engine: AsyncEngine, api_world: ApiWorld, mode: schemathesis.GenerationMode
) -> None:
    async with api_client(committing_engine) as client:
        response = await client.get("/api/v1/openapi.json")
        schema = schemathesis.openapi.from_dict(await response.json())
        base_url = str(client.make_url("")).rstrip("/")
        failed = await asyncio.to_thread(
            _exercise, schema, base_url, bearer(api_world.token), mode
        )
    assert failed == []
