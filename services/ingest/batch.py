"""One write of journal records: a chunk at a time, what they name resolved in one query per
kind, and what was done and refused gathered for the caller."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.ingest import external, lookups
from services.ingest.records import Progress, Rejections, told
from services.ingest.tally import Tally

Kind = m.ExternalKind


class Named(Protocol):
    """A record the program names by its own id."""

    @property
    def external_id(self) -> str: ...


R = TypeVar("R", bound=Named)
# What is wrong with a record: (its field, the value, what was expected).
Problem = tuple[str, object, str]
Check = tuple[bool, str, object, str]
# What a reference must be, as the refusal says it.
STUDENT = "a student of the school's roster"
TEACHER = "a teacher of the school's roster"
LESSON = "a lesson of the journal"
# What a record about a pupil at a lesson names (a mark, an absence).
PUPIL_REFS = {
    Kind.STUDENT: ("student_ref",),
    Kind.LESSON: ("lesson_ref",),
    Kind.STAFF: ("author_ref",),
}


def first_problem(checks: Sequence[Check]) -> Problem | None:
    """The first failed check as (field, value, what was expected): one problem per record."""
    return next(((name, value, want) for bad, name, value, want in checks if bad), None)


@dataclass(frozen=True, slots=True)
class Refs:
    """The program's ids of a batch resolved to ours, per kind, plus the school's work kinds."""

    ids: Mapping[Kind, Mapping[str, int]]
    work_kinds: Mapping[str, int]

    def of(self, kind: Kind, ref: str | None) -> int | None:
        return None if ref is None else self.ids[kind].get(ref)

    def check(self, kind: Kind, name: str, ref: str | None, expected: str) -> Check:
        """A check that the record's field `name` names no row unknown here (None is fine)."""
        return (ref is not None and self.of(kind, ref) is None, name, ref, expected)


@dataclass(frozen=True, slots=True)
class Load:
    """Records written in the caller's transaction for one school: what was done (`tally`),
    what was refused (`rejected`), and whom to tell how far it got."""

    session: AsyncSession
    school_id: int
    tally: Tally = field(default_factory=Tally)
    rejected: Rejections = field(default_factory=Rejections)
    progress: Progress | None = None

    def batches(self, kind: Kind, records: Sequence[R]) -> Iterator[list[tuple[int, R]]]:
        """The records a chunk at a time with their index, progress told; a second record of
        one id is refused."""
        seen: set[str] = set()
        for start, chunk in lookups.chunks(records):
            told(self.progress, kind, start, len(records))
            kept: list[tuple[int, R]] = []
            for index, record in enumerate(chunk, start):
                if record.external_id in seen:
                    self.rejected.add(
                        kind, index, "external_id", record.external_id, "an id not used before"
                    )
                    continue
                seen.add(record.external_id)
                kept.append((index, record))
            yield kept

    async def refs(
        self, batch: Sequence[tuple[int, Any]], named: Mapping[Kind, Sequence[str]]
    ) -> Refs:
        """Our ids of what the batch names: per kind, the records' fields that hold its ids
        (an empty field names nothing). One query per kind for the whole batch."""
        ids = {}
        for kind, fields in named.items():
            wanted = {v for _, r in batch for f in fields if (v := getattr(r, f))}
            ids[kind] = await external.resolve(self.session, self.school_id, kind, wanted)
        return Refs(ids, await lookups.work_kinds(self.session, self.school_id))
