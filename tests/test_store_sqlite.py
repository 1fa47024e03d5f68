"""What only the SQLite store promises: its file settings and its schema steps.

Behaviour every store shares is in ``test_store_contract.py``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from lobby import protocol as p
from server.keys import OFFICE
from server.store.sqlite import MIGRATIONS, SNAPSHOTS_KEPT, SqliteStore, connect
from tests.conftest import FakeClock, RunningServer, visitor
from tests.store_backends import SqliteBackend


def test_every_connection_commits_durably_through_the_write_ahead_log(tmp_path: Path) -> None:
    with contextlib.closing(connect(tmp_path / "lobby.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        # on every SQLite build, not only those compiled with it on (Debian's is)
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_a_version_one_file_loses_the_unread_projections_and_gains_an_event_time_index(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path / "lobby.db")
    backend.version_one([], staff=("Dana", "clerk", "hash"), device=("tv", "display", "tv-hash"))
    with SqliteStore(backend.path).offline():
        pass
    with contextlib.closing(sqlite3.connect(backend.path)) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)
    assert "tickets" not in names and "counters" not in names
    assert {"events", "events_at", "staff", "devices", "sessions", "snapshots"} <= names


async def test_only_the_last_few_snapshots_are_kept(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "lobby.db")
    async with store.running():
        for seq in range(1, SNAPSHOTS_KEPT + 3):
            await store.save_snapshot(seq, b"state")
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        kept = [row[0] for row in conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
    assert kept == list(range(3, SNAPSHOTS_KEPT + 3))


async def test_after_a_purge_no_byte_of_the_file_or_its_log_holds_the_erased_name(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    secret = "Zebulon Quartermaine"
    ticket = await kiosk.check_in(visitor("purge-me-01", name=secret, needs=["hearing"]))
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "start")
    await clerk.ticket_action(ticket.id, "notes", p.NoteRequest(text="Quartermaine's refund"))
    await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
    assert await server.app[OFFICE].save_snapshot(), "a snapshot holding the name, to drop"
    files = [server.db, server.db.with_name(server.db.name + "-wal")]

    def holding() -> list[str]:
        return [f.name for f in files if f.exists() and b"Quartermaine" in f.read_bytes()]

    assert holding(), "the name is on disk before the purge"
    clock.advance(days=server.config.retention_days + 1)
    await server.app[OFFICE].housekeep()
    assert holding() == [], "erased from the database and from its write-ahead log"
    wal = files[1]
    assert not wal.exists() or wal.stat().st_size < 64 * 1024, "the log was emptied"
