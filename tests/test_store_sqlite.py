"""What only the SQLite store promises: its file settings and its schema steps.

Behaviour every store shares is in ``test_store_contract.py``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from server.store.sqlite import MIGRATIONS, SNAPSHOTS_KEPT, SqliteStore, connect
from tests.store_backends import SqliteBackend


def test_every_connection_commits_durably_through_the_write_ahead_log(tmp_path: Path) -> None:
    with contextlib.closing(connect(tmp_path / "lobby.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


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
