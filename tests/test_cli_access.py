"""The administrator's commands: codes issue, access list and revoke, audit."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services import linking
from services.db import models as m
from tests.factories import mini_school


async def _journalbot(
    database_url: str, tmp_path: Path, *args: str, stdin: bytes = b"", seconds: float = 120
) -> tuple[int, str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL"}
    }
    env.update(
        DATABASE_URL=database_url,
        CODE_SECRET="cli-secret",
        BOT_USERNAME="school_bot",
        DATA_DIR=str(tmp_path),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=str(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), seconds)
    return process.returncode or 0, out.decode(), err.decode()


async def test_issue_list_revoke_audit(
    committing_engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    async with AsyncSession(committing_engine) as session:
        await session.execute(text("SET LOCAL journal.capture = 'off'"))
        school = await mini_school(session)
        await session.commit()

    rc, out, _ = await _journalbot(database_url, tmp_path, "codes", "issue", "--class", "7Б")
    assert rc == 0
    assert "2 code(s)" in out
    assert f"student:{school.student_id}" in out and f"guardian:{school.guardian_id}" in out
    codes = re.findall(r"https://t\.me/school_bot\?start=([A-Z2-9]{10})", out)
    assert len(codes) == 2

    async with AsyncSession(committing_engine) as session:
        hashes = set((await session.scalars(select(m.ActivationCode.code_hash))).all())
        assert {linking.hash_code(b"cli-secret", c) for c in codes} == hashes
        result = await linking.redeem(
            session,
            account_id=555,
            chat_id=555,
            text=codes[1],
            secret=b"cli-secret",
            now=datetime.now(UTC),
        )
        assert result.outcome is linking.Outcome.LINKED

    rc, out, _ = await _journalbot(database_url, tmp_path, "access", "list")
    assert rc == 0 and "1 link(s)" in out and "account 555" in out

    person = f"guardian:{school.guardian_id}"
    rc, out, _ = await _journalbot(
        database_url, tmp_path, "access", "revoke", "--person", person, "--reason", "compromised"
    )
    assert rc == 0 and f"{person}: 1 link(s) revoked" in out
    rc, out, _ = await _journalbot(database_url, tmp_path, "access", "list")
    assert "0 link(s)" in out

    rc, out, _ = await _journalbot(database_url, tmp_path, "audit", "--person", person)
    assert rc == 0
    actions = re.findall(r"^\s+\S+ \S+ (\w+)", out, flags=re.MULTILINE)
    assert actions[:3] == ["revoked", "linked", "code_issued"]
    assert "reason=compromised" in out
    assert codes[1] not in out  # codes never reach the audit log

    pdf = tmp_path / "slips.pdf"
    rc, out, _ = await _journalbot(
        database_url, tmp_path, "codes", "issue", "--person", person, "--pdf", str(pdf)
    )
    assert rc == 0 and f"slips written to {pdf}" in out
    assert pdf.read_bytes().startswith(b"%PDF")

    rc, _, err = await _journalbot(database_url, tmp_path, "codes", "issue", "--class", "9Я")
    assert rc == 1 and err.strip() == "journalbot: class 9Я not found"
