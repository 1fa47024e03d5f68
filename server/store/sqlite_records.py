"""The visit records in SQLite: their tables and period queries (``records_sql``), written
inside SQLite's own transactions and in multi-row statements (``sqlite_rows``).

Kept apart from ``sqlite.py`` (the log and accounts) because it is a whole subject of its own.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Mapping

from server.store.port import RecordReader, RecordsBehind
from server.store.records_sql import (
    SQLITE,
    Names,
    RecordQueries,
    RecordRows,
    Rows,
    emergency_schema,
    schema,
)
from server.store.sqlite_rows import write_rows

SCHEMA = schema(SQLITE)
"""Migration 5."""
EMERGENCY_SCHEMA = emergency_schema(SQLITE)
"""Migration 7."""


class RecordWriter(RecordRows[sqlite3.Connection]):
    dialect = SQLITE

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[object]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _upsert(self, table: str, columns: Names, key: Names, rows: Rows) -> None:
        write_rows(self.conn, "INSERT OR REPLACE", table, columns, rows)


class SqliteRecordReader(RecordQueries[sqlite3.Connection]):
    """On one read-only connection, inside one read transaction."""

    dialect = SQLITE

    def keep(self, key: str, summaries: Mapping[str, bytes]) -> None:
        """Keep the summaries of settled days; a cache, so a busy database just skips it."""
        if not summaries:
            return
        conn = self.conn
        with contextlib.suppress(sqlite3.OperationalError):
            if conn.in_transaction:
                conn.execute("COMMIT")
            conn.execute("PRAGMA query_only = OFF")
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR REPLACE INTO day_summaries (day, key, data) VALUES (?, ?, ?)",
                [(day, key, data) for day, data in summaries.items()],
            )
            conn.execute("COMMIT")


@contextlib.contextmanager
def read_records(conn: sqlite3.Connection) -> Iterator[RecordReader]:
    """One read transaction on ``conn`` (closed afterwards); refuses records that are behind."""
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")  # one snapshot for every query of the report
        reader = SqliteRecordReader(conn)
        if reader.behind():
            raise RecordsBehind(
                "the visit records are not built from the whole log yet; start the server once"
                " (it builds them), then ask again"
            )
        yield reader
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
        conn.close()
