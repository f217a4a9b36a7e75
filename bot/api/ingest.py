"""The write endpoints: parse the body, honour the Idempotency-Key, write in one transaction.

A request is all or nothing: its records and its stored answer commit together, and any
refused record rolls the whole request back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.api.context import CONTEXT, PRINCIPAL, Handler
from bot.api.kinds import KindSpec
from bot.api.models import Batch, IngestResult
from bot.api.problems import FieldError, Problem, bad_json, from_validation
from services.ingest import idempotency

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
KEY_PATTERN = "^[\\x21-\\x7e]{1,200}$"
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def parse_items(spec: KindSpec, body: bytes) -> tuple[list[Any], bool]:
    """The records of the body (one record, or `{"items": [...]}`), and whether it was a batch.

    Bad JSON is a 400; JSON that does not match the schema a 422 naming the fields.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise bad_json() from None
    batch = isinstance(data, dict) and "items" in data
    model: type[BaseModel] = spec.batch if batch else spec.model
    try:
        parsed = model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation(exc) from None
    if isinstance(parsed, Batch):
        return list(parsed.items), True
    return [parsed], False


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _KEY.fullmatch(key):
        raise Problem(
            400,
            "Bad Request",
            "the Idempotency-Key header is malformed",
            [FieldError(IDEMPOTENCY_HEADER, "1 to 200 visible ASCII characters")],
        )
    return key


def _reused() -> Problem:
    return Problem(
        422,
        "Unprocessable Content",
        "this Idempotency-Key was used with another request",
        [FieldError(IDEMPOTENCY_HEADER, "a new key for a new request")],
    )


def handler(spec: KindSpec) -> Handler:
    """POST /api/v1/<kind>: one record or a batch, written in the token's school."""

    async def ingest(request: web.Request) -> web.Response:
        context = request.app[CONTEXT]
        principal = request[PRINCIPAL]
        key = idempotency_key(request)
        body = await request.read()
        items, batch = parse_items(spec, body)
        hashed = idempotency.request_hash(request.method, request.path, body)
        async with context.sessions() as session, session.begin():

            async def run() -> idempotency.Answer:
                tally = await spec.write(
                    session, principal.school_id, items, context.clock(), batch
                )
                result = IngestResult.model_validate({"counts": tally.as_dict()})
                return idempotency.Answer(200, result.model_dump(mode="json"))

            try:
                answer, replayed = await idempotency.once(
                    session, token_id=principal.token_id, key=key, hashed=hashed, run=run
                )
            except idempotency.KeyReused:
                raise _reused() from None
        headers = {REPLAYED_HEADER: "true"} if replayed else {}
        return web.json_response(answer.body, status=answer.status, headers=headers)

    return ingest
