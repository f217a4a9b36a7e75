"""The roster from the journal program: classes, subgroups, pupils, guardians, staff.

Both the file import and the ingest API hand records here. Rows are matched by the program's
own ids (`external_ids`), so sending the same roster again changes nothing; a changed roster
renames, moves a pupil (lessons keep their class, so earlier marks keep theirs), ends a
guardianship or marks a person as left; nothing is ever deleted but the links between rows
(subgroup members, roles, teaching) that the record restates in full.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.ingest import external
from services.ingest.tally import Outcome, Tally

Kind = m.ExternalKind
Progress = Callable[[str, int, int], None]
CHUNK = 500


class RosterError(ValueError):
    """The records cannot be applied (an id they refer to is unknown, no academic year)."""


@dataclass(frozen=True, slots=True)
class ClassRecord:
    external_id: str
    grade: int
    letter: str
    shift: int = 1
    class_teacher: str | None = None  # the staff member's external id


@dataclass(frozen=True, slots=True)
class SubgroupRecord:
    external_id: str
    class_id: str  # the class's external id
    name: str
    subject: str | None = None
    members: tuple[str, ...] | None = None  # students' external ids; None leaves them be


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What every person of the roster has: the program's id, the name, the sex."""

    external_id: str
    last_name: str
    first_name: str
    middle_name: str | None = None
    sex: str | None = None  # "m" or "f"


@dataclass(frozen=True, slots=True)
class StudentRecord(PersonRecord):
    birth_date: date | None = None
    class_id: str | None = None  # the class's external id
    phone: str | None = None
    consent: bool | None = None  # a consent on record; None leaves it be
    consent_on: date | None = None


class Ward(NamedTuple):
    """A child of a guardian: the student's external id and how the guardian is related."""

    student_id: str
    relation: str = "parent"


@dataclass(frozen=True, slots=True)
class GuardianRecord(PersonRecord):
    phones: tuple[str, ...] = ()
    children: tuple[Ward, ...] | None = None  # None leaves the guardianships be


class Teaching(NamedTuple):
    """A subject taught to a class (or one of its subgroups), by external ids."""

    subject: str
    class_id: str
    subgroup_id: str | None = None


@dataclass(frozen=True, slots=True)
class StaffRecord(PersonRecord):
    phone: str | None = None
    # Roles other than class teacher (that one comes with the class); values of StaffRole.
    roles: tuple[str, ...] = ()
    teaching: tuple[Teaching, ...] | None = None  # None leaves the teaching be


@dataclass(frozen=True, slots=True)
class Roster:
    """What a file or a request holds; a kind that is None is not touched at all."""

    classes: tuple[ClassRecord, ...] | None = None
    subgroups: tuple[SubgroupRecord, ...] | None = None
    students: tuple[StudentRecord, ...] | None = None
    guardians: tuple[GuardianRecord, ...] | None = None
    staff: tuple[StaffRecord, ...] | None = None

    @property
    def size(self) -> int:
        kinds = (self.classes, self.subgroups, self.students, self.guardians, self.staff)
        return sum(len(k or ()) for k in kinds)


@dataclass
class Context:
    """One application of a roster: the school, its today, the ids met so far, the tally."""

    session: AsyncSession
    school_id: int
    now: datetime
    today: date
    complete: bool
    progress: Progress | None
    tally: Tally = field(default_factory=Tally)
    known: dict[Kind, dict[str, int]] = field(default_factory=dict)

    async def ids(self, kind: Kind, wanted: Sequence[str]) -> dict[str, int]:
        """Local ids of external ids, from this run's new rows or the table; RosterError for
        an id nobody named."""
        cache = self.known.setdefault(kind, {})
        missing = [w for w in wanted if w not in cache]
        if missing:
            cache.update(await external.resolve(self.session, self.school_id, kind, missing))
        unknown = sorted({w for w in wanted if w not in cache})
        if unknown:
            raise RosterError(f"unknown {kind.value} id(s): {', '.join(unknown[:10])}")
        return {w: cache[w] for w in wanted}

    async def remember(self, kind: Kind, pairs: Mapping[str, int]) -> None:
        await external.remember(self.session, self.school_id, kind, pairs)
        self.known.setdefault(kind, {}).update(pairs)

    def step(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def assign(row: Any, values: Mapping[str, object]) -> tuple[str, ...]:
    """Set the values that differ; the names of those that did (empty: unchanged)."""
    changed = tuple(name for name, value in values.items() if getattr(row, name) != value)
    for name in changed:
        setattr(row, name, values[name])
    return changed


def chunks(records: Sequence[Any]) -> list[Sequence[Any]]:
    return [records[i : i + CHUNK] for i in range(0, len(records), CHUNK)] or [records]


async def school_today(session: AsyncSession, school_id: int, now: datetime) -> date:
    zone = await session.scalar(select(m.School.timezone).where(m.School.id == school_id))
    if zone is None:
        raise RosterError(f"no school {school_id}")
    return now.astimezone(ZoneInfo(zone)).date()


async def current_year(session: AsyncSession, school_id: int, today: date) -> int:
    """The academic year holding today: new classes belong to it."""
    year = await session.scalar(
        select(m.AcademicYear.id)
        .where(
            m.AcademicYear.school_id == school_id,
            m.AcademicYear.starts_on <= today,
            m.AcademicYear.ends_on >= today,
        )
        .order_by(m.AcademicYear.starts_on.desc())
        .limit(1)
    )
    if year is None:
        raise RosterError(
            f"school {school_id} has no academic year holding {today:%d.%m.%Y}: add the year first"
        )
    return year


async def subject_ids(ctx: Context, names: Sequence[str]) -> dict[str, int]:
    """Subjects by name, any case; the missing ones are created."""
    rows = await ctx.session.execute(
        select(m.Subject.name, m.Subject.id).where(m.Subject.school_id == ctx.school_id)
    )
    by_key = {name.casefold(): sid for name, sid in rows}
    for name in dict.fromkeys(names):
        if name.casefold() not in by_key:
            subject = m.Subject(school_id=ctx.school_id, name=name)
            ctx.session.add(subject)
            await ctx.session.flush()
            by_key[name.casefold()] = subject.id
    return {name: by_key[name.casefold()] for name in names}


async def apply_roster(
    session: AsyncSession,
    school_id: int,
    roster: Roster,
    *,
    complete: bool,
    now: datetime,
    progress: Progress | None = None,
) -> Tally:
    """Upsert the roster by external id in the caller's transaction; counts per kind.

    `complete` (a whole roster file): people and guardianships the program named before and
    no longer lists are marked left or ended, kind by kind for the kinds the roster holds.
    Without it (single rows from the API) nothing is marked left. RosterError, before or
    after partial writes, means the caller must roll back. The administrator's tool: no
    access rule applies.
    """
    from services.ingest import roster_people as people
    from services.ingest import roster_school as structure

    today = await school_today(session, school_id, now)
    ctx = Context(session, school_id, now, today, complete, progress)
    # In the order rows refer to each other; class teachers last, once the staff are known.
    steps: tuple[tuple[Sequence[Any] | None, Callable[[Context, Any], Awaitable[None]]], ...] = (
        (roster.classes, structure.apply_classes),
        (roster.students, people.apply_students),
        (roster.subgroups, structure.apply_subgroups),
        (roster.guardians, people.apply_guardians),
        (roster.staff, people.apply_staff),
        (roster.classes, structure.apply_class_teachers),
    )
    for records, apply in steps:
        if records is not None:
            await apply(ctx, records)
    await session.flush()
    return ctx.tally


__all__ = [
    "ClassRecord",
    "Context",
    "GuardianRecord",
    "Outcome",
    "PersonRecord",
    "Roster",
    "RosterError",
    "StaffRecord",
    "StudentRecord",
    "SubgroupRecord",
    "Teaching",
    "Ward",
    "apply_roster",
    "current_year",
]
