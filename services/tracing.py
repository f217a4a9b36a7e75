"""Where an error came from, for logs that must not quote a value."""

from __future__ import annotations

import traceback


def frames(exc: BaseException) -> str:
    """The error's frames, one per line: file, line and function; no source lines and no
    message, since either may hold a name or a text."""
    return "".join(
        f"\n  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    )
