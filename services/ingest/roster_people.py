"""People from the roster: pupils (class, consent), guardians (guardianships), staff (roles,
teaching), and who has left: never deleted, marked."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, select, update

from services.db import models as m
from services.ingest import external
from services.ingest.roster import (
    Context,
    GuardianRecord,
    Kind,
    PersonRecord,
    StaffRecord,
    StudentRecord,
    assign,
    chunks,
    subject_ids,
)
from services.ingest.tally import Outcome

_Person = TypeVar("_Person", m.Student, m.Guardian, m.Staff)
_Leaver = TypeVar("_Leaver", m.Student, m.Staff)
K = TypeVar("K", bound=Hashable)


def _names(record: PersonRecord) -> dict[str, object]:
    return {
        "last_name": record.last_name,
        "first_name": record.first_name,
        "middle_name": record.middle_name,
        "sex": record.sex,
    }


async def _upsert(
    ctx: Context,
    kind: Kind,
    model: type[_Person],
    records: Sequence[Any],
    values: Mapping[str, dict[str, object]],
) -> dict[str, tuple[_Person, tuple[str, ...] | None]]:
    """Each record's row and the fields that changed (None: the row is new), by external id."""
    known = await external.resolve(
        ctx.session, ctx.school_id, kind, [r.external_id for r in records]
    )
    rows = {
        p.id: p
        for p in await ctx.session.scalars(select(model).where(model.id.in_(known.values())))
    }
    result: dict[str, tuple[_Person, tuple[str, ...] | None]] = {}
    new: dict[str, _Person] = {}
    for record in records:
        row = rows.get(known.get(record.external_id, 0))
        if row is None:
            new[record.external_id] = row = model(**values[record.external_id])
            result[record.external_id] = (row, None)
        else:
            result[record.external_id] = (row, assign(row, values[record.external_id]))
    ctx.session.add_all(new.values())
    await ctx.session.flush()
    await ctx.remember(kind, {e: p.id for e, p in new.items()})
    return result


def _count(ctx: Context, kind: str, external_id: str, fields: tuple[str, ...] | None) -> None:
    if fields is None:
        ctx.tally.add(kind, external_id, Outcome.NEW)
    else:
        ctx.tally.add(kind, external_id, Outcome.CHANGED if fields else Outcome.UNCHANGED, fields)


# --- pupils --------------------------------------------------------------------------------


async def apply_students(ctx: Context, records: Sequence[StudentRecord]) -> None:
    """Pupils by external id. A move to another class changes `students.class_id` only:
    lessons keep theirs, so earlier marks stay with the old class; the pupil leaves the old
    class's subgroups. A pupil listed again after leaving is back."""
    done = 0
    for chunk in chunks(records):
        classes = await ctx.ids(Kind.CLASS, [r.class_id for r in chunk if r.class_id])
        values = {
            r.external_id: {
                "school_id": ctx.school_id,
                **_names(r),
                "birth_date": r.birth_date,
                "class_id": classes[r.class_id] if r.class_id else None,
                "phone": r.phone,
                "left_at": None,
            }
            for r in chunk
        }
        rows = await _upsert(ctx, Kind.STUDENT, m.Student, chunk, values)
        consents = await _consents(ctx, [row.id for row, _ in rows.values()])
        for record in chunk:
            row, fields = rows[record.external_id]
            if fields and "class_id" in fields:
                await _leave_other_subgroups(ctx, row.id, row.class_id)
            if _consent(ctx, record, row.id, consents.get(row.id)) and fields is not None:
                fields = (*fields, "consent")
            _count(ctx, "student", record.external_id, fields)
        await ctx.session.flush()
        done += len(chunk)
        ctx.step("students", done, len(records))
    if ctx.complete:
        await _mark_left(ctx, Kind.STUDENT, m.Student, {r.external_id for r in records})


async def _consents(ctx: Context, student_ids: list[int]) -> dict[int, m.Consent]:
    rows = await ctx.session.scalars(
        select(m.Consent).where(
            m.Consent.student_id.in_(student_ids), m.Consent.revoked_at.is_(None)
        )
    )
    return {c.student_id: c for c in rows}


def _consent(ctx: Context, record: StudentRecord, student_id: int, held: m.Consent | None) -> bool:
    """The consent on record as the roster says (seed 003 §1.5); whether it changed.

    "No" withdraws the consent the bot holds (revoked_at), so the child's data stops flowing.
    """
    if record.consent is None:
        return False
    if not record.consent:
        if held is None:
            return False
        held.revoked_at = ctx.now
        return True
    given_on = record.consent_on or (held.given_on if held else ctx.today)
    if held is None:
        ctx.session.add(m.Consent(student_id=student_id, given_on=given_on))
        return True
    return bool(assign(held, {"given_on": given_on}))


async def _leave_other_subgroups(ctx: Context, student_id: int, class_id: int | None) -> None:
    others = select(m.Subgroup.id)
    if class_id is not None:
        others = others.where(m.Subgroup.class_id != class_id)
    await ctx.session.execute(
        delete(m.SubgroupMember).where(
            m.SubgroupMember.student_id == student_id, m.SubgroupMember.subgroup_id.in_(others)
        )
    )


async def _mark_left(ctx: Context, kind: Kind, model: type[_Leaver], listed: set[str]) -> None:
    """People the program named before and the whole roster no longer lists have left."""
    gone = {
        local: ext
        for ext, local in (await external.all_of(ctx.session, ctx.school_id, kind)).items()
        if ext not in listed
    }
    if not gone:
        return
    rows = await ctx.session.scalars(
        select(model).where(model.id.in_(gone), model.left_at.is_(None))
    )
    for row in rows:
        row.left_at = ctx.today
        ctx.tally.add(kind.value, gone[row.id], Outcome.LEFT)


# --- guardians -----------------------------------------------------------------------------


async def apply_guardians(ctx: Context, records: Sequence[GuardianRecord]) -> None:
    """Guardians by external id, and, where the record lists children, their guardianships:
    a child no longer listed ends the guardianship (ended_on), the row is kept."""
    done = 0
    for chunk in chunks(records):
        values = {
            r.external_id: {**_names(r), "phone": r.phones[0] if r.phones else None} for r in chunk
        }
        rows = await _upsert(ctx, Kind.GUARDIAN, m.Guardian, chunk, values)
        for record in chunk:
            row, fields = rows[record.external_id]
            _count(ctx, "guardian", record.external_id, fields)
            if record.children is not None:
                await _guardianships(ctx, record, row.id)
        done += len(chunk)
        ctx.step("guardians", done, len(records))
    if ctx.complete:
        await _guardians_gone(ctx, {r.external_id for r in records})


async def _guardianships(ctx: Context, record: GuardianRecord, guardian_id: int) -> None:
    assert record.children is not None
    students = await ctx.ids(Kind.STUDENT, [w.student_id for w in record.children])
    wanted = {students[w.student_id]: w.relation for w in record.children}
    held = {
        g.student_id: g
        for g in await ctx.session.scalars(
            select(m.Guardianship)
            .join(m.Student, m.Student.id == m.Guardianship.student_id)
            .where(m.Guardianship.guardian_id == guardian_id, m.Student.school_id == ctx.school_id)
        )
    }
    pair = f"{record.external_id}/"
    by_local = {v: k for k, v in students.items()}
    for student_id, relation in wanted.items():
        key = pair + by_local[student_id]
        row = held.get(student_id)
        if row is None:
            ctx.session.add(
                m.Guardianship(guardian_id=guardian_id, student_id=student_id, relation=relation)
            )
            ctx.tally.add("guardianship", key, Outcome.NEW)
            continue
        changed = assign(row, {"relation": relation, "ended_on": None})
        ctx.tally.add(
            "guardianship", key, Outcome.CHANGED if changed else Outcome.UNCHANGED, changed
        )
    ending = [s for s, row in held.items() if s not in wanted and row.ended_on is None]
    codes = await external.names_of(ctx.session, ctx.school_id, Kind.STUDENT, ending)
    for student_id in ending:
        held[student_id].ended_on = ctx.today
        code = codes.get(student_id, f"#{student_id}")  # a child the program never named
        ctx.tally.add("guardianship", pair + code, Outcome.LEFT)
    await ctx.session.flush()


async def _guardians_gone(ctx: Context, listed: set[str]) -> None:
    """A guardian the whole roster no longer lists: every guardianship here ends."""
    gone = {
        local: ext
        for ext, local in (
            await external.all_of(ctx.session, ctx.school_id, Kind.GUARDIAN)
        ).items()
        if ext not in listed
    }
    if not gone:
        return
    ended = await ctx.session.execute(
        update(m.Guardianship)
        .where(
            m.Guardianship.guardian_id.in_(gone),
            m.Guardianship.ended_on.is_(None),
            m.Guardianship.student_id.in_(
                select(m.Student.id).where(m.Student.school_id == ctx.school_id)
            ),
        )
        .values(ended_on=ctx.today)
        .returning(m.Guardianship.guardian_id)
        .execution_options(synchronize_session=False)
    )
    for guardian_id in sorted(set(ended.scalars().all())):
        ctx.tally.add("guardian", gone[guardian_id], Outcome.LEFT)


# --- staff ---------------------------------------------------------------------------------


async def apply_staff(ctx: Context, records: Sequence[StaffRecord]) -> None:
    """Staff by external id, their roles (class teacher aside) and, where listed, what they
    teach: the record restates both in full."""
    values = {
        r.external_id: {"school_id": ctx.school_id, **_names(r), "phone": r.phone, "left_at": None}
        for r in records
    }
    done = 0
    for chunk in chunks(records):
        rows = await _upsert(ctx, Kind.STAFF, m.Staff, chunk, values)
        for record in chunk:
            row, fields = rows[record.external_id]
            extra = await _roles(ctx, row.id, record.roles)
            if record.teaching is not None:
                extra += await _teaching(ctx, row.id, record)
            _count(ctx, "staff", record.external_id, None if fields is None else fields + extra)
        done += len(chunk)
        ctx.step("staff", done, len(records))
    if ctx.complete:
        await _mark_left(ctx, Kind.STAFF, m.Staff, {r.external_id for r in records})


async def _restate(
    ctx: Context,
    name: str,
    held: Mapping[K, object],
    wanted: set[K],
    make: Callable[[K], object],
) -> tuple[str, ...]:
    """Links restated in full: those no longer wanted deleted, the new ones added; (`name`,)
    when anything changed."""
    if wanted == set(held):
        return ()
    for key, row in held.items():
        if key not in wanted:
            await ctx.session.delete(row)
    ctx.session.add_all(make(key) for key in sorted(wanted - set(held), key=str))
    await ctx.session.flush()
    return (name,)


async def _roles(ctx: Context, staff_id: int, roles: Sequence[str]) -> tuple[str, ...]:
    teacher = m.StaffRole.CLASS_TEACHER.value
    held = {
        a.role: a
        for a in await ctx.session.scalars(
            select(m.StaffRoleAssignment).where(
                m.StaffRoleAssignment.staff_id == staff_id, m.StaffRoleAssignment.role != teacher
            )
        )
    }
    wanted = {r for r in roles if r != teacher}

    def assignment(role: str) -> m.StaffRoleAssignment:
        return m.StaffRoleAssignment(staff_id=staff_id, role=role)

    return await _restate(ctx, "roles", held, wanted, assignment)


async def _teaching(ctx: Context, staff_id: int, record: StaffRecord) -> tuple[str, ...]:
    assert record.teaching is not None
    classes = await ctx.ids(Kind.CLASS, [t.class_id for t in record.teaching])
    groups = await ctx.ids(
        Kind.SUBGROUP, [t.subgroup_id for t in record.teaching if t.subgroup_id]
    )
    subjects = await subject_ids(ctx, [t.subject for t in record.teaching])
    wanted = {
        (
            classes[t.class_id],
            subjects[t.subject],
            groups[t.subgroup_id] if t.subgroup_id else None,
        )
        for t in record.teaching
    }
    held = {
        (a.class_id, a.subject_id, a.subgroup_id): a
        for a in await ctx.session.scalars(
            select(m.TeachingAssignment).where(m.TeachingAssignment.staff_id == staff_id)
        )
    }

    def assignment(key: tuple[int, int, int | None]) -> m.TeachingAssignment:
        c, s, g = key
        return m.TeachingAssignment(staff_id=staff_id, class_id=c, subject_id=s, subgroup_id=g)

    return await _restate(ctx, "teaching", held, wanted, assignment)
