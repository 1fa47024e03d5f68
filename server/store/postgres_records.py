"""The visit records in PostgreSQL: their tables and period queries (``records_sql``), written
inside psycopg's transactions as upserts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import psycopg

from server.store.port import RecordReader, RecordsBehind
from server.store.records_sql import (
    POSTGRES,
    Names,
    RecordQueries,
    RecordRows,
    Rows,
    emergency_schema,
    schema,
)

log = logging.getLogger("lobby.store")

SCHEMA = schema(POSTGRES)
"""Migration 2."""
EMERGENCY_SCHEMA = emergency_schema(POSTGRES)
"""Migration 3."""


@cache
def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    marks = ", ".join(["%s"] * len(columns))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


class RecordWriter(RecordRows[psycopg.Connection[Any]]):
    dialect = POSTGRES

    def _transaction(self) -> contextlib.AbstractContextManager[object]:
        return self.conn.transaction()

    def _upsert(self, table: str, columns: Names, key: Names, rows: Rows) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(_upsert(table, columns, key), rows)


class PostgresRecordReader(RecordQueries[psycopg.Connection[Any]]):
    """On a connection of its own, inside one read-only repeatable-read transaction."""

    dialect = POSTGRES

    def keep(self, key: str, summaries: Mapping[str, bytes]) -> None:
        """Keep the summaries of settled days; a cache, so a failure just skips it."""
        if not summaries:
            return
        conn = self.conn
        try:
            conn.commit()  # the read transaction ends here: this is the reader's last call
            conn.read_only = False
            with conn.transaction():
                conn.cursor().executemany(
                    _upsert("day_summaries", ("day", "key", "data"), ("day", "key")),
                    [(day, key, data) for day, data in summaries.items()],
                )
        except psycopg.Error as exc:
            log.warning("report summaries not kept: %s", exc)


@contextlib.contextmanager
def read_records(conn: psycopg.Connection[Any]) -> Iterator[RecordReader]:
    """One read-only repeatable-read transaction on ``conn`` (closed afterwards); refuses
    records that are behind."""
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        reader = PostgresRecordReader(conn)
        if reader.behind():
            raise RecordsBehind(
                "the visit records are not built from the whole log yet; start the server once"
                " (it builds them), then ask again"
            )
        yield reader
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.commit()
        conn.close()
