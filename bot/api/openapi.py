"""The OpenAPI 3.1 document of the ingest API, generated from the request models.

`python -m bot.api.openapi` rewrites bot/api/openapi.json, the file the API serves and the
repository keeps; a test fails when the file and the models disagree.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.api.app import OPENAPI_FILE, PREFIX
from bot.api.ingest import IDEMPOTENCY_HEADER, KEY_PATTERN, REPLAYED_HEADER
from bot.api.kinds import KINDS, KindSpec
from bot.api.models import MAX_BATCH, IngestResult, ProblemOut, TokenAbout

JSON = "application/json"
PROBLEM = "application/problem+json"
_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "The body is not JSON, or a header is malformed.",
    "401": "No bearer token, or an unknown or revoked one.",
    "404": "A record names an id the token's school does not know (another school's, say).",
    "409": "The records break a rule of the database as they stand.",
    "413": "The body is larger than the API takes.",
    "422": f"The body does not match the schema (a batch holds 1 to {MAX_BATCH} records), a"
    " record cannot be written, or the Idempotency-Key was used with another request.",
    "429": "This token's rate limit is reached; Retry-After says when to try again.",
    "503": "The database is unavailable; try again.",
}


def _schemas() -> tuple[dict[Any, Any], dict[str, Any]]:
    """(reference of each model, every component schema)."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for spec in KINDS:
        models += [(spec.model, "validation"), (spec.batch, "validation")]
    models += [(m, "serialization") for m in (IngestResult, TokenAbout, ProblemOut)]
    refs, top = models_json_schema(models, ref_template=_REF)
    return {model: ref for (model, _), ref in refs.items()}, top.get("$defs", {})


def _problem(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": _REF.format(model="ProblemOut")}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _responses() -> dict[str, Any]:
    integer = {"schema": {"type": "integer", "minimum": 1}}
    named = {code: _problem(text) for code, text in _ERRORS.items() if code not in {"401", "429"}}
    named["401"] = _problem(_ERRORS["401"], **{"WWW-Authenticate": {"schema": {"type": "string"}}})
    named["429"] = _problem(_ERRORS["429"], **{"Retry-After": integer})
    return {f"Problem{code}": answer for code, answer in named.items()}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/Problem{code}"} for code in codes}


def _write(spec: KindSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    body = {"anyOf": [refs[spec.model], refs[spec.batch]]}
    return {
        "post": {
            "operationId": "upsert_" + spec.path.replace("-", "_"),
            "summary": spec.summary,
            "description": spec.description
            + f' One record, or `{{"items": [...]}}` with up to {MAX_BATCH}: all or none.',
            "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
            "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
            "responses": {
                "200": {
                    "description": "Written; counts per kind of row.",
                    "headers": {
                        REPLAYED_HEADER: {
                            "description": "`true` when this is the stored first answer.",
                            "schema": {"type": "string", "enum": ["true"]},
                        }
                    },
                    "content": {JSON: {"schema": refs[IngestResult]}},
                },
                **_errors("400", "401", "404", "409", "413", "422", "429", "503"),
            },
        }
    }


def document() -> dict[str, Any]:
    refs, schemas = _schemas()
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Alive",
                "security": [],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        f"{PREFIX}/token": {
            "get": {
                "operationId": "about_token",
                "summary": "The calling token and its school",
                "responses": {
                    "200": {
                        "description": "The token",
                        "content": {JSON: {"schema": refs[TokenAbout]}},
                    },
                    **_errors("401", "429", "503"),
                },
            }
        },
    }
    for spec in KINDS:
        paths[f"{PREFIX}/{spec.path}"] = _write(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "journalbot ingest API",
            "version": "1",
            "description": "The school's journal program writes its roster and journal here, by"
            " its own ids. A token belongs to one school and reads and writes only that school's"
            " rows. Marks, attendance and final grades reach families exactly as rows written"
            " straight into the database do. Errors are RFC 9457 problem details naming the"
            " field. A repeated Idempotency-Key returns the first answer and writes nothing.",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "IdempotencyKey": {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": False,
                    "description": "The same key with the same request returns the first answer"
                    " and writes nothing more; with another request it is refused (422).",
                    "schema": {"type": "string", "pattern": KEY_PATTERN},
                }
            },
            "responses": _responses(),
            "schemas": schemas,
        },
    }


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    OPENAPI_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {OPENAPI_FILE}")
