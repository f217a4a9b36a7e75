"""Which periods a class follows: its grade's kind by the profile, else what the year has."""

from __future__ import annotations

from datetime import date

import pytest

from services.journal import PeriodRef, class_terms
from services.profiles import PROFILES, check_override, profile_for

Q = [
    PeriodRef(1, "quarter", 1, date(2026, 9, 1), date(2026, 10, 24)),
    PeriodRef(2, "quarter", 2, date(2026, 11, 3), date(2026, 12, 28)),
    PeriodRef(3, "quarter", 3, date(2027, 1, 12), date(2027, 3, 20)),
    PeriodRef(4, "quarter", 4, date(2027, 3, 30), date(2027, 5, 26)),
]
H = [
    PeriodRef(5, "half_year", 1, date(2026, 9, 1), date(2026, 12, 28)),
    PeriodRef(6, "half_year", 2, date(2027, 1, 12), date(2027, 5, 26)),
]
T = [
    PeriodRef(7, "trimester", 1, date(2026, 9, 1), date(2026, 11, 30)),
    PeriodRef(8, "trimester", 2, date(2026, 12, 1), date(2027, 2, 28)),
    PeriodRef(9, "trimester", 3, date(2027, 3, 1), date(2027, 5, 26)),
]
YEAR = PeriodRef(10, "year", 1, date(2026, 9, 1), date(2027, 5, 31))


def test_each_profile_names_the_kind_of_its_grades() -> None:
    # seed 004 §5.1–5.2: quarters, and half-years for the senior grades 10–11.
    seed004 = PROFILES["seed004"]
    assert [seed004.period_kind_for(g) for g in (1, 9, 10, 11)] == [
        "quarter",
        "quarter",
        "half_year",
        "half_year",
    ]
    assert seed004.period_kind_for(None) == "quarter"
    # seed 001 §5.1–5.2: trimesters in every grade; the default: quarters.
    assert {PROFILES["seed001"].period_kind_for(g) for g in range(1, 12)} == {"trimester"}
    assert {PROFILES["default"].period_kind_for(g) for g in range(1, 12)} == {"quarter"}
    # A school may move the line, or keep no half-years at all.
    assert profile_for("default", {"half_years_from_grade": 5}).period_kind_for(5) == "half_year"
    assert profile_for("seed004", {"half_years_from_grade": 0}).period_kind_for(11) == "quarter"
    assert check_override("half_years_from_grade", "10") == 10
    with pytest.raises(ValueError, match="outside"):
        check_override("half_years_from_grade", "12")


def test_a_class_follows_its_grades_periods_in_order() -> None:
    seed004 = PROFILES["seed004"]
    year = [YEAR, *reversed(H), *reversed(Q)]
    assert class_terms(seed004, 7, year) == tuple(Q)
    assert class_terms(seed004, 10, year) == tuple(H)
    # Without a class: the profile's own kind.
    assert class_terms(seed004, None, year) == tuple(Q)


def test_a_year_without_the_grades_kind_falls_back_to_the_kinds_it_has() -> None:
    # A seed-001 school whose year is in quarters still has periods (and finals reminders).
    assert class_terms(PROFILES["seed001"], 7, [*Q, YEAR]) == tuple(Q)
    # A seed-004 school that keeps only quarters: its grade 10 follows them too.
    assert class_terms(PROFILES["seed004"], 10, [*Q, YEAR]) == tuple(Q)
    # Of several other kinds, the shortest.
    assert class_terms(PROFILES["seed001"], 5, [*H, *Q]) == tuple(Q)
    assert class_terms(PROFILES["default"], 5, [*T, *H]) == tuple(T)
    assert class_terms(PROFILES["default"], 5, [YEAR]) == ()
