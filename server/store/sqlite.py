"""The SQLite store: one file, WAL, every commit durable (``synchronous=FULL``).

One writer thread owns the connection while the server runs and commits in batches (group
commit, ``server.store.writer``: one fsync for everything that queued up meanwhile).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from server.engine import Event
from server.reports.records import Layout
from server.store.encoding import decode_event, epoch_us
from server.store.port import (
    PRIVATE_FIELDS,
    Account,
    Accounts,
    AuditEntry,
    Device,
    Logged,
    RecordReader,
    StorageFailed,
    Store,
    UnusableStore,
)
from server.store.sqlite_records import EMERGENCY_SCHEMA, RecordWriter, read_records
from server.store.sqlite_records import SCHEMA as RECORDS_SCHEMA
from server.store.sqlite_rows import write_rows
from server.store.writer import QueuedWriter, Write, caught_up, purged_ids, write_records

T = TypeVar("T")
log = logging.getLogger("lobby.store")
PROBE_FREE_BYTES = 1 << 20
"""A probe counts the disk as usable again only with this much free: a commit of a full batch
needs some, and a disk with a few bytes back would fail the next one again."""
SNAPSHOTS_KEPT = 3
EVENT_COLUMNS = ("seq", "at", "kind", "data", "at_us")


def _add_event_times(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE events ADD COLUMN at_us INTEGER NOT NULL DEFAULT 0")
    rows = conn.execute("SELECT seq, at FROM events").fetchall()
    conn.executemany(
        "UPDATE events SET at_us = ? WHERE seq = ?",
        [(epoch_us(datetime.fromisoformat(at)), seq) for seq, at in rows],
    )
    conn.execute("CREATE INDEX events_at ON events(at_us)")


# Numbered by position: the database's user_version is how many have been applied.
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
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
    # 2: the ticket and counter projections were written on every commit and never read; the
    # engine rebuilds both from the log at start
    """
    DROP INDEX tickets_day;
    DROP TABLE tickets;
    DROP TABLE counters;
    """,
    # 3: each event's time as an instant, indexed, for period queries
    _add_event_times,
    # 4: snapshots of the office's state, so a start replays only the events after the latest
    """
    CREATE TABLE snapshots (
        seq INTEGER PRIMARY KEY,
        saved_at TEXT NOT NULL,
        data BLOB NOT NULL
    );
    """,
    # 5: the visit records reports query (server/store/records_sql.py), built from the log
    # at the next serving start
    RECORDS_SCHEMA,
    # 6: the office a database belongs to, so a server never serves another office's log;
    # the audit log of every export and erasure of a person's data
    """
    CREATE TABLE office (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        name TEXT NOT NULL,
        claimed_at TEXT NOT NULL
    );
    CREATE TABLE privacy_audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    # 7: the emergencies and drills, and the visits that waited through one
    EMERGENCY_SCHEMA,
]


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a connection with the durability settings every connection must carry."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    # What a purge erases is overwritten in the file, not left in freed space to be read back.
    conn.execute("PRAGMA secure_delete=ON")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the numbered migrations not yet applied, each in its own transaction; returns the
    schema version. The version is read again inside each transaction: the command line may
    open a database the server is migrating at the same moment."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if number > version:
                if callable(step):
                    step(conn)
                else:
                    for statement in step.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")
                version = number
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version


# ------------------------------------------------------------ start-up checks
# A start must never serve a broken office, nor quietly begin an empty one where a real one was
# (a deleted file whose write-ahead log is still there, a wrong --db): every device token would
# fail and the day's queue would be gone. Each refusal is one line saying what to do.

LEFTOVER_SUFFIXES = ("-wal", "-shm", "-journal")


def leftovers_of(path: Path) -> list[Path]:
    """The files SQLite keeps beside a database, where they exist."""
    return [p for p in (path.with_name(path.name + s) for s in LEFTOVER_SUFFIXES) if p.exists()]


def prepare_path(path: Path, *, create: bool, init: bool) -> None:
    """Refuse a database that is gone or empty unless a new one may be made here.

    ``create``: a new database may be made where there is nothing at all (the command line's
    first ``lobby staff add``). ``init``: the operator asked for a new office (``lobby serve
    --init``), so leftovers of a lost database are set aside (renamed, never deleted) first.
    """
    exists = path.exists()
    empty = exists and path.stat().st_size == 0
    if exists and not empty:
        return
    left = leftovers_of(path)
    if init:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for old in [*left, *([path] if empty else [])]:
            old.rename(old.with_name(f"{old.name}.set-aside-{stamp}"))
        return
    if empty:
        raise UnusableStore(
            f"{path} is empty (0 bytes), so the database was lost or truncated: restore it from"
            " a backup, or start a new office with `lobby serve --init`"
        )
    if left:
        raise UnusableStore(
            f"{path} is missing but {left[0].name} is still beside it, so the database was"
            " deleted or moved: restore it, or start a new office with `lobby serve --init`"
            " (which sets the leftovers aside)"
        )
    if not create:
        raise UnusableStore(
            f"there is no database at {path}: give --db the office's database, or start a new"
            " office with `lobby serve --init`"
        )


def check_database(conn: sqlite3.Connection, path: Path) -> None:
    """A quick integrity check and the schema version, before anything reads or migrates."""
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise UnusableStore(
            f"{path} is damaged ({problems[0]}): restore it from a backup; the server does not"
            " start on a damaged database"
        )
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise UnusableStore(
            f"{path} has schema version {version}, newer than this Lobby knows"
            f" ({len(MIGRATIONS)}): run the newer Lobby, or restore a backup made for this one"
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise UnusableStore(f"{path} is an SQLite file but not a Lobby database")


def claim_office(conn: sqlite3.Connection, path: Path, office: str) -> None:
    """The database belongs to the first office that served it, and only to that one."""
    conn.execute(
        "INSERT INTO office (id, name, claimed_at) VALUES (1, ?, ?) ON CONFLICT DO NOTHING",
        (office, _now()),
    )
    owner = conn.execute("SELECT name FROM office").fetchone()[0]
    if owner != office:
        raise UnusableStore(
            f"{path} is the database of {owner!r}, not of {office!r} (office.name in the"
            " configuration): give --db this office's database"
        )


def open_checked(
    path: Path, *, office: str | None = None, create: bool = True, init: bool = False
) -> sqlite3.Connection:
    """A connection to a checked, migrated database, or :class:`UnusableStore` saying why not."""
    prepare_path(path, create=create, init=init)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection | None = None
    try:
        conn = connect(path)
        check_database(conn, path)
        migrate(conn)
        if office is not None:
            claim_office(conn, path, office)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        raise UnusableStore(
            f"{path} is damaged or not a Lobby database ({exc}): restore it from a backup"
        ) from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn


def scrub_private(conn: sqlite3.Connection, ticket_ids: list[int]) -> None:
    """Erase the private fields of these tickets' logged events (see ``PRIVATE_FIELDS``)."""
    for kind, fields in PRIVATE_FIELDS.items():
        setters = ", ".join(f"'$.{f}', NULL" for f in fields)
        conn.execute(
            f"UPDATE events SET data = json_set(data, {setters}) WHERE kind = ?"
            " AND json_extract(data, '$.id') IN (SELECT value FROM json_each(?))",
            (kind, json.dumps(ticket_ids)),
        )


def erase_old_pages(conn: sqlite3.Connection) -> None:
    """After a purge, copy the write-ahead log into the database and empty it: the log still
    holds the pages as they were before the purge, names and notes included, until then."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:  # a reader (the command line) holds old pages; the next purge tries again
        log.warning("the write-ahead log could not be emptied after a purge (a reader is open)")


def _now() -> str:
    return datetime.now().astimezone().isoformat()


def failure(error: sqlite3.Error | OSError) -> StorageFailed:
    """What a failed commit means for the office: the disk is full, or something else broke."""
    full = (
        getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or getattr(error, "errno", None) == errno.ENOSPC
        or "disk is full" in str(error)
    )
    return StorageFailed(f"{type(error).__name__}: {error}", full=full)


class SqliteAccounts(Accounts):
    """Account statements on one connection; each statement commits on its own."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add_staff(self, name: str, role: str, password_hash: str) -> int:
        cursor = self._conn.execute(
            "INSERT INTO staff (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET role=excluded.role,"
            " password_hash=excluded.password_hash RETURNING id",
            (name, role, password_hash, _now()),
        )
        staff_id = int(cursor.fetchone()[0])
        self.remove_sessions_of(staff_id)  # a new password: nobody stays signed in on the old
        return staff_id

    def staff_password(self, name: str) -> tuple[Account, str] | None:
        row = self._conn.execute(
            "SELECT id, name, role, password_hash FROM staff WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return Account(row[0], row[1], row[2], "staff"), row[3]

    def add_device(self, name: str, role: str, token_hash: str) -> int:
        cursor = self._conn.execute(
            "INSERT INTO devices (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET role=excluded.role,"
            " token_hash=excluded.token_hash RETURNING id",
            (name, role, token_hash, _now()),
        )
        return int(cursor.fetchone()[0])

    def devices(self) -> list[Device]:
        rows = self._conn.execute("SELECT id, name, role, created_at FROM devices ORDER BY name")
        return [Device(*row) for row in rows]

    def remove_device(self, device_id: int) -> str | None:
        row = self._conn.execute(
            "DELETE FROM devices WHERE id = ? RETURNING name", (device_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def add_session(self, token_hash: str, staff_id: int) -> None:
        self._conn.execute(
            "INSERT INTO sessions (token_hash, staff_id, created_at) VALUES (?, ?, ?)",
            (token_hash, staff_id, _now()),
        )

    def remove_session(self, token_hash: str) -> None:
        self._conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def remove_sessions_of(self, staff_id: int) -> int:
        cursor = self._conn.execute("DELETE FROM sessions WHERE staff_id = ?", (staff_id,))
        return int(cursor.rowcount)

    def account_for_token(self, token_hash: str) -> Account | None:
        row = self._conn.execute(
            "SELECT s.id, s.name, s.role, sessions.created_at FROM sessions"
            " JOIN staff s ON s.id = sessions.staff_id WHERE sessions.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is not None:
            return Account(row[0], row[1], row[2], "staff", datetime.fromisoformat(row[3]))
        row = self._conn.execute(
            "SELECT id, name, role FROM devices WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        if row is not None:
            return Account(row[0], row[1], row[2], "device")
        return None


class SqliteStore(QueuedWriter, Store):
    """The log and accounts in one SQLite file; the file's folder is created when missing.

    ``layout`` (counter -> services) lets the visit records measure idle while waiting; a
    store opened with another layout than its records were built with builds them again.

    Opening checks the file first (:func:`open_checked`): ``office`` is the configured office
    the database must belong to, ``create`` whether a new database may be made where there is
    none, ``init`` whether the operator asked for a new office (``lobby serve --init``).
    """

    def __init__(
        self,
        path: str | Path,
        layout: Layout | None = None,
        *,
        office: str | None = None,
        create: bool = True,
        init: bool = False,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.layout = layout
        self._records: RecordWriter | None = None
        self._office = office
        self._create = create
        self._init = init
        self._conn: sqlite3.Connection | None = None
        self._accounts: SqliteAccounts | None = None

    # ----------------------------------------------------------- lifecycle

    def open(self) -> None:
        self._conn = self._connect()
        self._accounts = SqliteAccounts(self._conn)
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        self._last_seq = int(row[0])
        self._records = caught_up(RecordWriter(self._conn, self.layout), self._last_seq)

    def _connect(self) -> sqlite3.Connection:
        return open_checked(self.path, office=self._office, create=self._create, init=self._init)

    @contextlib.contextmanager
    def records(self) -> Iterator[RecordReader]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        migrate(conn)
        with read_records(conn) as reader:
            yield reader

    def replay_since(self, seq: int) -> Iterator[Event]:
        assert self._conn is not None and self._thread is None, "replay between open and start"
        cursor = self._conn.execute(
            "SELECT at, kind, data FROM events WHERE seq > ? ORDER BY seq", (seq,)
        )
        for at, kind, data in cursor:
            yield decode_event(at, kind, data)

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        assert self._conn is not None and self._thread is None, "read between open and start"
        row = self._conn.execute(
            "SELECT seq, data FROM snapshots ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def start(self) -> None:
        assert self._conn is not None, "store not open"
        self._start_writer("lobby-store")

    async def close(self) -> None:
        await self._stop_writer()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._accounts = None
            self._records = None

    @contextlib.contextmanager
    def offline(self) -> Iterator[Accounts]:
        conn = self._connect()
        try:
            yield SqliteAccounts(conn)
        finally:
            conn.close()

    # ------------------------------------------------------------- the log

    async def probe(self) -> None:
        def write() -> None:
            conn = self._conn
            assert conn is not None
            disk = os.statvfs(self.path.parent)
            free = disk.f_bavail * disk.f_frsize
            if free < PROBE_FREE_BYTES:
                raise StorageFailed(f"{free} bytes free beside {self.path}", full=True)
            with _transaction(conn):  # rewriting the schema version: a commit, no change
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                conn.execute(f"PRAGMA user_version={int(version)}")

        await self._call(write)
        self.trouble = None

    async def events_since(self, seq: int, limit: int | None = None) -> list[Logged]:
        return await self._call(
            lambda: self._select("WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit or -1)),
        )

    async def events_between(self, start: datetime, end: datetime) -> list[Logged]:
        bounds = (epoch_us(start), epoch_us(end))
        return await self._call(
            lambda: self._select("WHERE at_us >= ? AND at_us < ? ORDER BY seq", bounds)
        )

    async def visits_named(self, name: str) -> list[int]:
        def find() -> list[int]:
            assert self._conn is not None
            rows = self._conn.execute(
                "SELECT json_extract(data, '$.id') FROM events WHERE kind = 'ticket.checked_in'"
                " AND lower(trim(json_extract(data, '$.name'))) = lower(trim(?)) ORDER BY seq",
                (name,),
            )
            return [int(row[0]) for row in rows]

        return await self._call(find)

    async def visit_events(self, ticket_ids: list[int]) -> list[Logged]:
        return await self._call(
            lambda: self._select(
                "WHERE json_extract(data, '$.id') IN (SELECT value FROM json_each(?))"
                " AND kind LIKE 'ticket.%' ORDER BY seq",
                (json.dumps(ticket_ids),),
            )
        )

    async def record_privacy(self, by: str, action: str, detail: str) -> None:
        def record() -> None:
            assert self._conn is not None
            self._conn.execute(
                "INSERT INTO privacy_audit (at, by, action, detail) VALUES (?, ?, ?, ?)",
                (_now(), by, action, detail),
            )

        await self._call(record)

    async def privacy_audit(self) -> list[AuditEntry]:
        def read() -> list[AuditEntry]:
            assert self._conn is not None
            rows = self._conn.execute(
                "SELECT at, by, action, detail FROM privacy_audit ORDER BY id"
            )
            return [AuditEntry(*row) for row in rows]

        return await self._call(read)

    async def save_snapshot(self, seq: int, data: bytes) -> None:
        def save() -> None:
            conn = self._conn
            assert conn is not None
            with _transaction(conn):  # the new one in, the oldest out
                conn.execute(
                    "INSERT OR REPLACE INTO snapshots (seq, saved_at, data) VALUES (?, ?, ?)",
                    (seq, _now(), data),
                )
                conn.execute(
                    "DELETE FROM snapshots WHERE seq NOT IN"
                    " (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)",
                    (SNAPSHOTS_KEPT,),
                )

        await self._call(save)

    def _select(self, where: str, params: tuple[object, ...]) -> list[Logged]:
        assert self._conn is not None
        rows = self._conn.execute(f"SELECT seq, at, kind, data FROM events {where}", params)
        return [Logged(seq, decode_event(at, kind, data)) for seq, at, kind, data in rows]

    def _open_accounts(self) -> SqliteAccounts:
        assert self._accounts is not None, "store not open"
        return self._accounts

    # ------------------------------------------------------ the writer thread

    def _write_batch(self, batch: list[Write]) -> None:
        conn = self._conn
        assert conn is not None
        purges = purged_ids(event for write in batch for event in write.events)
        conn.execute("BEGIN IMMEDIATE")
        rows = [row for write in batch for row in write.rows]
        write_rows(conn, "INSERT", "events", EVENT_COLUMNS, rows)
        for ids in purges:
            scrub_private(conn, ids)
            conn.execute("DELETE FROM snapshots")  # they may hold what was erased
        write_records(self._records, batch)
        conn.execute("COMMIT")
        if purges:
            erase_old_pages(conn)

    def _failure(self, error: Exception) -> StorageFailed | None:
        return failure(error) if isinstance(error, (sqlite3.Error, OSError)) else None

    def _roll_back(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _take_up(self) -> int:
        assert self._conn is not None and self._records is not None
        self._records.restore()
        return int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed whole, or rolled back and raised as
    :class:`StorageFailed` (a full disk says so)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("COMMIT")
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        raise failure(exc) from exc
