"""Headquarters' database: its offices, and each office's copy of its log and visit records.

Headquarters' own tables live in the connection's current schema (a URL's
``options=-csearch_path=...`` chooses another), numbered in their own ledger (``hq_schema``),
so an office store can never mistake headquarters' database for its own. Each registered office
gets a schema of its own beside it (``<schema>_o_<number>``) laid out exactly as an office's
PostgreSQL store (``server.store.postgres.MIGRATIONS``): its events under the office's own
seqs, and the visit records the office's reports read, folded by the same code. So a report at
headquarters is the office's own report, computed by the same queries, and a migration of the
office store applies to headquarters' copies too.
"""

from __future__ import annotations

import contextlib
import queue
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from server.auth import hash_token
from server.hq.wire import Profile
from server.reports.records import Layout
from server.store.port import RecordReader, UnusableStore
from server.store.postgres import MIGRATIONS, connect, migrate, prepared, where
from server.store.postgres_records import read_records

LEDGER = "hq_schema"
HQ_MIGRATIONS: list[str] = [
    # 1: the offices, each with its token (hashed), its schema, and its live summary: folded
    # from its events as they arrive, so the overview reads one row per office
    """
    CREATE TABLE hq_offices (
        id TEXT PRIMARY KEY,
        number BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
        token_hash TEXT NOT NULL UNIQUE,
        added_at TEXT NOT NULL,
        profile TEXT,
        received_seq BIGINT NOT NULL DEFAULT 0,
        head_seq BIGINT NOT NULL DEFAULT 0,
        events_received BIGINT NOT NULL DEFAULT 0,
        duplicates_received BIGINT NOT NULL DEFAULT 0,
        last_event_at TEXT,
        heard_at TEXT,
        counters_open INTEGER NOT NULL DEFAULT 0,
        waiting TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 2: the people who may read the overview and the reports, each with a token (hashed)
    """
    CREATE TABLE hq_viewers (
        name TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        added_at TEXT NOT NULL
    );
    """,
]
POOL_SIZE = 4


def _now() -> str:
    return datetime.now().astimezone().isoformat()


def current_schema(conn: psycopg.Connection[Any]) -> str:
    found = conn.execute("SELECT current_schema()").fetchone()
    if found is None or found[0] is None:
        raise UnusableStore("the headquarters database has no schema to use: check search_path")
    return str(found[0])


def office_schema(hq_schema: str, number: int) -> str:
    return f"{hq_schema}_o_{number}"


def open_hq(url: str) -> psycopg.Connection[Any]:
    """A connection to headquarters' migrated schema, or :class:`UnusableStore` saying why."""

    def prepare(conn: psycopg.Connection[Any]) -> None:
        tables = {
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        if "lobby_schema" in tables:
            raise UnusableStore(
                f"{where(url)} is an office's database, not headquarters': give `lobby hq`"
                " a database (or schema) of its own"
            )
        current_schema(conn)
        migrate(conn, HQ_MIGRATIONS, LEDGER)

    return prepared(url, prepare)


def drop_headquarters(conn: psycopg.Connection[Any], hq_schema: str) -> None:
    """Remove a headquarters schema and every office copy beside it (tests, benchmarks, or
    an agency taking a headquarters down)."""
    copies = office_schema(hq_schema, 0).removesuffix("0").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname = %s OR nspname LIKE %s",
        (hq_schema, copies),
    ).fetchall()
    for (name,) in rows:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def use_office(conn: psycopg.Connection[Any], hq_schema: str, number: int) -> None:
    """Point the connection's unqualified names at one office's copy."""
    conn.execute(
        sql.SQL("SET search_path TO {}").format(sql.Identifier(office_schema(hq_schema, number)))
    )


def add_office(url: str, office_id: str) -> str:
    """Register an office (or re-issue its token: the old one stops working); returns the new
    token, which is stored only hashed."""
    token = secrets.token_urlsafe(32)
    with contextlib.closing(open_hq(url)) as conn:
        hq = current_schema(conn)
        with conn.transaction():
            found = conn.execute(
                sql.SQL(
                    "INSERT INTO {}.hq_offices (id, token_hash, added_at) VALUES (%s, %s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash"
                    " RETURNING number"
                ).format(sql.Identifier(hq)),
                (office_id, hash_token(token), _now()),
            ).fetchone()
            assert found is not None
            number = int(found[0])
            schema = office_schema(hq, number)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        use_office(conn, hq, number)
        migrate(conn, MIGRATIONS)
    return token


def add_viewer(url: str, name: str) -> str:
    """Let someone read the overview and the reports (or re-issue their token); returns the
    token, stored only hashed."""
    token = secrets.token_urlsafe(32)
    with contextlib.closing(open_hq(url)) as conn:
        conn.execute(
            "INSERT INTO hq_viewers (name, token_hash, added_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash",
            (name, hash_token(token), _now()),
        )
    return token


@dataclass(frozen=True)
class Office:
    """A registered office as headquarters' tables hold it."""

    id: str
    number: int
    token_hash: str
    profile: Profile | None
    received_seq: int
    head_seq: int
    events_received: int
    duplicates_received: int
    last_event_at: str | None
    heard_at: str | None
    counters_open: int
    waiting: dict[str, tuple[int, int]]
    """service -> (visitors waiting, arrival of the longest waiting in epoch microseconds)"""


def layout_of(profile: Profile | None) -> Layout | None:
    """The office's counters and their services as its visit records need them."""
    if profile is None:
        return None
    return {c.id: tuple(c.services) for c in profile.counters}


OFFICE_COLUMNS = (
    "id, number, token_hash, profile, received_seq, head_seq, events_received,"
    " duplicates_received, last_event_at, heard_at, counters_open, waiting"
)


def office_from(found: tuple[Any, ...]) -> Office:
    profile = None if found[3] is None else msgspec.json.decode(found[3], type=Profile)
    waiting = {s: (int(n), int(t)) for s, (n, t) in msgspec.json.decode(found[11]).items()}
    return Office(
        found[0],
        int(found[1]),
        found[2],
        profile,
        int(found[4]),
        int(found[5]),
        int(found[6]),
        int(found[7]),
        found[8],
        found[9],
        int(found[10]),
        waiting,
    )


class Pool:
    """A few autocommit connections to headquarters, each used by one thread at a time."""

    def __init__(self, url: str, size: int = POOL_SIZE) -> None:
        self.url = url
        first = open_hq(url)
        self.schema = current_schema(first)
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._idle.put(first)
        for _ in range(size - 1):
            self._idle.put(connect(url))

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._idle.get()
        try:
            if conn.closed or conn.broken:
                conn = connect(self.url)
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            yield conn
        finally:
            self._idle.put(conn)

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get().close()

    def viewer(self, token: str) -> str | None:
        """Whose viewer token this is; None for an unknown one."""
        with self.connection() as conn:
            found = conn.execute(
                "SELECT name FROM hq_viewers WHERE token_hash = %s", (hash_token(token),)
            ).fetchone()
            return None if found is None else str(found[0])

    def offices(self) -> list[Office]:
        with self.connection() as conn:
            rows = conn.execute(f"SELECT {OFFICE_COLUMNS} FROM hq_offices ORDER BY id")
            return [office_from(r) for r in rows]


@contextlib.contextmanager
def office_records(url: str, hq_schema: str, number: int) -> Iterator[RecordReader]:
    """The visit records of one office's copy, read as the office store reads its own: one
    repeatable-read transaction on a connection of its own."""
    conn = connect(url)
    try:
        use_office(conn, hq_schema, number)
        conn.autocommit = False
    except BaseException:
        conn.close()
        raise
    with read_records(conn) as reader:
        yield reader


def offices_of(url: str) -> tuple[str, list[Office]]:
    """Headquarters' schema and its offices, for the command line."""
    with contextlib.closing(open_hq(url)) as conn:
        schema = current_schema(conn)
        rows = conn.execute(f"SELECT {OFFICE_COLUMNS} FROM hq_offices ORDER BY id")
        return schema, [office_from(r) for r in rows]
