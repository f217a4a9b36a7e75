"""The school's structure from the roster: classes, their subgroups and class teachers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from services.db import models as m
from services.ingest import external
from services.ingest.roster import (
    ClassRecord,
    Context,
    Kind,
    RosterError,
    SubgroupRecord,
    assign,
    chunks,
    current_year,
    subject_ids,
)
from services.ingest.tally import Outcome


async def _unnamed(ctx: Context, kind: Kind, model: type[m.SchoolClass | m.Subgroup]) -> set[int]:
    """Rows of a kind that the program has not named yet: a first import adopts them."""
    named = set((await external.all_of(ctx.session, ctx.school_id, kind)).values())
    query = select(model.id)
    if model is m.SchoolClass:
        query = query.where(m.SchoolClass.school_id == ctx.school_id)
    return set((await ctx.session.scalars(query)).all()) - named


async def apply_classes(ctx: Context, records: Sequence[ClassRecord]) -> None:
    """New classes go to the academic year holding today; known ones are renamed in place.

    A class the school made before its first import (same grade and letter this year) is
    adopted rather than doubled.
    """
    year_id = await current_year(ctx.session, ctx.school_id, ctx.today)
    adoptable = await _unnamed(ctx, Kind.CLASS, m.SchoolClass)
    this_year = {
        (c.grade, c.letter): c
        for c in await ctx.session.scalars(
            select(m.SchoolClass).where(m.SchoolClass.academic_year_id == year_id)
        )
        if c.id in adoptable
    }
    done = 0
    for chunk in chunks(records):
        known = await external.resolve(
            ctx.session, ctx.school_id, Kind.CLASS, [r.external_id for r in chunk]
        )
        rows = {
            c.id: c
            for c in await ctx.session.scalars(
                select(m.SchoolClass).where(m.SchoolClass.id.in_(known.values()))
            )
        }
        new: dict[str, m.SchoolClass] = {}
        for record in chunk:
            values = {"grade": record.grade, "letter": record.letter, "shift": record.shift}
            row = rows.get(known.get(record.external_id, 0))
            adopted = this_year.pop((record.grade, record.letter), None) if row is None else None
            if row is None and adopted is None:
                new[record.external_id] = m.SchoolClass(
                    school_id=ctx.school_id, academic_year_id=year_id, **values
                )
                ctx.tally.add("class", record.external_id, Outcome.NEW)
                continue
            target = row or adopted
            assert target is not None
            if adopted is not None:
                new[record.external_id] = adopted
            changed = assign(target, values)
            outcome = Outcome.CHANGED if changed else Outcome.UNCHANGED
            ctx.tally.add("class", record.external_id, outcome, changed)
        ctx.session.add_all(new.values())
        await ctx.session.flush()
        await ctx.remember(Kind.CLASS, {e: c.id for e, c in new.items()})
        done += len(chunk)
        ctx.step("classes", done, len(records))


async def apply_subgroups(ctx: Context, records: Sequence[SubgroupRecord]) -> None:
    """Subgroups by external id; a record's members, when given, are the whole group."""
    classes = await ctx.ids(Kind.CLASS, [r.class_id for r in records])
    subjects = await subject_ids(ctx, [r.subject for r in records if r.subject])
    adoptable = await _unnamed(ctx, Kind.SUBGROUP, m.Subgroup)
    known = await external.resolve(
        ctx.session, ctx.school_id, Kind.SUBGROUP, [r.external_id for r in records]
    )
    ctx.known.setdefault(Kind.SUBGROUP, {}).update(known)
    rows = {
        g.id: g
        for g in await ctx.session.scalars(
            select(m.Subgroup).where(m.Subgroup.id.in_(known.values()))
        )
    }
    spare = {
        (g.class_id, g.subject_id, g.name): g
        for g in await ctx.session.scalars(
            select(m.Subgroup).where(
                m.Subgroup.id.in_(adoptable), m.Subgroup.class_id.in_(classes.values())
            )
        )
    }
    named: dict[str, m.Subgroup] = {}
    created: set[str] = set()
    changes: dict[str, tuple[str, ...]] = {}
    for record in records:
        key = (
            classes[record.class_id],
            subjects[record.subject] if record.subject else None,
            record.name,
        )
        values = dict(zip(("class_id", "subject_id", "name"), key, strict=True))
        row = rows.get(known.get(record.external_id, 0))
        if row is None:
            row = spare.pop(key, None)
            if row is None:
                row = m.Subgroup(**values)
                created.add(record.external_id)
            named[record.external_id] = row
        changes[record.external_id] = assign(row, values)
    ctx.session.add_all(named.values())
    await ctx.session.flush()
    await ctx.remember(Kind.SUBGROUP, {e: g.id for e, g in named.items()})
    for record in records:
        group_id = ctx.known[Kind.SUBGROUP][record.external_id]
        fields = changes[record.external_id]
        if record.members is not None and await _set_members(ctx, group_id, record.members):
            fields = (*fields, "members")
        if record.external_id in created:
            outcome = Outcome.NEW
        else:
            outcome = Outcome.CHANGED if fields else Outcome.UNCHANGED
        ctx.tally.add("subgroup", record.external_id, outcome, fields)
    ctx.step("subgroups", len(records), len(records))


async def _set_members(ctx: Context, group_id: int, members: Sequence[str]) -> bool:
    """Make the group's members exactly these students; whether anything changed."""
    wanted = set((await ctx.ids(Kind.STUDENT, list(members))).values())
    have = set(
        (
            await ctx.session.scalars(
                select(m.SubgroupMember.student_id).where(m.SubgroupMember.subgroup_id == group_id)
            )
        ).all()
    )
    if wanted == have:
        return False
    if have - wanted:
        await ctx.session.execute(
            delete(m.SubgroupMember).where(
                m.SubgroupMember.subgroup_id == group_id,
                m.SubgroupMember.student_id.in_(have - wanted),
            )
        )
    ctx.session.add_all(
        m.SubgroupMember(subgroup_id=group_id, student_id=s) for s in wanted - have
    )
    await ctx.session.flush()
    return True


async def apply_class_teachers(ctx: Context, records: Sequence[ClassRecord]) -> None:
    """One class teacher per class, as the class record says (none: the role is removed).

    Runs after the staff, so that a class teacher new in the same roster is known. Counted
    as its own kind: new (a class gets one), changed (another teacher), left (none now).
    """
    classes = await ctx.ids(Kind.CLASS, [r.external_id for r in records])
    teachers = await ctx.ids(Kind.STAFF, [r.class_teacher for r in records if r.class_teacher])
    current = {
        a.class_id: a
        for a in await ctx.session.scalars(
            select(m.StaffRoleAssignment).where(
                m.StaffRoleAssignment.role == m.StaffRole.CLASS_TEACHER.value,
                m.StaffRoleAssignment.class_id.in_(classes.values()),
            )
        )
    }
    for record in records:
        class_id = classes[record.external_id]
        held = current.get(class_id)
        teacher = teachers[record.class_teacher] if record.class_teacher else None
        if held is None and teacher is None:
            continue
        if held is not None and held.staff_id == teacher:
            ctx.tally.add("class_teacher", record.external_id, Outcome.UNCHANGED)
            continue
        if held is not None:
            await ctx.session.delete(held)
            await ctx.session.flush()
        if teacher is not None:
            ctx.session.add(
                m.StaffRoleAssignment(
                    staff_id=teacher, role=m.StaffRole.CLASS_TEACHER.value, class_id=class_id
                )
            )
        outcome = Outcome.LEFT if teacher is None else Outcome.CHANGED if held else Outcome.NEW
        ctx.tally.add("class_teacher", record.external_id, outcome)
    await ctx.session.flush()


__all__ = ["RosterError", "apply_class_teachers", "apply_classes", "apply_subgroups"]
