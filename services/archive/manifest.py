"""The archive's checksums: manifest.sha256 in `sha256sum` format, and checking them again."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from services.archive import document as doc

_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ClassEntry:
    """One class in manifest.json: what it holds, and its files (relative to the archive)."""

    klass: str
    pupils: int
    subjects: int
    lessons: int
    marks: int
    corrections: int
    absences: int
    final_grades: int
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ArchiveInfo:
    """manifest.json: what the archive is; `written_at` on the school's clock, with offset."""

    format: str
    school_id: int
    school: str
    year: str
    starts_on: str
    ends_on: str
    timezone: str
    written_at: str
    keep_years: dict[str, int]
    classes: tuple[ClassEntry, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path) -> list[str]:
    """Every file under root but the manifest itself, as sorted POSIX paths."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).as_posix() != doc.MANIFEST
    )


def write_manifest(root: Path, info: ArchiveInfo) -> int:
    """manifest.json, then the checksum of every file (the JSON's included); the count."""
    (root / doc.INFO).write_text(info.to_json(), encoding="utf-8")
    names = _files(root)
    lines = [f"{sha256_of(root / name)}  {name}\n" for name in names]
    (root / doc.MANIFEST).write_text("".join(lines), encoding="utf-8")
    return len(names)


class Trouble(enum.StrEnum):
    MISSING = "missing"
    EXTRA = "extra"
    ALTERED = "altered"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Problem:
    trouble: Trouble
    path: str

    def __str__(self) -> str:
        return f"{self.trouble.value}: {self.path}"


@dataclass(frozen=True, slots=True)
class Verified:
    checked: int  # files whose checksum matched
    problems: tuple[Problem, ...]
    info: ArchiveInfo | None  # None when manifest.json is missing or unreadable

    @property
    def ok(self) -> bool:
        return not self.problems


def _info(root: Path) -> ArchiveInfo | None:
    try:
        raw = json.loads((root / doc.INFO).read_text(encoding="utf-8"))
        raw["classes"] = tuple(
            ClassEntry(**{**entry, "files": tuple(entry["files"])}) for entry in raw["classes"]
        )
        return ArchiveInfo(**raw)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _inside(name: str) -> bool:
    """A listed path stays inside the archive: a tampered manifest cannot point elsewhere."""
    parts = name.split("/")
    return not name.startswith("/") and ".." not in parts and "" not in parts


def verify(root: Path) -> Verified:
    """Every file listed is there with its checksum, and nothing else is: a problem for each
    file missing, altered or not listed. Reads files only; OSError when root is unreadable."""
    manifest = root / doc.MANIFEST
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")
    if not manifest.is_file():
        return Verified(0, (Problem(Trouble.MISSING, doc.MANIFEST),), None)
    listed: dict[str, str] = {}
    problems: list[Problem] = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        match = _LINE.fullmatch(line)
        if match is None or not _inside(match[2]):
            problems.append(Problem(Trouble.MALFORMED, f"{doc.MANIFEST} line {number}"))
            continue
        listed[match[2]] = match[1]
    checked = 0
    for name, expected in listed.items():
        path = root / name
        if not path.is_file():
            problems.append(Problem(Trouble.MISSING, name))
        elif sha256_of(path) != expected:
            problems.append(Problem(Trouble.ALTERED, name))
        else:
            checked += 1
    problems += [Problem(Trouble.EXTRA, name) for name in _files(root) if name not in listed]
    return Verified(checked, tuple(problems), _info(root))
