"""An embedded PostgreSQL server for machines without one (DATABASE_URL unset)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

DATABASE_NAME = "journal"


class EmbeddedPostgresError(RuntimeError):
    pass


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the server whose data lives in `data_dir/pgdata`; return its URL.

    The server listens on a Unix socket only, so it never clashes with a system PostgreSQL on
    port 5432. Data stays between runs; the server stops when the last process using it exits.
    """
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        from pgserver.postgres_server import get_server
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise EmbeddedPostgresError("the pgserver package is not installed") from exc

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", pgdata)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        raise EmbeddedPostgresError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}"
        ) from exc
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir
    if socket_dir is None:  # pragma: no cover - pgserver always uses a socket on POSIX
        raise EmbeddedPostgresError("the embedded PostgreSQL reported no socket")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    host = quote(str(socket_dir), safe="")
    return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={host}&port={info.port}"


def server_from_environment(names: Sequence[str], data_dir: Path) -> str:
    """The first of the named variables that is set, else the embedded server in `data_dir`.

    For tests and benchmarks, which create databases of their own on that server.
    """
    for name in names:
        url = os.environ.get(name)
        if url:
            if url.startswith(("postgres://", "postgresql://")):
                url = "postgresql+asyncpg://" + url.split("://", 1)[1]
            return url
    return start_embedded(data_dir)
