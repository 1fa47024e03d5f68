"""Check-ins the server has not answered yet, kept in a small SQLite file on the kiosk.

A visitor who checks in while the server cannot be reached keeps their place: the check-in is
written here before it is first sent, so it survives a kiosk restart, and it leaves in arrival
order, each with its one ``client_request_id`` (the server answers a repeat with the same
ticket) and the moment the visitor touched the screen. A check-in is deleted once the server has
answered it, ticket or refusal: the name and needs in it stay on the kiosk no longer than that.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from lobby import protocol as p

SCHEMA = """
CREATE TABLE IF NOT EXISTS check_ins (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL
)
"""


class OutboxError(RuntimeError):
    """The outbox file cannot be opened or written; the message names the file."""


class Outbox:
    """A queue of ``CheckInRequest``s, oldest first. ``":memory:"`` keeps it for one run only."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a kept check-in is on disk
            self._db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise OutboxError(f"cannot keep check-ins in {self.path}: {error}") from None

    def add(self, request: p.CheckInRequest) -> None:
        """Keep ``request`` (with its ``arrived_at``) until the server has answered it."""
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO check_ins (request_id, body) VALUES (?, ?)",
                (request.client_request_id, msgspec.json.encode(request)),
            )

    def first(self) -> p.CheckInRequest | None:
        """The oldest check-in still to send."""
        row = self._db.execute("SELECT body FROM check_ins ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=p.CheckInRequest)

    def answered(self, request_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM check_ins WHERE request_id = ?", (request_id,))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM check_ins").fetchone()[0])

    def close(self) -> None:
        self._db.close()
