"""Where each rule of a regulation profile comes from: the clause of its seed, the school's
override or the common practice (`journalbot school show`, the README's profile table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.profiles import _text, profile_for, settable

_PRACTICE = "common practice; no seed states it"
_EVERY = {
    "marks_from_grade": "seed 001 §4.3.6, kept by every profile as ФГОС does",
    "homework_from_grade": "СанПиН 1.2.3685-21, table 6.6",
    "weekly_report_day": "seed 000 §6.3, seed 004 §3.3.1, §7.1 (weekly; the day is practice)",
    "weekly_report_time": "seed 004 §7.1 (weekly; the hour is practice)",
    "correction_days": "seed 003 §8.6",
}
_SEED003_ACT = "seed 003 §8.5: the school's local act (set it)"
_SEED003_TIMELY = "seed 003 §8.1: «своевременно», no time stated (set it)"
# Per profile, the clause of each value it states; a value not listed is the common practice.
CLAUSES: dict[str, dict[str, str]] = {
    "default": {
        "topic_due": "seed 000 §5.2, seed 004 §4.4.1 (most seeds)",
        "attendance_due": "seed 000 §5.2, seed 004 §4.4.1 (most seeds)",
        "written_due": "seed 000 §5.3, seed 002 §2.12 (most seeds)",
        "control_due": "seed 000 §5.3, seed 002 §2.12 (most seeds)",
        "monitoring_due": "seed 000 §5.3, seed 002 §2.12 (as control work)",
        "essay_senior_due": "seed 000 §5.3",
    },
    "seed000": {
        "special_marks": "seed 000 §5.8",
        "final_specials": "seed 000 §5.8",
        "topic_due": "seed 000 §5.2",
        "attendance_due": "seed 000 §5.2",
        "homework_due": "seed 000 §5.5 (the end of the class's shift)",
        "written_due": "seed 000 §5.3",
        "control_due": "seed 000 §5.3",
        "monitoring_due": "seed 000 §5.3",
        "essay_senior_due": "seed 000 §5.3 (Russian and literature, grades 10–11)",
        "finals_days": "seed 000: not stated (set it)",
    },
    "seed001": {
        "period_kind": "seed 001 §5.1–5.2",
        "topic_due": "seed 001 §4.3.1 (weekly)",
        "attendance_due": "seed 001 §4.3.1 (weekly)",
        "homework_due": "seed 001 §4.3.1, §4.3.3 (weekly)",
        "written_due": "seed 001 §3.4",
        "control_due": "seed 001 §3.4",
        "monitoring_due": "seed 001 §3.4",
        "essay_senior_due": "seed 001 §3.4",
        "finals_days": "seed 001 §5.3",
        "daily_attendance_summary": "seed 001 §4.2.3 (daily)",
        "daily_attendance_time": "seed 001 §4.2.3 (daily; the hour is practice)",
    },
    "seed002": {
        "special_marks": "seed 002 §2.8 (names «осв», «н/а», «безотм»)",
        "final_specials": "seed 002 §2.8 (names «осв», «н/а», «безотм»)",
        "topic_due": "seed 002 §2.5, §2.6 (the lesson's day)",
        "attendance_due": "seed 002 §2.5, §2.9",
        "homework_due": "seed 002 §2.7 (where homework is set)",
        "written_due": "seed 002 §2.12",
        "control_due": "seed 002 §2.12",
        "monitoring_due": "seed 002 §2.11 (internal monitoring)",
        "essay_senior_due": "seed 002 §2.12",
        "finals_days": "seed 002 §2.13 (the period's last week)",
    },
    "seed003": {
        "topic_due": _SEED003_TIMELY,
        "attendance_due": _SEED003_TIMELY,
        "homework_due": _SEED003_TIMELY,
        "written_due": _SEED003_ACT,
        "control_due": _SEED003_ACT,
        "monitoring_due": _SEED003_ACT,
        "essay_senior_due": _SEED003_ACT,
        "finals_days": _SEED003_ACT,
        "few_marks_alert_days": "seed 003 §8.4 (the 14 days are practice)",
    },
    "seed004": {
        "special_marks": "seed 004 §5.3",
        "final_specials": "seed 004 §5.3",
        "period_kind": "seed 004 §5.1–5.2",
        "half_years_from_grade": "seed 004 §5.1–5.2 (the grades are practice)",
        "topic_due": "seed 004 §4.4.1",
        "attendance_due": "seed 004 §4.4.1",
        "homework_due": "seed 004 §4.4.5 (daily)",
        "written_due": "seed 004: not stated (set it)",
        "control_due": "seed 004: not stated (set it)",
        "monitoring_due": "seed 004: not stated (set it)",
        "essay_senior_due": "seed 004: not stated (set it)",
        "finals_days": "seed 004 §5.4",
        "few_marks_alert_days": "seed 004 §5.2 (the 14 days are practice)",
    },
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One value of a school's profile, as `journalbot school set` writes it, and its source."""

    name: str
    value: str  # "none" where no deadline is stated: nothing is reminded
    source: str  # the clause, the school's override, or the common practice


def rules(key: str | None, overrides: dict[str, Any] | None = None) -> list[Rule]:
    """Every rule of the school's profile with the clause it comes from (SPEC §4)."""
    profile = profile_for(key, overrides)
    base = profile_for(key)
    clauses = _EVERY | CLAUSES.get(profile.key, {})
    applied = {name for name in overrides or {} if name in settable()}
    return [
        Rule(
            name,
            _shown(_text(getattr(profile, name))),
            _overridden(name, base, clauses) if name in applied else clauses.get(name, _PRACTICE),
        )
        for name in settable()
    ]


def _shown(value: Any) -> str:
    """A value as `journalbot school set` takes it back: "none" for an unstated rule or an
    empty set of marks."""
    return "none" if value is None or value == "" else str(value)


def _overridden(name: str, base: Any, clauses: dict[str, str]) -> str:
    """The source of an overridden value: the school, and what its profile says instead."""
    said = _shown(_text(getattr(base, name)))
    return f"the school's override (profile {base.key}: {said}, {clauses.get(name, _PRACTICE)})"
