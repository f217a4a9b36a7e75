"""The archive of a class's year (seed 002 §3.4, seed 004 §6.5): the journal and the summary
sheet as XLSX and PDF, with a checksum manifest that `verify` checks again."""

from services.archive.manifest import ArchiveInfo, ClassEntry, Problem, Trouble, Verified, verify
from services.archive.reading import read_class_year
from services.archive.records import ClassYear, Summary, summarize
from services.archive.target import (
    ArchiveError,
    ClassRef,
    Target,
    find_target,
    parse_year,
    snapshot,
)
from services.archive.writing import Progress, check_destination, write_archive

__all__ = [
    "ArchiveError",
    "ArchiveInfo",
    "ClassEntry",
    "ClassRef",
    "ClassYear",
    "Problem",
    "Progress",
    "Summary",
    "Target",
    "Trouble",
    "Verified",
    "check_destination",
    "find_target",
    "parse_year",
    "read_class_year",
    "snapshot",
    "summarize",
    "verify",
    "write_archive",
]
