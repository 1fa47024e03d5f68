"""Read-only looks at an SQLite database file for ``lobby doctor``: never a write, never a
lock the server would wait on (a reader in WAL mode does not block its writer)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path


class Unreadable(Exception):
    """The file is not a database SQLite can read."""


def _pragma(path: Path, name: str) -> str:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return str(conn.execute(f"PRAGMA {name}").fetchone()[0])
    except sqlite3.Error as exc:
        raise Unreadable(str(exc)) from None


def journal_mode(path: Path) -> str:
    """``wal`` for a database the server has opened (it sets WAL on every open)."""
    return _pragma(path, "journal_mode")


def quick_check(path: Path) -> str:
    """SQLite's quick integrity check: ``ok``, or the first thing found wrong."""
    return _pragma(path, "quick_check")
