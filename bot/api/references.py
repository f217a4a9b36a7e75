"""Every reference a request makes, looked up in the token's school before anything is written.

The services refuse an unknown id too, but the API promises more: a 404 naming each field that
holds one (`items[3].student_ref`). An id of another school is unknown here like any other,
so a token can neither write nor probe another school's rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bot.api.problems import FieldError, Problem
from bot.api.roster_models import ClassIn, GuardianIn, StaffIn, StudentIn, SubgroupIn
from services.db import models as m
from services.db.session import Session
from services.ingest import external

Kind = m.ExternalKind
# (field path, kind, external id): one reference a request makes.
Ref = tuple[str, Kind, str]
# The journal records' reference fields and the kind each names.
_JOURNAL_REFS = {
    "class_ref": Kind.CLASS,
    "subgroup_ref": Kind.SUBGROUP,
    "teacher_ref": Kind.STAFF,
    "substitute_ref": Kind.STAFF,
    "author_ref": Kind.STAFF,
    "student_ref": Kind.STUDENT,
    "lesson_ref": Kind.LESSON,
}


def _roster_refs(item: Any, at: str) -> Iterator[Ref]:
    if isinstance(item, ClassIn) and item.class_teacher is not None:
        yield f"{at}class_teacher", Kind.STAFF, item.class_teacher
    if isinstance(item, SubgroupIn):
        yield f"{at}class_id", Kind.CLASS, item.class_id
        for j, member in enumerate(item.members or ()):
            yield f"{at}members[{j}]", Kind.STUDENT, member
    if isinstance(item, StudentIn) and item.class_id is not None:
        yield f"{at}class_id", Kind.CLASS, item.class_id
    if isinstance(item, GuardianIn):
        for j, ward in enumerate(item.children or ()):
            yield f"{at}children[{j}].student_id", Kind.STUDENT, ward.student_id
    if isinstance(item, StaffIn):
        for j, taught in enumerate(item.teaching or ()):
            yield f"{at}teaching[{j}].class_id", Kind.CLASS, taught.class_id
            if taught.subgroup_id is not None:
                yield f"{at}teaching[{j}].subgroup_id", Kind.SUBGROUP, taught.subgroup_id


def refs_of(item: Any, at: str) -> Iterator[Ref]:
    """The references one record makes, with the path of the field that holds each."""
    yield from _roster_refs(item, at)
    for name, kind in _JOURNAL_REFS.items():
        value = getattr(item, name, None)
        if isinstance(value, str):
            yield f"{at}{name}", kind, value


async def check_refs(
    session: Session, school_id: int, items: Sequence[Any], *, batch: bool
) -> None:
    """404 naming every field whose id the token's school does not know; one query a kind."""
    refs = [
        ref
        for i, item in enumerate(items)
        for ref in refs_of(item, f"items[{i}]." if batch else "")
    ]
    known: dict[Kind, dict[str, int]] = {}
    for kind in {kind for _, kind, _ in refs}:
        wanted = {ext for _, k, ext in refs if k is kind}
        known[kind] = await external.resolve(session, school_id, kind, wanted)
    unknown = [
        FieldError(path, f"unknown {kind.value} id in this school")
        for path, kind, ext in refs
        if ext not in known[kind]
    ]
    if unknown:
        more = f" ({len(unknown)} in all)" if len(unknown) > 50 else ""
        raise Problem(
            404, "Not Found", f"a record names a row the token's school lacks{more}", unknown[:50]
        )


def duplicates(items: Sequence[Any], *, batch: bool) -> None:
    """422 when a request sends one id twice: which of the two would win is not obvious."""
    seen: set[str] = set()
    errors = []
    for i, item in enumerate(items):
        if item.external_id in seen:
            where = f"items[{i}].external_id" if batch else "external_id"
            errors.append(FieldError(where, "an id sent once in a request"))
        seen.add(item.external_id)
    if errors:
        raise Problem(422, "Unprocessable Content", "an id is sent twice", errors[:50])
