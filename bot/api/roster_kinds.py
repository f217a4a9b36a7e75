"""The roster's kinds as the API takes them: references checked first, then the roster applied.

References are checked first (bot/api/references.py): the roster service refuses an unknown
id without saying which field holds it. Nothing is marked as left: the API sends single rows,
never the whole roster.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.api.problems import FieldError, Problem
from bot.api.references import check_refs, duplicates
from bot.api.roster_models import ClassIn, GuardianIn, StaffIn, StudentIn, SubgroupIn
from services.db.session import Session
from services.ingest.roster import (
    ClassRecord,
    GuardianRecord,
    Roster,
    RosterError,
    StaffRecord,
    StudentRecord,
    SubgroupRecord,
    Teaching,
    Ward,
    apply_roster,
)
from services.ingest.tally import Tally


def roster_of(items: Sequence[Any]) -> Roster:
    """The records of one kind as a roster holding that kind alone."""
    first = items[0]
    if isinstance(first, ClassIn):
        return Roster(classes=tuple(ClassRecord(**i.model_dump()) for i in items))
    if isinstance(first, SubgroupIn):
        return Roster(subgroups=tuple(_subgroup(i) for i in items))
    if isinstance(first, StudentIn):
        return Roster(students=tuple(StudentRecord(**i.model_dump()) for i in items))
    if isinstance(first, GuardianIn):
        return Roster(guardians=tuple(_guardian(i) for i in items))
    return Roster(staff=tuple(_staff(i) for i in items))


def _subgroup(item: SubgroupIn) -> SubgroupRecord:
    members = None if item.members is None else tuple(item.members)
    return SubgroupRecord(**{**item.model_dump(), "members": members})


def _guardian(item: GuardianIn) -> GuardianRecord:
    children = (
        None
        if item.children is None
        else tuple(Ward(c.student_id, c.relation) for c in item.children)
    )
    return GuardianRecord(
        **{**item.model_dump(), "phones": tuple(item.phones), "children": children}
    )


def _staff(item: StaffIn) -> StaffRecord:
    teaching = (
        None
        if item.teaching is None
        else tuple(Teaching(t.subject, t.class_id, t.subgroup_id) for t in item.teaching)
    )
    return StaffRecord(**{**item.model_dump(), "roles": tuple(item.roles), "teaching": teaching})


async def write(
    session: Session, school_id: int, items: Sequence[Any], *, now: datetime, batch: bool
) -> Tally:
    """Upsert one kind of the roster; nothing is marked as left (complete=False)."""
    duplicates(items, batch=batch)
    await check_refs(session, school_id, items, batch=batch)
    try:
        return await apply_roster(session, school_id, roster_of(items), complete=False, now=now)
    except RosterError as exc:
        raise Problem(
            422, "Unprocessable Content", str(exc), [FieldError("items", str(exc))]
        ) from None
