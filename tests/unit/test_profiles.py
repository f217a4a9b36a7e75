"""School profiles: each seed's deadlines, and overrides checked and applied."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from services.profiles import PROFILES, Due, check_override, profile_for
from tests.fixtures.schools import MONDAY, MSK, at


def _due(rule: Due | None) -> Due:
    assert rule is not None
    return rule


def test_each_profile_states_its_seeds_deadlines() -> None:
    end = time(10, 10)
    # seed 000 §5.2: topic and attendance by 24:00 of the lesson's day.
    assert _due(PROFILES["seed000"].topic_due).at(MONDAY, end, MSK) == at(MONDAY + timedelta(1), 0)
    # seed 000 §5.3: written work within a week, essays of grades 10–11 within two.
    assert PROFILES["seed000"].written_due == Due(days=7)
    assert PROFILES["seed000"].essay_senior_due == Due(days=14)
    # seed 001 §4.3 item 1: weekly; §3 item 4: marks within 14 days; §5 item 3: finals +2.
    assert _due(PROFILES["seed001"].topic_due).at(MONDAY, end, MSK) == at(MONDAY + timedelta(7), 0)
    assert PROFILES["seed001"].control_due == Due(days=14)
    assert PROFILES["seed001"].finals_days == 2
    # seed 002 §2.7: homework within 1.5 hours after the classes; §2.11: control work of
    # internal monitoring in 3 days, §2.12: other control work within a week.
    homework = _due(PROFILES["seed002"].homework_due)
    assert homework.at(MONDAY, time(14, 30), MSK) == at(MONDAY, 16)
    assert PROFILES["seed002"].monitoring_due == Due(days=3)
    assert PROFILES["seed002"].control_due == Due(days=7)
    # seed 004 §5.4: final grades two days before the period ends.
    assert PROFILES["seed004"].finals_days == -2


def test_overrides_are_checked_and_applied() -> None:
    assert check_override("written_due", "day+5") == "day+5"
    assert check_override("evening_reminder", "19:30") == "19:30"
    assert check_override("homework_due", "2h") == "2h"
    for name, value in (
        ("written_due", "soon"),
        ("weekly_report_day", "9"),
        ("no_such_rule", "1"),
        ("evening_reminder", "25:00"),
    ):
        with pytest.raises(ValueError, match=name):
            check_override(name, value)
    profile = profile_for("seed004", {"written_due": "day+5", "evening_reminder": "19:30"})
    assert profile.written_due == Due(days=5)
    assert profile.evening_reminder == time(19, 30)
    assert profile.finals_days == -2  # the rest of the profile stays
