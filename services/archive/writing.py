"""Writing the archive: each class's journal and summary sheet, then the checksums.

The files are written into a hidden directory beside the destination, which is renamed into
place when everything is written: a failed run leaves nothing behind, and a directory with a
manifest is always a whole archive.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.archive import document as doc
from services.archive.manifest import ArchiveInfo, ClassEntry, write_manifest
from services.archive.reading import read_class_year
from services.archive.records import ClassYear, Summary, summarize
from services.archive.target import ArchiveError, Target

Progress = Callable[[str, int, int], None]
# The steps of a class that progress counts: reading it, its two workbooks, its two PDFs.
STEPS = ("reading", "XLSX", "PDF")


def check_destination(path: Path) -> Path:
    """The archive's directory, absolute: it must be new or empty, and its nearest existing
    parent a directory this process can write to; ArchiveError saying why not."""
    path = path.expanduser().absolute()
    try:
        if path.exists():
            if not path.is_dir():
                raise ArchiveError(f"{path} exists and is not a directory")
            if any(path.iterdir()):
                raise ArchiveError(f"{path} is not empty: give a new or empty directory")
        parent = path.parent
        while not parent.exists():
            parent = parent.parent
    except OSError as exc:
        raise ArchiveError(f"cannot write to {path}: {exc.strerror or exc}") from None
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ArchiveError(f"cannot write to {path}: {parent} is not a writable directory")
    return path


def _write_class(
    staging: Path, year: ClassYear, summary: Summary, *, zone: ZoneInfo, now: datetime, pdf: bool
) -> list[str]:
    """One format of a class's two documents; the files' paths relative to the archive."""
    # Imported here: reportlab and matplotlib cost half a second, and the scheduler, which
    # imports this package for the period-end sheets, must not pay it at start-up.
    from services.archive.pdf import journal_pdf, summary_pdf
    from services.archive.xlsx import journal_xlsx, summary_xlsx

    folder = staging / year.klass
    folder.mkdir(exist_ok=True)
    if pdf:
        made = {
            "journal": journal_pdf(year, summary, zone=zone, written=now),
            "summary": summary_pdf(year, summary, zone=zone, written=now),
        }
    else:
        made = {
            "journal": journal_xlsx(year, summary, zone=zone, written=now),
            "summary": summary_xlsx(year, summary, zone=zone, written=now),
        }
    names = []
    for kind, data in made.items():
        name = doc.file_name(year.year, year.klass, kind, "pdf" if pdf else "xlsx")
        (folder / name).write_bytes(data)
        names.append(f"{year.klass}/{name}")
    return names


def _publish(staging: Path, destination: Path, info: ArchiveInfo) -> None:
    """The checksums, then the finished archive renamed into place."""
    write_manifest(staging, info)
    if destination.exists():
        destination.rmdir()  # empty: check_destination saw to it
    staging.rename(destination)


async def write_archive(
    session: AsyncSession,
    target: Target,
    destination: Path,
    *,
    now: datetime,
    zone: ZoneInfo,
    progress: Progress | None = None,
) -> ArchiveInfo:
    """Every class of `target`: the journal and the summary sheet as XLSX and PDF, and the
    manifest; `destination` from `check_destination`. For the administrator."""
    report = progress or (lambda stage, done, total: None)
    total, done = len(target.classes) * len(STEPS), 0
    staging = destination.parent / f".{destination.name}.partial-{os.getpid()}"
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise ArchiveError(f"cannot write to {destination}: {exc.strerror or exc}") from None
    try:
        entries = []
        for klass in target.classes:
            report(f"{klass.label}: {STEPS[0]}", done, total)
            year = await read_class_year(session, target, klass)
            summary = summarize(year)
            done += 1
            files = []
            for pdf in (False, True):
                report(f"{klass.label}: {STEPS[1 + pdf]}", done, total)
                files += await asyncio.to_thread(
                    _write_class, staging, year, summary, zone=zone, now=now, pdf=pdf
                )
                done += 1
            entries.append(ClassEntry(klass=year.klass, **year.counts(), files=tuple(files)))
        info = ArchiveInfo(
            format=doc.FORMAT,
            school_id=target.school_id,
            school=target.school,
            year=target.year,
            starts_on=target.starts_on.isoformat(),
            ends_on=target.ends_on.isoformat(),
            timezone=zone.key,
            written_at=now.astimezone(zone).isoformat(timespec="seconds"),
            keep_years=dict(doc.KEEP_YEARS),
            classes=tuple(entries),
        )
        report("manifest", done, total)
        await asyncio.to_thread(_publish, staging, destination, info)
        report("manifest", total, total)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ArchiveError(f"cannot write to {destination}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info
