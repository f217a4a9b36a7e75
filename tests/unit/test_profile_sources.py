"""Each rule of a profile cites its clause; unstated rules stay unstated (SPEC §4)."""

from __future__ import annotations

from datetime import time

import pytest

from services.profile_sources import CLAUSES, rules
from services.profiles import PROFILES, Due, check_override, profile_for, senior_essay
from tests.fixtures.schools import MONDAY, MSK, at

DEADLINES = (
    "topic_due",
    "attendance_due",
    "homework_due",
    "written_due",
    "control_due",
    "monitoring_due",
    "essay_senior_due",
    "finals_days",
)


def test_every_seed_profile_cites_a_clause_for_each_deadline() -> None:
    assert set(CLAUSES) == set(PROFILES)
    for key in PROFILES:
        if key == "default":
            continue
        sources = {rule.name: rule.source for rule in rules(key)}
        for name in DEADLINES:
            assert sources[name].startswith(f"seed {key[4:]}"), (key, name, sources[name])


def test_unstated_rules_are_none_until_the_school_sets_them() -> None:
    # seed 000 states no finals deadline; seed 003 leaves every deadline to the local act.
    assert PROFILES["seed000"].finals_days is None
    assert PROFILES["default"].finals_days == 0
    assert all(getattr(PROFILES["seed003"], name) is None for name in DEADLINES)
    assert PROFILES["seed003"].correction_days == 7  # §8.6
    assert check_override("finals_days", "none") is None
    assert check_override("finals_days", "0") == 0
    assert profile_for("seed000", {"finals_days": 0}).finals_days == 0
    assert profile_for("default", {"finals_days": None}).finals_days is None
    assert profile_for("seed003", {"written_due": "day+3"}).written_due == Due(days=3)
    with pytest.raises(ValueError, match="min_marks"):
        check_override("min_marks", "none")  # a rule every profile states
    shown = {rule.name: rule for rule in rules("seed003", {"written_due": "day+3"})}
    assert shown["written_due"].value == "day+3"
    assert "override" in shown["written_due"].source and "§8.5" in shown["written_due"].source
    assert shown["finals_days"].value == "none"


def test_the_shift_deadline_of_seed000() -> None:
    shift = Due.parse("shift")
    assert shift == PROFILES["seed000"].homework_due and str(shift) == "shift"
    assert shift.intraday and Due.parse("1.5h").intraday and not Due.parse("day").intraday
    assert shift.at(MONDAY, time(12, 45), MSK, shift_ends=time(13, 5)) == at(MONDAY, 13, 5)


def test_senior_essays_are_russian_and_literature_in_grades_10_and_11() -> None:
    assert senior_essay("essay", "Русский язык", 10)
    assert senior_essay("essay", "Литература", 11)
    assert not senior_essay("essay", "Русский язык", 9)
    assert not senior_essay("essay", "Математика", 10)
    assert not senior_essay("control", "Литература", 10)
