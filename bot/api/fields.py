"""The field types the API's bodies are built of: each as strict as the column it fills.

The document promises what these accept, and the database must take whatever they accept:
no NUL in text (PostgreSQL refuses it), lengths within the columns, times as HH:MM.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

# Any character but the C0 controls (tab, newline and carriage return allowed in long text).
_NO_CONTROLS = r"^[^\u0000-\u001f\u007f]+$"
_TEXT = r"^[^\u0000]*$"
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
HH_MM_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _clock_time(value: object) -> object:
    """HH:MM only: seconds and zones would mean something the timetable does not store."""
    if isinstance(value, str) and _HH_MM.fullmatch(value):
        return time.fromisoformat(value)
    raise ValueError("expected a time of day HH:MM")


ExternalRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=_NO_CONTROLS,
        description="the journal program's own id of the row",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=_NO_CONTROLS)]
ShortText = Annotated[str, Field(min_length=1, max_length=32, pattern=_NO_CONTROLS)]
SubjectName = Annotated[str, Field(min_length=1, max_length=200, pattern=_NO_CONTROLS)]
LongText = Annotated[str, Field(min_length=1, max_length=20_000, pattern=_TEXT)]
Reason = Annotated[str, Field(min_length=1, max_length=1000, pattern=_TEXT)]
Phone = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^\+?[0-9 ()-]{1,20}$")]
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": HH_MM_PATTERN, "examples": ["09:25"]}),
]
