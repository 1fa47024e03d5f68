"""Durable storage: the SQLite event log, its projections, staff, devices and sessions.

One writer thread owns the connection. Commands hand it their events; it commits them in
batches (group commit: one fsync for everything that queued up meanwhile), so 32 kiosks
checking in at once cost one disk flush, not 32, while each caller is still answered only after
its own events are durable (``synchronous=FULL``). Keeping SQLite on its own thread also keeps the
event loop free while the disk works.

The interface is small on purpose (append, replay, accounts) so a PostgreSQL store can stand
beside this one later without touching the engine.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from server.engine import Event

T = TypeVar("T")

MIGRATIONS: list[str] = [
    # 1: the log, its projections and accounts
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        day TEXT NOT NULL,
        state TEXT NOT NULL,
        status_token TEXT NOT NULL UNIQUE,
        view TEXT NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX tickets_day ON tickets(day);
    CREATE TABLE counters (
        id TEXT PRIMARY KEY,
        view TEXT NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'admin')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('kiosk', 'display')),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        staff_id INTEGER NOT NULL REFERENCES staff(id),
        created_at TEXT NOT NULL
    );
    """,
]


@dataclass(frozen=True)
class Projection:
    """Rows the same transaction updates beside the events, so reads never replay the log."""

    tickets: list[tuple[int, str, str, str, str, str, str]]
    counters: list[tuple[str, str]]


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    kind: str  # "staff" or "device"


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a connection with the durability settings every connection must carry."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the numbered migrations not yet applied; returns the schema version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={number}")
        conn.execute("COMMIT")
        version = number
    return version


def encode_event(event: Event) -> tuple[str, str, str]:
    return (event.at.isoformat(), event.kind, json.dumps(event.data, separators=(",", ":")))


def decode_event(at: str, kind: str, data: str) -> Event:
    return Event(kind, datetime.fromisoformat(at), json.loads(data))


class _Write:
    __slots__ = ("events", "future", "projection", "seqs")

    def __init__(
        self,
        seqs: list[int],
        events: list[Event],
        projection: Projection,
        future: asyncio.Future[None],
    ) -> None:
        self.seqs = seqs
        self.events = events
        self.projection = projection
        self.future = future


class _Job:
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: asyncio.Future[Any]):
        self.fn = fn
        self.future = future


class Store:
    """The SQLite store. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._queue: queue.SimpleQueue[_Write | _Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_seq = 0

    # ----------------------------------------------------------- lifecycle

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        migrate(self._conn)
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        self.last_seq = int(row[0])

    def replay(self) -> Iterator[Event]:
        """Every logged event in order; called before the writer starts."""
        assert self._conn is not None
        cursor = self._conn.execute("SELECT at, kind, data FROM events ORDER BY seq")
        for at, kind, data in cursor:
            yield decode_event(at, kind, data)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="lobby-store", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------- writing

    def append(self, events: list[Event], projection: Projection) -> tuple[list[int], Any]:
        """Queue events for a durable commit; returns their seqs and an awaitable.

        Seqs are handed out here, synchronously, so the order of the log is the order in which
        the engine applied the events, whatever the writer thread does.
        """
        assert self._loop is not None, "store not started"
        seqs = list(range(self.last_seq + 1, self.last_seq + 1 + len(events)))
        self.last_seq += len(events)
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(_Write(seqs, events, projection, future))
        return seqs, future

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the store thread, in order with the writes."""
        assert self._loop is not None, "store not started"
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Job(fn, future))
        return await future

    def _run(self) -> None:
        assert self._conn is not None and self._loop is not None
        conn, loop = self._conn, self._loop
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, _Job):
                self._run_job(conn, loop, item)
                continue
            batch = [item]
            stop = False
            while len(batch) < 512:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                if isinstance(more, _Job):
                    self._commit(conn, loop, batch)
                    batch = []
                    self._run_job(conn, loop, more)
                    continue
                batch.append(more)
            if batch:
                self._commit(conn, loop, batch)
            if stop:
                return

    @staticmethod
    def _settle(
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        result: Any,
        error: BaseException | None,
    ) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        loop.call_soon_threadsafe(settle)

    def _run_job(
        self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop, job: _Job
    ) -> None:
        try:
            result = job.fn(conn)
        except BaseException as exc:  # handed to the awaiting coroutine
            self._settle(loop, job.future, None, exc)
        else:
            self._settle(loop, job.future, result, None)

    def _commit(
        self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop, batch: list[_Write]
    ) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for write in batch:
                conn.executemany(
                    "INSERT INTO events (seq, at, kind, data) VALUES (?, ?, ?, ?)",
                    [
                        (seq, *encode_event(e))
                        for seq, e in zip(write.seqs, write.events, strict=True)
                    ],
                )
                last = write.seqs[-1] if write.seqs else 0
                conn.executemany(
                    "INSERT INTO tickets (id, number, service, day, state, status_token, view, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                    " service=excluded.service, state=excluded.state, view=excluded.view,"
                    " seq=excluded.seq",
                    [(*row, last) for row in write.projection.tickets],
                )
                conn.executemany(
                    "INSERT INTO counters (id, view, seq) VALUES (?, ?, ?) ON CONFLICT(id)"
                    " DO UPDATE SET view=excluded.view, seq=excluded.seq",
                    [(*row, last) for row in write.projection.counters],
                )
                for event in write.events:
                    if event.kind == "tickets.purged":
                        scrub_private(conn, event.data["ids"])
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for write in batch:
                self._settle(loop, write.future, None, exc)
            return
        for write in batch:
            self._settle(loop, write.future, None, None)

    # ------------------------------------------------------------ accounts
    # These run before the server starts (command line) or through run() while it serves.

    @staticmethod
    def add_staff(conn: sqlite3.Connection, name: str, role: str, password_hash: str) -> int:
        cursor = conn.execute(
            "INSERT INTO staff (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET role=excluded.role,"
            " password_hash=excluded.password_hash RETURNING id",
            (name, role, password_hash, datetime.now().astimezone().isoformat()),
        )
        return int(cursor.fetchone()[0])

    @staticmethod
    def add_device(conn: sqlite3.Connection, name: str, role: str, token_hash: str) -> int:
        cursor = conn.execute(
            "INSERT INTO devices (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET role=excluded.role,"
            " token_hash=excluded.token_hash RETURNING id",
            (name, role, token_hash, datetime.now().astimezone().isoformat()),
        )
        return int(cursor.fetchone()[0])

    @staticmethod
    def staff_password(conn: sqlite3.Connection, name: str) -> tuple[Account, str] | None:
        row = conn.execute(
            "SELECT id, name, role, password_hash FROM staff WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return Account(row[0], row[1], row[2], "staff"), row[3]

    @staticmethod
    def add_session(conn: sqlite3.Connection, token_hash: str, staff_id: int) -> None:
        conn.execute(
            "INSERT INTO sessions (token_hash, staff_id, created_at) VALUES (?, ?, ?)",
            (token_hash, staff_id, datetime.now().astimezone().isoformat()),
        )

    @staticmethod
    def remove_session(conn: sqlite3.Connection, token_hash: str) -> None:
        conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    @staticmethod
    def account_for_token(conn: sqlite3.Connection, token_hash: str) -> Account | None:
        row = conn.execute(
            "SELECT s.id, s.name, s.role FROM sessions JOIN staff s ON s.id = sessions.staff_id"
            " WHERE sessions.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is not None:
            return Account(row[0], row[1], row[2], "staff")
        row = conn.execute(
            "SELECT id, name, role FROM devices WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        if row is not None:
            return Account(row[0], row[1], row[2], "device")
        return None

    @staticmethod
    def all_events(conn: sqlite3.Connection) -> list[Event]:
        rows = conn.execute("SELECT at, kind, data FROM events ORDER BY seq").fetchall()
        return [decode_event(*row) for row in rows]


PRIVATE_FIELDS = {
    "ticket.checked_in": ("name", "address_as", "language", "needs"),
    "ticket.completed": ("notes",),
    "ticket.transferred": ("note",),
    "ticket.noted": ("text",),
    "ticket.flagged": ("reason",),
}


def scrub_private(conn: sqlite3.Connection, ticket_ids: list[int]) -> None:
    """Erase private fields from the logged events of these tickets.

    The log is append-only for everything except this: the retention promise made to visitors
    outranks keeping their names in history. Replaying a scrubbed log gives the same queue.
    """
    for kind, fields in PRIVATE_FIELDS.items():
        setters = ", ".join(f"'$.{f}', NULL" for f in fields)
        conn.execute(
            f"UPDATE events SET data = json_set(data, {setters}) WHERE kind = ?"
            " AND json_extract(data, '$.id') IN (SELECT value FROM json_each(?))",
            (kind, json.dumps(ticket_ids)),
        )


def open_sync(path: str | Path) -> sqlite3.Connection:
    """A migrated connection for the command line (staff add, device add)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    migrate(conn)
    return conn
