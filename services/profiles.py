"""Regulation profiles: the rules a school's own regulation sets, one profile per seed.

A school picks a profile (`schools.profile`) and may override single values
(`schools.overrides`). Each value cites the clause it comes from; values no seed states are
the common practice of Russian schools and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True, slots=True)
class Profile:
    key: str
    title: str
    # The fraction of the weighted average from which the forecast rounds up: 0.5 makes
    # 3.50 a 4; some schools demand 0.6. No seed states it; 0.5 is the common rule.
    round_from: Decimal = Decimal("0.5")
    # Fewer numeric marks than this in a period: the forecast warns that the grade may be
    # "н/а" (not attested). No seed states a number; three is the common practice.
    min_marks: int = 3
    # Grade 1 gets no marks at all (seed 001 §4.3.6); every profile keeps it, as ФГОС does.
    marks_from_grade: int = 2
    # Special marks allowed as final grades; seed 004 §5.3 forbids "н/а" and "осв".
    special_finals: bool = True
    # The periods the school's year is divided into.
    period_kind: str = "quarter"


PROFILES: dict[str, Profile] = {
    "default": Profile("default", "Default (quarters, half-up rounding)"),
    # seed 000: five-point marks only (§5.8).
    "seed000": Profile("seed000", "Seed 000", special_finals=False),
    # seed 001: trimesters (§5, §5.2); grade 1 without marks (§4.3.6).
    "seed001": Profile("seed001", "Seed 001", period_kind="trimester"),
    # seed 002: "осв", "н/а", "безотм" allowed (§2.8).
    "seed002": Profile("seed002", "Seed 002"),
    # seed 004: no "н/а" or "осв" among final grades (§5.3).
    "seed004": Profile("seed004", "Seed 004", special_finals=False),
}


def profile_for(key: str | None, overrides: dict[str, Any] | None = None) -> Profile:
    """The school's profile with its overrides applied; unknown keys fall back to default."""
    profile = PROFILES.get(key or "default", PROFILES["default"])
    if not overrides:
        return profile
    known = {f.name: f.type for f in fields(Profile)}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known or name in {"key", "title"}:
            continue
        current = getattr(profile, name)
        try:
            if isinstance(current, bool):
                changes[name] = bool(value)
            elif isinstance(current, Decimal):
                changes[name] = Decimal(str(value))
            elif isinstance(current, int):
                changes[name] = int(value)
            else:
                changes[name] = str(value)
        except (InvalidOperation, TypeError, ValueError):
            continue
    return replace(profile, **changes)
