"""What travels between aiogram and the fake Bot API: requests as recorded, uploaded files,
parameters read from any of the encodings aiogram uses, and Telegram's error answers."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web


@dataclass(frozen=True, slots=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    token: str
    params: dict[str, Any]
    at: float
    failed_with: int | None = None
    # What the server answered (filled in once answered): the sent message, for instance.
    answer: list[Any] = field(default_factory=list)


@dataclass
class Failure:
    """An error to answer with, for a chat and a method (None: any), `times` times."""

    chat_id: int | None
    method: str | None
    status: int
    description: str | None
    retry_after: int | None
    times: int | None


def _decode(value: str) -> Any:
    """aiogram sends complex fields as JSON strings and scalars as plain text."""
    if value and value[0] in "[{":
        with contextlib.suppress(ValueError):
            return json.loads(value)
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if value in {"true", "false"}:
        return value == "true"
    return value


async def read_params(request: web.Request) -> dict[str, Any]:
    """A method's parameters from the query, a JSON body, a form or a multipart upload."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename:
                data = await part.read()
                params[part.name] = UploadedFile(
                    part.filename, part.headers.get("Content-Type"), bytes(data)
                )
            else:
                params[part.name] = _decode(await part.text())
        # aiogram names the file part and refers to it as attach://<name>.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.pop(value.removeprefix("attach://"), value)
        return params
    form = await request.post()
    for key, value in form.items():
        params[key] = _decode(value) if isinstance(value, str) else value
    return params


def error(status: int, description: str, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    body.update(extra)
    return web.json_response(body, status=status)


def failure_response(failure: Failure) -> web.Response:
    if failure.status == 429:
        retry = failure.retry_after or 1
        return error(
            429,
            failure.description or f"Too Many Requests: retry after {retry}",
            parameters={"retry_after": retry},
        )
    if failure.status == 403:
        return error(403, failure.description or "Forbidden: bot was blocked by the user")
    if failure.status == 400:
        return error(400, failure.description or "Bad Request: chat not found")
    if failure.status >= 500:
        return error(failure.status, failure.description or "Internal Server Error")
    return error(failure.status, failure.description or "Error")
