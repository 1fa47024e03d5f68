"""A start on a damaged, missing or foreign database refuses with one line; it never serves a
broken office, nor quietly begins an empty one where a real one was."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from server.app import create_app
from server.config import OfficeConfig, parse_config
from server.store.port import UnusableStore
from server.store.sqlite import MIGRATIONS, SqliteStore
from tests.conftest import CONFIG_PATH, RunningServer, free_port, seed_accounts, visitor

LOBBY = [sys.executable, "-m", "lobby.cli"]


def serve(db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``lobby serve`` on ``db``: a refused start returns its exit code; one that answers
    ``/healthz`` is stopped with SIGTERM and returns -1."""
    port = free_port()
    where = ["--config", str(CONFIG_PATH), "--db", str(db), "--port", str(port)]
    process = subprocess.Popen(
        [*LOBBY, "serve", *where, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    served = False
    while process.poll() is None and time.monotonic() < deadline and not served:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                served = True
        except OSError:
            time.sleep(0.1)
    if served:
        process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    return subprocess.CompletedProcess(process.args, -1 if served else process.returncode, out, err)


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start printed."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("lobby: not starting: ")
    return lines[0]


async def an_office_with_a_day(tmp_path: Path, config: OfficeConfig) -> Path:
    """A database the server served: accounts, a few check-ins."""
    db = tmp_path / "lobby.db"
    running = RunningServer(config, db, free_port(), seed_accounts(db))
    await running.start()
    try:
        for n in range(3):
            await running.kiosk().check_in(visitor(f"day-one-{n:02d}"))
    finally:
        for client in running.clients:
            await client.close()
        await running.stop()
    return db


def opens(db: Path, office: str | None = None) -> None:
    """Open the store on ``db`` as the command line does (and close it again)."""
    with SqliteStore(db, office=office).offline():
        pass


async def test_a_truncated_database_is_refused_with_one_line(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    db = await an_office_with_a_day(tmp_path, office_config)
    with db.open("r+b") as file:
        file.truncate(db.stat().st_size // 2)
    line = refusal(serve(db))
    assert "damaged" in line and "backup" in line


async def test_a_database_cut_to_nothing_is_refused_not_started_empty(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    db = await an_office_with_a_day(tmp_path, office_config)
    db.write_bytes(b"")
    assert "empty (0 bytes)" in refusal(serve(db))


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "lobby.db"
    db.write_text("not a database, just some notes\n" * 200)
    with pytest.raises(UnusableStore, match="damaged or not a Lobby database"):
        opens(db)
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(UnusableStore, match="not a Lobby database"):
        opens(other)


async def test_a_deleted_database_with_its_write_ahead_log_left_is_refused_until_init(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    db = await an_office_with_a_day(tmp_path, office_config)
    wal = db.with_name(db.name + "-wal")
    with contextlib.closing(sqlite3.connect(db)) as conn:  # a writer mid-way: the log is there
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(
            "INSERT INTO staff (name, role, password_hash, created_at) VALUES"
            " ('late', 'clerk', 'x', 'now')"
        )
        conn.commit()
        shutil.copy(wal, tmp_path / "kept-wal")
    db.unlink()
    shutil.copy(tmp_path / "kept-wal", wal)

    line = refusal(serve(db))
    assert "lobby.db-wal is still beside it" in line and "--init" in line
    assert not db.exists(), "nothing was created over the lost database"
    staff_add = subprocess.run(
        [*LOBBY, "staff", "add", "dana", "--role", "clerk", "--db", str(db)],
        input="a long enough password\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert staff_add.returncode == 2 and "Traceback" not in staff_add.stderr
    assert "still beside it" in staff_add.stderr and not db.exists()

    started = serve(db, "--init")
    assert started.returncode == -1, started.stderr  # it served until cut short
    assert db.exists() and list(tmp_path.glob("lobby.db-wal.set-aside-*")), "set aside, kept"


def test_no_database_at_all_needs_init_to_start_a_new_office(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    line = refusal(serve(db))
    assert "no database at" in line and "--init" in line
    assert not db.exists()
    store = SqliteStore(db, create=True, init=True, office="Test City Hall")
    store.open()
    assert store.last_seq == 0 and db.exists()


async def test_a_database_of_a_newer_schema_or_of_another_office_is_refused(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    db = await an_office_with_a_day(tmp_path, office_config)
    other = parse_config(CONFIG_PATH.read_text().replace("Test City Hall", "Harbor Branch"))
    with pytest.raises(UnusableStore, match="the database of 'Test City Hall', not of 'Harbor"):
        opens(db, office=other.name)

    app = create_app(other, db)  # the server's own start refuses in the same words
    runner_error = None
    try:
        from aiohttp import web

        runner = web.AppRunner(app)
        await runner.setup()
    except UnusableStore as error:
        runner_error = error
    assert runner_error is not None and "not of 'Harbor Branch'" in str(runner_error)

    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(UnusableStore, match="newer than this Lobby knows"):
        opens(db)


async def test_demo_setup_makes_the_database_that_serve_then_starts(tmp_path: Path) -> None:
    db = tmp_path / "var" / "lobby.db"
    setup = subprocess.run(
        [*LOBBY, "demo-setup", "--db", str(db)], capture_output=True, text=True, check=False
    )
    assert setup.returncode == 0, setup.stderr
    started = serve(db)
    assert started.returncode == -1, started.stderr
    assert "replayed 0 events" in started.stderr
