"""Reading a roster file: its sheets found, each row parsed into a record, every problem told.

Checks run in the order rows refer to each other (staff, classes, pupils, subgroups, members,
guardians, children, teaching), so a row that refers to a bad row is bad too and nothing half
made reaches the database. An id may refer to a row of the same file or to one imported before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.db import models as m
from services.imports import roster_format as f
from services.imports.layout import Sheet
from services.imports.reading import format_tables, parse_rows, unique
from services.imports.tabular import (
    BadRow,
    Cells,
    Checked,
    Expected,
    Problems,
    Row,
    Table,
    choice,
    date_cell,
    external_id,
    header_key,
    int_in,
    optional,
    phone,
    phones,
    text,
)
from services.ingest import external
from services.ingest.roster import (
    ClassRecord,
    GuardianRecord,
    Roster,
    StaffRecord,
    StudentRecord,
    SubgroupRecord,
    Teaching,
    Ward,
)

Kind = m.ExternalKind
R = TypeVar("R")
Parsed = list[tuple[Any, Row]]


# The roster as read (bad rows left out), what was wrong with the file, the rows read.
CheckedRoster = Checked[Roster]


def letter(value: str) -> str:
    if not re.fullmatch(r"[А-ЯЁ]", value.upper()):
        raise Expected("one Cyrillic letter, such as Б")
    return value.upper()


_NAME = text(100)
_OPTIONAL_NAME = optional(text(100))
_SEX = optional(choice(f.SEX))
_CODE = optional(external_id)


def _guess(have: set[str]) -> Sheet | None:
    """A CSV is the sheet sharing the most headers with it, two at least."""
    best = max(f.SHEETS, key=lambda s: len(have & {header_key(h) for h in s.headers}))
    return best if len(have & {header_key(h) for h in best.headers}) >= 2 else None


def sort_tables(tables: Iterable[Table], problems: Problems) -> dict[str, Table]:
    """The file's tables by the kind of sheet, headers checked; a sheet missing a column is
    not read further (every row of it would be wrong)."""
    required = {s.kind: s.headers for s in f.SHEETS}
    found = {
        sheet.kind: table
        for sheet, table in format_tables(
            tables, f.SHEETS, problems, required=required, guess=_guess
        )
    }
    for kind, main in f.NEEDS.items():
        if kind in found and main.kind not in found:
            table = found.pop(kind)
            problems.add(
                BadRow(
                    table.file,
                    table.sheet,
                    table.header_row,
                    "",
                    "",
                    f"a sheet «{main.name}» in the same file",
                )
            )
    return found


class _Refs:
    """Which ids a row may refer to: those imported before and the file's good rows."""

    def __init__(self, before: Mapping[Kind, set[str]], problems: Problems) -> None:
        self.ids = {kind: set(ids) for kind, ids in before.items()}
        self.problems = problems

    def add(self, kind: Kind, parsed: Iterable[tuple[Any, Row]]) -> None:
        self.ids.setdefault(kind, set()).update(r.external_id for r, _ in parsed)

    def check(
        self,
        parsed: list[tuple[R, Row]],
        refs: Sequence[tuple[str, Kind, Callable[[R], str | None]]],
    ) -> list[tuple[R, Row]]:
        """The rows whose references are all known; a problem for each unknown one."""
        good = []
        for record, row in parsed:
            ok = True
            for column, kind, of in refs:
                value = of(record)
                if value is not None and value not in self.ids.get(kind, set()):
                    sheet = _NAMED[kind]
                    self.problems.add(
                        row.bad(
                            column,
                            f"the code of a row of «{sheet}» (in this file or imported before)",
                        )
                    )
                    ok = False
            if ok:
                good.append((record, row))
        return good


_NAMED = {
    Kind.CLASS: f.CLASSES.name,
    Kind.SUBGROUP: f.SUBGROUPS.name,
    Kind.STUDENT: f.STUDENTS.name,
    Kind.GUARDIAN: f.GUARDIANS.name,
    Kind.STAFF: f.STAFF.name,
}


# --- rows into records ---------------------------------------------------------------------


def _class(c: Cells) -> ClassRecord:
    return ClassRecord(
        c.get(f.CODE, external_id),
        c.get(f.GRADE, int_in(1, 11)),
        c.get(f.LETTER, letter),
        c.get(f.SHIFT, int_in(1, 3)),
        c.get(f.CLASS_TEACHER, _CODE),
    )


def _subgroup(c: Cells) -> SubgroupRecord:
    return SubgroupRecord(
        c.get(f.CODE, external_id),
        c.get(f.CLASS_CODE, external_id),
        c.get(f.NAME, text(64)),
        c.get(f.SUBJECT, optional(text(200))),
    )


def _member(c: Cells) -> tuple[str, str]:
    return c.get(f.SUBGROUP_CODE, external_id), c.get(f.STUDENT_CODE, external_id)


def _person(c: Cells) -> tuple[str, str, str, str | None, str | None]:
    """The cells every person's sheet has, in PersonRecord's order."""
    return (
        c.get(f.CODE, external_id),
        c.get(f.LAST, _NAME),
        c.get(f.FIRST, _NAME),
        c.get(f.MIDDLE, _OPTIONAL_NAME),
        c.get(f.SEX_COLUMN, _SEX),
    )


def _student(c: Cells) -> StudentRecord:
    return StudentRecord(
        *_person(c),
        c.get(f.BIRTH, optional(date_cell)),
        c.get(f.CLASS_CODE, external_id),
        c.get(f.PHONE, optional(phone)),
        c.get(f.CONSENT, optional(choice(f.YES_NO))),
        c.get(f.CONSENT_ON, optional(date_cell)),
    )


def _guardian(c: Cells) -> GuardianRecord:
    return GuardianRecord(*_person(c), c.get(f.PHONES, phones))


def _child(c: Cells) -> tuple[str, Ward]:
    ward = Ward(c.get(f.STUDENT_CODE, external_id), c.get(f.RELATION, choice(f.RELATIONS)))
    return c.get(f.GUARDIAN_CODE, external_id), ward


def _staff(c: Cells) -> StaffRecord:
    held = {
        role: c.get(header, optional(choice(f.YES_NO))) for header, role in f.ROLE_COLUMNS.items()
    }
    return StaffRecord(
        *_person(c),
        c.get(f.PHONE, optional(phone)),
        tuple(role for role, yes in held.items() if yes),
    )


def _teaching(c: Cells) -> tuple[str, Teaching]:
    taught = Teaching(
        c.get(f.SUBJECT, text(200)),
        c.get(f.CLASS_CODE, external_id),
        c.get(f.SUBGROUP_CODE, _CODE),
    )
    return c.get(f.STAFF_CODE, external_id), taught


def _owned(
    parsed: list[tuple[R, Row]],
    owners: Parsed,
    *,
    column: str,
    sheet: Sheet,
    problems: Problems,
) -> list[tuple[R, Row]]:
    """Link rows whose owner (a guardian, a subgroup, a staff member) is a good row of its
    sheet in this file: the links restate the owner's whole list."""
    ids = {r.external_id for r, _ in owners}
    good = []
    for record, row in parsed:
        if record[0] in ids:  # type: ignore[index]
            good.append((record, row))
        else:
            problems.add(row.bad(column, f"the code of a row of «{sheet.name}» in this file"))
    return good


def _grouped(pairs: Iterable[tuple[tuple[str, R], Row]]) -> dict[str, tuple[R, ...]]:
    grouped: dict[str, list[R]] = defaultdict(list)
    for (owner, item), _ in pairs:
        grouped[owner].append(item)
    return {k: tuple(v) for k, v in grouped.items()}


def _id(record: Any) -> str:
    return str(record.external_id)


def check_roster(tables: Iterable[Table], before: Mapping[Kind, set[str]]) -> CheckedRoster:
    """Every sheet's rows as records; `before` are the ids imported earlier, per kind."""
    problems = Problems()
    found = sort_tables(tables, problems)
    refs = _Refs(before, problems)

    def parse(
        kind: str, build: Callable[[Cells], R], key: Callable[[R], str]
    ) -> list[tuple[R, Row]]:
        column = {"members": f.STUDENT_CODE, "children": f.STUDENT_CODE, "teaching": f.SUBJECT}
        parsed = parse_rows(found.get(kind), build, problems)
        return unique(parsed, key, column.get(kind, f.CODE), problems)

    def owned(
        parsed: list[tuple[R, Row]], column: str, sheet: Sheet, owners: Parsed
    ) -> list[tuple[R, Row]]:
        return _owned(parsed, owners, column=column, sheet=sheet, problems=problems)

    staff = parse("staff", _staff, _id)
    refs.add(Kind.STAFF, staff)
    classes = parse("classes", _class, _id)
    classes = unique(classes, lambda r: f"{r.grade}{r.letter}", f.LETTER, problems)
    classes = refs.check(classes, [(f.CLASS_TEACHER, Kind.STAFF, lambda r: r.class_teacher)])
    refs.add(Kind.CLASS, classes)
    students = parse("students", _student, _id)
    students = refs.check(students, [(f.CLASS_CODE, Kind.CLASS, lambda r: r.class_id)])
    refs.add(Kind.STUDENT, students)
    groups = parse("subgroups", _subgroup, _id)
    groups = refs.check(groups, [(f.CLASS_CODE, Kind.CLASS, lambda r: r.class_id)])
    refs.add(Kind.SUBGROUP, groups)
    members = owned(parse("members", _member, "/".join), f.SUBGROUP_CODE, f.SUBGROUPS, groups)
    members = refs.check(members, [(f.STUDENT_CODE, Kind.STUDENT, lambda p: p[1])])
    guardians = parse("guardians", _guardian, _id)
    children = parse("children", _child, lambda p: f"{p[0]}/{p[1].student_id}")
    children = owned(children, f.GUARDIAN_CODE, f.GUARDIANS, guardians)
    children = refs.check(children, [(f.STUDENT_CODE, Kind.STUDENT, lambda p: p[1].student_id)])
    teaching = parse("teaching", _teaching, lambda p: "/".join(map(str, (p[0], *p[1]))))
    teaching = owned(teaching, f.STAFF_CODE, f.STAFF, staff)
    teaching = refs.check(
        teaching,
        [
            (f.CLASS_CODE, Kind.CLASS, lambda p: p[1].class_id),
            (f.SUBGROUP_CODE, Kind.SUBGROUP, lambda p: p[1].subgroup_id),
        ],
    )
    good: dict[str, Parsed] = {
        "classes": classes,
        "subgroups": groups,
        "members": members,
        "students": students,
        "guardians": guardians,
        "children": children,
        "staff": staff,
        "teaching": teaching,
    }
    # A bad row of links (skipped with --skip-bad-rows) must not end a guardianship or a
    # membership it meant to keep: that sheet's links are then left as they are.
    spoilt = {sheet for sheet, _ in problems.bad_rows}
    links_kept = {k for k in f.NEEDS if k in found and found[k].sheet in spoilt}
    roster = _roster({k: v for k, v in good.items() if k in found and k not in links_kept})
    return CheckedRoster(roster, problems, sum(len(t.rows) for t in found.values()))


def _roster(sheets: Mapping[str, Parsed]) -> Roster:
    """The records; a kind whose sheet the file lacks is None (left as it is), and so are
    the lists of links (children, members, teaching) whose sheet it lacks."""
    links = {
        kind: _grouped(sheets[kind])
        for kind in ("members", "children", "teaching")
        if kind in sheets
    }

    def records(kind: str, link: str = "", field: str = "") -> tuple[Any, ...] | None:
        if kind not in sheets:
            return None
        if link not in links:
            return tuple(r for r, _ in sheets[kind])
        lists = links[link]
        return tuple(replace(r, **{field: lists.get(r.external_id, ())}) for r, _ in sheets[kind])

    return Roster(
        classes=records("classes"),
        subgroups=records("subgroups", "members", "members"),
        students=records("students"),
        guardians=records("guardians", "children", "children"),
        staff=records("staff", "teaching", "teaching"),
    )


async def known_before(session: AsyncSession, school_id: int) -> dict[Kind, set[str]]:
    """The ids of the school's roster imported before, which a file's rows may refer to."""
    kinds = (Kind.CLASS, Kind.SUBGROUP, Kind.STUDENT, Kind.GUARDIAN, Kind.STAFF)
    return {k: set(await external.all_of(session, school_id, k)) for k in kinds}


async def read_roster(
    session: AsyncSession, school_id: int, tables: Sequence[Table]
) -> CheckedRoster:
    """The roster file's records and problems; reads the database, writes nothing."""
    return check_roster(tables, await known_before(session, school_id))
