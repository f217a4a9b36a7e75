"""People's names as the journal prints them."""

from __future__ import annotations


def short_name(last: str | None, first: str | None, middle: str | None) -> str | None:
    """Петрова А. И.: a teacher as journals and documents name them; None without a surname."""
    if not last:
        return None
    initials = " ".join(f"{part[0]}." for part in (first, middle) if part)
    return f"{last} {initials}".strip()
