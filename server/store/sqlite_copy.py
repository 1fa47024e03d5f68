"""Backups and restores of an office's SQLite database, and the lock a serving office holds.

A backup is taken with SQLite's online backup API in one step, inside one read transaction of
its own: in WAL mode a reader never blocks the server's writer, and everything the copy holds
is the log exactly as it stood at one instant (each command's events together, nothing torn).
The events counted in that same transaction are the count the copy must hold; the copy is then
checked with ``PRAGMA integrity_check`` before it gets its final name, so a file under the
backup's name is always a whole, verified database.

A restore refuses while a server serves the database: a serving office holds an exclusive
``flock`` on ``<database>.lock`` for as long as it runs (the kernel releases it when the
process ends, even killed), and a restore takes that same lock first, so no server can start
on a half-restored file either. The database it replaces is kept beside it, never deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from server.store.port import UnusableStore
from server.store.sqlite import leftovers_of

LOCK_SUFFIX = ".lock"


class CopyRefused(Exception):
    """A backup or restore that cannot go on; the message is the one line the operator reads."""


class OfficeRunning(CopyRefused):
    """Another process serves this database (it holds the database's lock)."""


@dataclass(frozen=True)
class Copied:
    """A verified copy: where it is, how many events it holds and up to which seq."""

    path: Path
    events: int
    last_seq: int
    size: int
    seconds: float

    def line(self, verb: str, source: Path) -> str:
        megabytes = self.size / 1_000_000
        return (
            f"{verb} {source} to {self.path}: verified (integrity ok, {self.events} events,"
            f" up to seq {self.last_seq}), {megabytes:.1f} MB in {self.seconds:.2f} s"
        )


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + LOCK_SUFFIX)


def is_url(db: str | Path) -> bool:
    """A database named by URL (another store) has no file to lock or copy."""
    return "://" in str(db)


@contextlib.contextmanager
def office_lock(db: str | Path, doing: str = "serving") -> Iterator[None]:
    """Hold ``<database>.lock`` exclusively for the block, or raise :class:`OfficeRunning`
    naming the process that holds it. The lock file stays; only the kernel's lock comes and
    goes, so there is no stale lock to clean up after a crash."""
    if is_url(db):
        yield
        return
    path = lock_path(Path(db))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a+")  # noqa: SIM115 (held for the whole block)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise OfficeRunning(
                f"{db} is in use by a running office ({holder}, holding {path}): stop the"
                " server first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} {doing}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


@contextlib.contextmanager
def serving(db: str | Path) -> Iterator[None]:
    """The lock a server holds while it serves ``db``: a second server, or a restore, on the
    same database is refused while it runs."""
    try:
        with office_lock(db):
            yield
    except OfficeRunning as running:
        raise UnusableStore(str(running)) from None


def _source(path: Path) -> sqlite3.Connection:
    if not path.is_file() or path.stat().st_size == 0:
        raise CopyRefused(f"there is no database at {path}")
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _counted(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    """The events a Lobby database holds and its last seq (refused if it is not one)."""
    try:
        row = conn.execute("SELECT count(*), COALESCE(MAX(seq), 0) FROM events").fetchone()
    except sqlite3.DatabaseError as exc:
        raise CopyRefused(f"{path} is not a Lobby database ({exc})") from None
    return int(row[0]), int(row[1])


def verify(path: Path, events: int) -> tuple[int, int]:
    """A whole ``integrity_check`` and the event count of the copy at ``path``; raises
    :class:`CopyRefused` saying what is wrong. Returns (events, last seq)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise CopyRefused(f"the copy at {path} is damaged: {'; '.join(problems)}")
        counted, last_seq = _counted(conn, path)
    except sqlite3.DatabaseError as exc:
        raise CopyRefused(f"the copy at {path} cannot be read ({exc})") from None
    finally:
        conn.close()
    if counted != events:
        raise CopyRefused(f"the copy at {path} holds {counted} events, the source {events}")
    return counted, last_seq


def backup_target(dest: str | Path, now: datetime | None = None) -> Path:
    """``dest`` itself, or a new file named for the moment inside it when it is a folder (so a
    nightly timer keeps one file per night)."""
    if Path(dest).is_dir() or str(dest).endswith(os.sep):
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        return Path(dest) / f"lobby-{stamp}.db"
    return Path(dest)


def backup(db: Path, dest: str | Path) -> Copied:
    """A consistent copy of the database at ``db`` (served or not) at ``dest``, verified."""
    started = time.perf_counter()
    source = _source(db)
    target = backup_target(dest)
    partial = target.with_name(target.name + ".partial")
    try:
        if target.exists():
            raise CopyRefused(f"{target} exists already: name a new file or a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        # One read transaction: the count and the copy see the same instant of the log.
        source.execute("BEGIN")
        events, _ = _counted(source, db)
        counted, last_seq = _verified_copy(source, partial, events)
        source.execute("COMMIT")
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise CopyRefused(f"the backup of {db} failed: {exc}") from None
    finally:
        source.close()
    partial.rename(target)
    return Copied(target, counted, last_seq, target.stat().st_size, time.perf_counter() - started)


def _verified_copy(source: sqlite3.Connection, path: Path, events: int) -> tuple[int, int]:
    """The database of ``source`` copied into a new, self-contained file at ``path`` (no
    ``-wal`` beside it), verified and flushed to disk; the file is removed if the check fails.
    Returns (events, last seq)."""
    path.unlink(missing_ok=True)
    copy = sqlite3.connect(str(path), isolation_level=None)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    try:
        checked = verify(path, events)
    except CopyRefused:
        path.unlink(missing_ok=True)
        raise
    _fsync(path)
    return checked


def restore(src: Path, db: Path) -> tuple[Copied, list[Path]]:
    """Put the backup at ``src`` in place of the database at ``db`` (refused while an office
    serves it), verified; returns the copy and where the replaced files were kept."""
    started = time.perf_counter()
    source = _source(src)
    try:
        problems = [row[0] for row in source.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise CopyRefused(f"{src} is damaged ({'; '.join(problems)}): restore another backup")
        events, _ = _counted(source, src)
        with office_lock(db, "restoring"):
            incoming = db.with_name(db.name + ".restoring")
            counted, last_seq = _verified_copy(source, incoming, events)
            kept = _set_aside(db)
            incoming.rename(db)
    except sqlite3.Error as exc:
        raise CopyRefused(f"the restore of {src} failed: {exc}") from None
    finally:
        source.close()
    copied = Copied(db, counted, last_seq, db.stat().st_size, time.perf_counter() - started)
    return copied, kept


def _set_aside(db: Path) -> list[Path]:
    """Rename the database being replaced and the files SQLite keeps beside it (a write-ahead
    log left by a crash must never be replayed over the restored copy); nothing is deleted.
    Only called under the office's lock, so no server has them open."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = []
    for old in [db, *leftovers_of(db)]:
        if old.exists():
            aside = old.with_name(f"{old.name}.before-restore-{stamp}")
            old.rename(aside)
            kept.append(aside)
    return kept


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
