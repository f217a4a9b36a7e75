"""A school's regulation profile and its single-value overrides (SPEC §4), for the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.profiles import PROFILES, Profile, check_override, profile_for


class SchoolError(Exception):
    """Something the administrator asked for that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class SchoolInfo:
    id: int
    name: str
    timezone: str
    profile_key: str
    overrides: dict[str, Any]

    @property
    def profile(self) -> Profile:
        return profile_for(self.profile_key, self.overrides)


async def list_schools(engine: AsyncEngine) -> list[SchoolInfo]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id, name, timezone, profile, overrides FROM schools ORDER BY id")
        )
        return [SchoolInfo(*row) for row in rows]


async def get_school(engine: AsyncEngine, school_id: int) -> SchoolInfo:
    for school in await list_schools(engine):
        if school.id == school_id:
            return school
    raise SchoolError(f"there is no school {school_id}")


async def set_profile(engine: AsyncEngine, school_id: int, key: str) -> SchoolInfo:
    """Choose the school's profile; its overrides stay."""
    if key not in PROFILES:
        raise SchoolError(f"unknown profile {key!r}; known: {', '.join(PROFILES)}")
    await get_school(engine, school_id)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE schools SET profile = :p WHERE id = :s"), {"p": key, "s": school_id}
        )
    return await get_school(engine, school_id)


async def set_values(
    engine: AsyncEngine, school_id: int, values: dict[str, str], *, unset: list[str]
) -> SchoolInfo:
    """Override single values of the profile (checked first: nothing changes on an error)."""
    await get_school(engine, school_id)
    checked: dict[str, Any] = {}
    for name, value in values.items():
        try:
            checked[name] = check_override(name, value)
        except ValueError as exc:
            raise SchoolError(str(exc)) from None
    known = {f.name for f in fields(Profile)}
    for name in unset:
        if name not in known:
            raise SchoolError(f"unknown setting {name!r}")
    school = await get_school(engine, school_id)
    merged = {k: v for k, v in school.overrides.items() if k not in unset} | checked
    profile = profile_for(school.profile_key, merged)
    if profile.morning_summary >= profile.evening_reminder:
        raise SchoolError(
            f"morning_summary ({profile.morning_summary:%H:%M}) must come before "
            f"evening_reminder ({profile.evening_reminder:%H:%M})"
        )
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE schools SET overrides = (overrides - CAST(:unset AS text[]))"
                " || CAST(:values AS jsonb) WHERE id = :s"
            ),
            {"unset": unset, "values": json.dumps(checked), "s": school_id},
        )
    return await get_school(engine, school_id)
