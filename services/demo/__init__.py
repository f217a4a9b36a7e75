"""The demo: a realistic school (or a region of them) loaded with COPY, and the sandbox in which
the offline chat makes journal events happen; the chat itself is bot/demo/."""

from services.demo.load import (
    SCHOOL_SIZE,
    DemoError,
    DemoSummary,
    Progress,
    has_schools,
    seed_demo,
)
from services.demo.school import academic_year

__all__ = [
    "SCHOOL_SIZE",
    "DemoError",
    "DemoSummary",
    "Progress",
    "academic_year",
    "has_schools",
    "seed_demo",
]
