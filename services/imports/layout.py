"""The shape of a sheet: its name and columns, shared by the file's checks and the template.

A file format (the roster, the journal) declares its sheets once with these; the reader
checks the headers against them and the template writer draws the blank workbook from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header, the template's example value, drop-down options and width."""

    header: str
    example: str | int | date = ""
    choices: tuple[str, ...] = ()
    width: int = 16
    note: str = ""  # shown as the header cell's comment in the template


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet of a format; `kind` is the format's own name for it, `name` the Russian one."""

    kind: str
    name: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)
