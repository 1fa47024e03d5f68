"""A person's data on request: export, erasure (reaching the log, its write-ahead log and later
backups), and an audit log of both that a supervisor reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from lobby import protocol as p
from lobby.client import ApiError
from server.keys import OFFICE
from tests.conftest import STAFF, RunningServer, visitor

LOBBY = [sys.executable, "-m", "lobby.cli"]
NAME = "Amina Warsame"


async def two_visits_and_a_stranger(server: RunningServer) -> tuple[int, int, int]:
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    first = await kiosk.check_in(visitor("priv-0001", name=NAME, needs=["hearing"]))
    second = await kiosk.check_in(visitor("priv-0002", name="  amina warsame "))
    other = await kiosk.check_in(visitor("priv-0003", name="Bo Lindqvist"))
    await clerk.ticket_action(first.id, "notes", p.NoteRequest(text="Warsame asked for a form"))
    return first.id, second.id, other.id


async def lobby(server: RunningServer, *args: str) -> tuple[int, str, str]:
    """The command line against the running server, signed in as the supervisor."""
    process = await asyncio.create_subprocess_exec(
        *LOBBY,
        "privacy",
        *args,
        "--server",
        server.url,
        "--staff",
        "super",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(f"{STAFF['super']}\n".encode())
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def files_holding(db: Path, text: bytes) -> list[str]:
    return [f.name for f in db.parent.glob(db.name + "*") if text in f.read_bytes()]


async def test_export_gives_everything_held_about_a_person_and_is_audited(
    server: RunningServer,
) -> None:
    first, second, _ = await two_visits_and_a_stranger(server)
    code, out, err = await lobby(server, "export", "--name", "AMINA WARSAME")
    assert code == 0, err
    visits = {v["id"]: v["events"] for v in json.loads(out)["visits"]}
    assert set(visits) == {first, second}, "every visit under the name, and no one else's"
    kinds = [e["kind"] for e in visits[first]]
    assert kinds == ["ticket.checked_in", "ticket.noted"]
    assert visits[first][0]["data"]["needs"] == ["hearing"]
    assert visits[first][1]["data"]["text"] == "Warsame asked for a form"

    boss = await server.staff("super")
    audit = await boss.request("GET", "/api/privacy/audit", result=p.AuditResponse)
    (entry,) = audit.entries
    assert (entry.by, entry.action) == ("super", "export")
    assert "P-001" in entry.detail and "Warsame" not in entry.detail, "the audit keeps no name"
    with pytest.raises(ApiError) as clerk_refused:
        await (await server.staff("clerk")).request("GET", "/api/privacy/audit")
    assert clerk_refused.value.status == 403


async def test_an_erasure_reaches_the_office_the_log_its_wal_and_later_backups(
    server: RunningServer,
) -> None:
    first, second, other = await two_visits_and_a_stranger(server)
    assert files_holding(server.db, b"Warsame")
    code, out, err = await lobby(server, "erase", "--name", NAME)
    assert code == 0, err
    assert json.loads(out)["erased"] == [first, second]

    engine = server.app[OFFICE].engine
    assert engine.tickets[first].name is None and engine.tickets[first].notes == []
    assert engine.tickets[second].name is None
    assert engine.tickets[other].name == "Bo Lindqvist"
    assert files_holding(server.db, b"Warsame") == [], "nor in the write-ahead log"
    backup = server.db.parent / "backup.db"
    with (
        contextlib.closing(sqlite3.connect(server.db)) as live,
        contextlib.closing(sqlite3.connect(backup)) as copy,
    ):
        live.backup(copy)
    assert b"Warsame" not in backup.read_bytes() and b"Lindqvist" in backup.read_bytes()

    code, out, _ = await lobby(server, "export", "--name", NAME)
    assert code == 0 and json.loads(out)["visits"] == [], "nothing is held any more"
    code, out, _ = await lobby(server, "erase", "--ticket", str(other))
    assert code == 0 and json.loads(out)["erased"] == [other]
    assert engine.tickets[other].name is None
    code, out, _ = await lobby(server, "audit")
    actions = [(e["by"], e["action"]) for e in json.loads(out)["entries"]]
    assert actions == [("super", "erase"), ("super", "export"), ("super", "erase")]

    await server.restart()  # the replayed office holds no more than the live one did
    assert server.app[OFFICE].engine.tickets[first].name is None


async def test_a_privacy_request_names_exactly_one_person_or_visit(server: RunningServer) -> None:
    boss = await server.staff("super")
    for body in (p.PrivacyRequest(), p.PrivacyRequest(name="x", ticket=1)):
        with pytest.raises(ApiError) as refused:
            await boss.request("POST", "/api/privacy/erase", body)
        assert refused.value.status == 422
    with pytest.raises(ApiError) as unknown:
        await boss.request("POST", "/api/privacy/export", p.PrivacyRequest(ticket=4242))
    assert unknown.value.status == 404
    code, _, err = await lobby(server, "export", "--name", NAME, "--ticket", "1")
    assert code == 2 and "not allowed with argument" in err
