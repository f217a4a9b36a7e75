"""Errors as RFC 9457 problem details (`application/problem+json`), each naming its field.

A client fixes what it sent from the answer alone: `errors` lists every field at fault by its
path in the body (`items[3].value`) or its header, never echoing the value that was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import ValidationError

PROBLEM_JSON = "application/problem+json"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass(slots=True)
class Problem(Exception):
    """An answer other than success; raised anywhere in a request, rendered by the middleware."""

    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }

    def response(self) -> web.Response:
        return web.json_response(
            self.body(), status=self.status, content_type=PROBLEM_JSON, headers=self.headers
        )


def field_path(loc: Iterable[int | str], *, prefix: str = "") -> str:
    """`items[3].value` from pydantic's ('items', 3, 'value'); odd keys shown as `?`."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = part if _IDENTIFIER.fullmatch(part) else "?"
            path += f".{name}" if path else name
    return path or "body"


def from_validation(exc: ValidationError) -> Problem:
    """422 naming every field pydantic refused; a body that is not JSON at all is a 400."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return bad_json()
    listed = [FieldError(field_path(e["loc"]), e["msg"]) for e in errors[:50]]
    more = f" (the first 50 of {len(errors)})" if len(errors) > 50 else ""
    return Problem(
        422, "Unprocessable Content", f"the body does not match the schema{more}", listed
    )


def bad_json() -> Problem:
    return Problem(
        400,
        "Bad Request",
        "the body is not JSON",
        [FieldError("body", "expected a JSON document encoded in UTF-8")],
    )


def not_found(field_name: str, what: str) -> Problem:
    """A reference the token's school does not know: the same answer as for another school's."""
    return Problem(
        404,
        "Not Found",
        f"no {what} with this id in the token's school",
        [FieldError(field_name, f"unknown {what}")],
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        [FieldError("Authorization", "expected: Bearer <token>")],
        {"WWW-Authenticate": 'Bearer realm="journalbot"'},
    )
