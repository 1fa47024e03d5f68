"""The databases the store contract runs against, each behind the same small ``Backend`` face.

A backend hands out store objects on one database (a new object each time, so a test can close
a store and open the same data again) and can lay down a database in the first released schema.
To hold another store to the contract, add its backend to ``BACKENDS``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from server.engine import Event
from server.store.encoding import encode_event
from server.store.port import Store
from server.store.sqlite import SqliteStore

# The schema Lobby shipped as version 1, written out here (not taken from the migrations) so the
# test keeps describing the databases that exist in offices even when the migrations change.
SQLITE_VERSION_ONE = """
CREATE TABLE events (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,
    data TEXT NOT NULL);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, number TEXT NOT NULL, service TEXT NOT NULL,
    day TEXT NOT NULL, state TEXT NOT NULL, status_token TEXT NOT NULL UNIQUE,
    view TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX tickets_day ON tickets(day);
CREATE TABLE counters (id TEXT PRIMARY KEY, view TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('kiosk', 'display')),
    token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff(id), created_at TEXT NOT NULL);
PRAGMA user_version = 1;
"""
CREATED = "2026-10-01T08:00:00-05:00"


class Backend(Protocol):
    def store(self) -> Store:
        """A new, unopened store object on this backend's database."""
        ...

    def version_one(
        self, events: list[Event], staff: tuple[str, str, str], device: tuple[str, str, str]
    ) -> None:
        """Replace the database with one in the first released schema, holding ``events``
        (seqs 1, 2, ...), one staff member (name, role, password hash) and one device (name,
        role, token hash)."""
        ...


class SqliteBackend:
    def __init__(self, path: Path) -> None:
        self.path = path

    def store(self) -> Store:
        return SqliteStore(self.path)

    def version_one(
        self, events: list[Event], staff: tuple[str, str, str], device: tuple[str, str, str]
    ) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.executescript(SQLITE_VERSION_ONE)
            conn.executemany(
                "INSERT INTO events (seq, at, kind, data) VALUES (?, ?, ?, ?)",
                [(seq, *encode_event(e)) for seq, e in enumerate(events, start=1)],
            )
            conn.execute(
                "INSERT INTO staff (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (*staff, CREATED),
            )
            conn.execute(
                "INSERT INTO devices (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)",
                (*device, CREATED),
            )
            conn.commit()


@contextlib.contextmanager
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    yield SqliteBackend(tmp_path / "lobby.db")


# name -> a context that provides a fresh, empty database for one test and removes it after
BACKENDS: dict[str, Callable[[Path], contextlib.AbstractContextManager[Backend]]] = {
    "sqlite": sqlite_backend,
}
