"""The class teacher's duties in the profiles (seed 001 §4.2.3, seed 003 §8.4, seed 004 §5.2)."""

from __future__ import annotations

from services.profile_sources import rules
from services.profiles import check_override, profile_for


def test_profiles_state_the_duties_their_seeds_state() -> None:
    assert profile_for("seed001").daily_attendance_summary
    assert not profile_for("default").daily_attendance_summary
    assert profile_for("seed003").few_marks_alert_days == 14
    assert profile_for("seed004").few_marks_alert_days == 14
    assert profile_for("seed001").few_marks_alert_days is None
    sources = {rule.name: rule.source for rule in rules("seed001")}
    assert "seed 001 §4.2.3" in sources["daily_attendance_summary"]
    assert "seed 004 §5.2" in {r.name: r.source for r in rules("seed004")}["few_marks_alert_days"]


def test_a_school_sets_or_clears_the_alert() -> None:
    assert check_override("few_marks_alert_days", "10") == 10
    assert check_override("few_marks_alert_days", "none") is None
    assert profile_for("default", {"few_marks_alert_days": 7}).few_marks_alert_days == 7
    assert profile_for("seed004", {"few_marks_alert_days": None}).few_marks_alert_days is None
    assert check_override("daily_attendance_summary", "yes") is True
    assert (
        profile_for("default", {"daily_attendance_time": "15:30"}).daily_attendance_time.hour == 15
    )
