"""The administrator's commands: codes issue, access list and revoke, audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services import linking
from services.db import models as m
from tests.fixtures.cli import CLI_CODE_SECRET, run_journalbot
from tests.fixtures.factories import MiniSchool
from tests.fixtures.linking import account_for

SECRET = CLI_CODE_SECRET.encode()


async def _redeem(session: AsyncSession, account: int, code: str) -> None:
    """The code, printed by the command line, redeemed by the account in a chat of its own."""
    result = await linking.redeem(
        session,
        account_id=await account_for(session, account),
        text=code,
        secret=SECRET,
        now=datetime.now(UTC),
    )
    assert result.outcome is linking.Outcome.LINKED


async def test_issue_list_revoke_audit(
    committing_engine: AsyncEngine, school: MiniSchool, database_url: str, tmp_path: Path
) -> None:
    rc, out, _ = await run_journalbot(database_url, tmp_path, "codes", "issue", "--class", "7Б")
    assert rc == 0
    assert "2 code(s)" in out
    assert f"student:{school.student_id}" in out and f"guardian:{school.guardian_id}" in out
    codes = re.findall(r"https://t\.me/school_bot\?start=([A-Z2-9]{10})", out)
    assert len(codes) == 2

    async with AsyncSession(committing_engine) as session:
        hashes = set((await session.scalars(select(m.ActivationCode.code_hash))).all())
        assert {linking.hash_code(SECRET, c) for c in codes} == hashes
        await _redeem(session, 555, codes[1])

    rc, out, _ = await run_journalbot(database_url, tmp_path, "access", "list")
    assert rc == 0 and "1 link(s)" in out and "account 555" in out

    person = f"guardian:{school.guardian_id}"
    rc, out, _ = await run_journalbot(
        database_url, tmp_path, "access", "revoke", "--person", person, "--reason", "compromised"
    )
    assert rc == 0 and f"{person}: 1 link(s) revoked" in out
    rc, out, _ = await run_journalbot(database_url, tmp_path, "access", "list")
    assert "0 link(s)" in out
    rc, out, _ = await run_journalbot(
        database_url, tmp_path, "access", "restore", "--person", person
    )
    assert rc == 0 and f"{person}: access restored" in out
    rc, out, _ = await run_journalbot(
        database_url, tmp_path, "access", "restore", "--person", person
    )
    assert rc == 0 and "was not on hold; nothing changed" in out

    rc, out, _ = await run_journalbot(database_url, tmp_path, "audit", "--person", person)
    assert rc == 0
    actions = re.findall(r"^\s+\S+ \S+ \S+ \(Europe/Moscow\) (\w+)", out, flags=re.MULTILINE)
    assert actions[:5] == ["restored", "restored", "revoked", "linked", "code_issued"]
    assert "reason=compromised" in out
    assert codes[1] not in out  # codes never reach the audit log

    pdf = tmp_path / "slips.pdf"
    rc, out, _ = await run_journalbot(
        database_url, tmp_path, "codes", "issue", "--person", person, "--pdf", str(pdf)
    )
    assert rc == 0 and f"slips written to {pdf}" in out
    assert pdf.read_bytes().startswith(b"%PDF")

    rc, _, err = await run_journalbot(database_url, tmp_path, "codes", "issue", "--class", "9Я")
    assert rc == 1 and err.strip() == "journalbot: no class 9Я"


async def _rows(engine: AsyncEngine) -> tuple[int, ...]:
    counts = []
    async with AsyncSession(engine) as session:
        for table in (m.ActivationCode, m.AuditEntry, m.AccountLink, m.School):
            counts.append(int(await session.scalar(select(func.count()).select_from(table)) or 0))
    return tuple(counts)


async def test_bad_input_gets_one_line_and_changes_nothing(
    committing_engine: AsyncEngine, school: MiniSchool, database_url: str, tmp_path: Path
) -> None:
    before = await _rows(committing_engine)
    cases = {
        ("codes", "issue", "--class", "7Б", "--days", "0"): "--days must be from 1 to 90, not 0",
        ("codes", "issue", "--class", "7Б", "--days", "-5"): "--days must be from 1 to 90, not -5",
        ("codes", "issue", "--class", "7Б", "--days", "100000"): (
            "--days must be from 1 to 90, not 100000"
        ),
        ("audit", "--person", f"guardian:{school.guardian_id}", "--limit", "-1"): (
            "--limit must be from 1 to 10000, not -1"
        ),
        ("access", "revoke", "--person", "guardian:99999"): "guardian:99999: no such guardian",
        ("access", "revoke", "--person", "staff:99999"): "staff:99999: no such staff member",
        ("access", "revoke", "--person", "student:0"): (
            "'student:0': an id is a number from 1 to 9223372036854775807"
        ),
        ("codes", "issue", "--class", "7Б", "--school", "99"): "no school 99",
        ("codes", "issue", "--staff", "--school", "99"): "no school 99",
        ("codes", "issue", "--class", "7B"): "no class 7B; did you mean 7Б?",
        ("codes", "issue", "--class", "7Q"): "no class 7Q (class letters are Cyrillic)",
        ("codes", "issue", "--class", "7z"): "no class 7Z (class letters are Cyrillic)",
    }
    for args, message in cases.items():
        rc, out, err = await run_journalbot(database_url, tmp_path, *args)
        assert (rc, out, err) == (1, "", f"journalbot: {message}\n"), args
    assert await _rows(committing_engine) == before


async def test_times_are_printed_in_the_schools_zone(
    committing_engine: AsyncEngine, school: MiniSchool, database_url: str, tmp_path: Path
) -> None:
    async with AsyncSession(committing_engine) as session:
        row = await session.get(m.School, school.school_id)
        assert row is not None
        row.timezone = "Asia/Yekaterinburg"  # not the default zone, which is Moscow's
        await session.commit()
    zone = ZoneInfo("Asia/Yekaterinburg")

    def local(at: datetime, seconds: bool = False) -> str:
        shown = at.astimezone(zone)
        return f"{shown:%Y-%m-%d %H:%M{':%S' if seconds else ''}} +05 (Asia/Yekaterinburg)"

    person = f"student:{school.student_id}"
    rc, out, _ = await run_journalbot(database_url, tmp_path, "codes", "issue", "--person", person)
    assert rc == 0
    [code] = re.findall(r"start=([A-Z2-9]{10})", out)
    async with AsyncSession(committing_engine) as session:
        expires = await session.scalar(select(m.ActivationCode.expires_at))
        assert expires is not None
        assert f"1 code(s), valid until {local(expires)};" in out
        await _redeem(session, 777, code)
        link = await session.scalar(select(m.AccountLink))
        assert link is not None
    rc, out, _ = await run_journalbot(database_url, tmp_path, "access", "list")
    assert rc == 0 and f"since {local(link.created_at)}  active" in out

    rc, out, _ = await run_journalbot(database_url, tmp_path, "audit", "--person", person)
    async with AsyncSession(committing_engine) as session:
        stamps = (
            await session.scalars(
                select(m.AuditEntry.at).order_by(m.AuditEntry.at.desc(), m.AuditEntry.id.desc())
            )
        ).all()
    printed = re.findall(r"^  (\S+ \S+ \S+ \(\S+\)) ", out, flags=re.MULTILINE)
    assert rc == 0 and printed == [local(at, seconds=True) for at in stamps]
