"""What an import or an API call did, per kind of row: new, changed, unchanged, left.

The counts go to the summary table, the audit log and the API's answer; the list of changes
(external ids and the fields that changed, never names) is what `--dry-run` shows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Outcome(enum.StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    LEFT = "left"  # a person marked as left, a guardianship ended


@dataclass(slots=True)
class Counts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    left: int = 0

    def as_dict(self) -> dict[str, int]:
        return {o.value: getattr(self, o.value) for o in Outcome}


@dataclass(frozen=True, slots=True)
class Change:
    """One row that is new, changed or left: its kind, the program's id, what changed."""

    kind: str
    external_id: str
    outcome: Outcome
    fields: tuple[str, ...] = ()


@dataclass(slots=True)
class Tally:
    """Counts per kind, in the order kinds were first counted."""

    counts: dict[str, Counts] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    def add(
        self, kind: str, external_id: str, outcome: Outcome, fields: tuple[str, ...] = ()
    ) -> None:
        counts = self.of(kind)
        setattr(counts, outcome.value, getattr(counts, outcome.value) + 1)
        if outcome is not Outcome.UNCHANGED:
            self.changes.append(Change(kind, external_id, outcome, fields))

    def of(self, kind: str) -> Counts:
        return self.counts.setdefault(kind, Counts())

    def as_dict(self) -> dict[str, dict[str, int]]:
        """For the audit log and the API: plain numbers only."""
        return {kind: counts.as_dict() for kind, counts in self.counts.items()}

    @property
    def touched(self) -> int:
        """How many rows were written (new, changed or left)."""
        return len(self.changes)
