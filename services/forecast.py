"""The weighted average, the forecast of a period's final grade, and what it takes to change it.

Seed 004 §9.2 recommends telling families the forecast of the period's result. The average is
weighted by the kind of work; special marks ("осв", "н/а", "безотм", "зач", "незач") carry no
number and do not enter it. The forecast rounds the average by the school's rule
(`Profile.round_from`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.profiles import Profile

NUMERIC = frozenset({"1", "2", "3", "4", "5"})
PASS_FAIL = frozenset({"зач", "незач"})
# Weights are kept in hundredths (the column is NUMERIC(4, 2)), so all sums are integers:
# exact, and several times faster than fractions on a screen of fifteen subjects.
SCALE = 100
# An everyday mark (oral answer, homework) weighs 1: the hints count marks of that weight.
HINT_WEIGHT = SCALE
# Beyond this many marks a hint helps nobody within one period.
HINT_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Hint:
    """`count` more marks of `value` (weight 1) would make the forecast `becomes`."""

    count: int
    value: str
    becomes: str


@dataclass(frozen=True, slots=True)
class Forecast:
    average: Decimal | None  # to two places, half up; None without numeric marks
    grade: str | None  # "2".."5", "осв", "зач", "незач", or None when nothing to go on
    numeric_count: int
    too_few: bool  # fewer numeric marks than the profile wants for a grade
    raise_hint: Hint | None
    drop_hint: Hint | None
    # The grade could change, but more than HINT_LIMIT everyday marks would be needed: said
    # as such, so that a missing hint is not read as "nothing can change it".
    raise_beyond: bool = False
    drop_beyond: bool = False


def _grade(total: int, weight: int, round_from: Fraction) -> int:
    """floor(total / weight), plus one when the remainder reaches `round_from`."""
    whole, remainder = divmod(total, weight)
    grade = whole + (
        1 if remainder * round_from.denominator >= round_from.numerator * weight else 0
    )
    # A final grade below 2 is not given on the five-point scale.
    return max(2, min(5, grade))


def _hint(total: int, weight: int, current: int, value: int, round_from: Fraction) -> Hint | None:
    for count in range(1, HINT_LIMIT + 1):
        added = HINT_WEIGHT * count
        grade = _grade(total + value * added, weight + added, round_from)
        if grade != current:
            return Hint(count=count, value=str(value), becomes=str(grade))
    return None


def _hundredths(weight: Decimal) -> int:
    return int(weight * SCALE)


def weighted_average(marks: Iterable[tuple[str, Decimal]]) -> Fraction | None:
    total = 0
    weight = 0
    for value, w in marks:
        if value in NUMERIC:
            total += int(value) * _hundredths(w)
            weight += _hundredths(w)
    return Fraction(total, weight) if weight else None


def to_decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def forecast(marks: Sequence[tuple[str, Decimal]], profile: Profile) -> Forecast:
    """The forecast from a period's current marks, in date order: (value, weight) pairs."""
    round_from = Fraction(profile.round_from)
    numeric = [(int(v), _hundredths(w)) for v, w in marks if v in NUMERIC]
    if not numeric:
        grade: str | None = None
        pass_fail = [v for v, _ in marks if v in PASS_FAIL]
        if pass_fail:
            # A retake replaces a fail: the latest pass/fail mark decides.
            grade = pass_fail[-1]
        elif profile.allows("осв", grade=None, period_kind="quarter") and any(
            v == "осв" for v, _ in marks
        ):
            grade = "осв"
        return Forecast(None, grade, 0, False, None, None)
    total = sum(v * w for v, w in numeric)
    weight = sum(w for _, w in numeric)
    current = _grade(total, weight, round_from)
    raising = _hint(total, weight, current, 5, round_from) if current < 5 else None
    dropping = _hint(total, weight, current, 2, round_from) if current > 2 else None
    return Forecast(
        average=to_decimal(Fraction(total, weight)),
        grade=str(current),
        numeric_count=len(numeric),
        too_few=len(numeric) < profile.min_marks,
        raise_hint=raising,
        drop_hint=dropping,
        raise_beyond=current < 5 and raising is None,
        drop_beyond=current > 2 and dropping is None,
    )
