"""The one rule of allowed marks per profile (`Profile.allows`) and its overrides."""

from __future__ import annotations

import pytest

from services.profiles import PROFILES, check_override, profile_for


@pytest.mark.parametrize(
    ("profile", "value", "grade", "kind", "allowed"),
    [
        # seed 000 §5.8: five-point marks only, lesson marks and final grades alike.
        ("seed000", "5", 7, None, True),
        ("seed000", "зач", 7, None, False),
        ("seed000", "н/а", 7, "quarter", False),
        # seed 001 §4.3.6: no marks at all in grade 1, five-point or special.
        ("seed001", "5", 1, None, False),
        ("seed001", "зач", 1, "year", False),
        ("seed001", "зач", 2, None, True),
        # seed 004 §5.3: no "осв" anywhere; no "н/а" as a term's, year's or final grade.
        ("seed004", "осв", 7, None, False),
        ("seed004", "осв", 7, "quarter", False),
        ("seed004", "н/а", 7, None, True),
        ("seed004", "н/а", 7, "half_year", False),
        ("seed004", "н/а", 11, "final", False),
        ("seed004", "н/а", 11, "exam", True),
        ("seed004", "зач", 7, "year", True),
        # seed 002 §2.8 and the default keep every special mark.
        ("seed002", "осв", 7, "quarter", True),
        ("default", "безотм", 7, None, True),
        # A removal is always allowed; a class of unknown grade is judged by the value alone.
        ("seed001", None, 1, None, True),
        ("seed000", "4", None, None, True),
    ],
)
def test_each_seed_allows_what_its_clause_says(
    profile: str, value: str | None, grade: int | None, kind: str | None, allowed: bool
) -> None:
    assert PROFILES[profile].allows(value, grade=grade, period_kind=kind) is allowed


def test_allowed_special_marks_are_overridden_as_a_list() -> None:
    assert check_override("special_marks", "зач, незач") == "зач,незач"
    assert check_override("final_specials", "none") == ""
    with pytest.raises(ValueError, match="special_marks"):
        check_override("special_marks", "отл")
    profile = profile_for("seed000", {"special_marks": "зач,незач", "final_specials": "зач"})
    assert profile.allows("незач", grade=5)
    assert not profile.allows("незач", grade=5, period_kind="year")
    assert profile.allows("зач", grade=5, period_kind="year")
    # A bad stored override is ignored: the profile's own rule stands.
    assert not profile_for("seed000", {"special_marks": "отл"}).allows("зач", grade=5)
