"""The server secret that activation codes are hashed with."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.settings import Settings


def code_secret(settings: Settings) -> bytes:
    """CODE_SECRET when set (several servers must share it), else a key kept in DATA_DIR."""
    if settings.code_secret is not None:
        return settings.code_secret.get_secret_value().encode()
    path: Path = settings.data_dir / "code_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
