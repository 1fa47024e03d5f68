"""`lobby backup` copies a serving office under load, verified; `lobby restore` puts a copy
back, and refuses while a server serves the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from pathlib import Path

from tests.conftest import CONFIG_PATH, RunningServer, visitor

LOBBY = [sys.executable, "-m", "lobby.cli"]


async def lobby(*args: str) -> tuple[int, str, str]:
    """The real command in its own process, as an operator (or a timer) runs it."""
    process = await asyncio.create_subprocess_exec(
        *LOBBY, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def checked_in_ids(db: Path) -> list[int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT data FROM events WHERE kind = 'ticket.checked_in'")
        return [json.loads(data)["id"] for (data,) in rows]


async def test_backup_under_load_holds_every_acknowledged_check_in(
    server: RunningServer, tmp_path: Path
) -> None:
    kiosks = [server.kiosk() for _ in range(4)]
    acknowledged: list[int] = []
    stop = asyncio.Event()

    async def check_ins(kiosk_no: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            ticket = await kiosks[kiosk_no].check_in(visitor(f"backup-{kiosk_no}-{n:05d}"))
            acknowledged.append(ticket.id)

    streams = [asyncio.create_task(check_ins(k)) for k in range(len(kiosks))]
    while len(acknowledged) < 40:
        await asyncio.sleep(0.01)
    before = list(acknowledged)  # answered 201 before the copy began
    code, out, err = await lobby("backup", str(tmp_path / "copies") + "/", "--db", str(server.db))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*streams)

    assert code == 0, err
    assert len(out.splitlines()) == 1 and "verified (integrity ok," in out
    (copy,) = (tmp_path / "copies").iterdir()
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count, last = conn.execute("SELECT count(*), max(seq) FROM events").fetchone()
    assert f"{count} events, up to seq {last})" in out
    assert count == last  # the log's prefix, whole: no seq missing, nothing torn
    held = set(checked_in_ids(copy))
    assert set(before) <= held
    # The server kept answering after the copy, and what came after is not in it.
    assert set(checked_in_ids(server.db)) >= held
    assert len(acknowledged) > len(held)


async def test_restore_is_refused_while_the_office_serves_then_puts_the_copy_back(
    server: RunningServer, tmp_path: Path
) -> None:
    kiosk = server.kiosk()
    kept = await kiosk.check_in(visitor("restore-kept-0001"))
    copy = tmp_path / "nightly.db"
    code, out, err = await lobby("backup", str(copy), "--db", str(server.db))
    assert code == 0, err
    lost = await kiosk.check_in(visitor("restore-after-0002"))

    code, out, err = await lobby("restore", str(copy), "--db", str(server.db))
    assert code == 2 and out == ""
    assert "in use by a running office" in err and "stop the server first" in err
    assert "Traceback" not in err
    assert lost.id in checked_in_ids(server.db)  # untouched

    await server.stop()
    code, out, err = await lobby("restore", str(copy), "--db", str(server.db))
    assert code == 0, err
    assert out.startswith(f"restored {copy} to {server.db}: verified (integrity ok,")
    assert "the database it replaced is kept as" in out
    replaced = [p for p in tmp_path.iterdir() if ".before-restore-" in p.name]
    assert any(lost.id in checked_in_ids(p) for p in replaced if p.name.startswith("lobby.db."))

    await server.start()
    staff = await server.staff("clerk")
    state = await staff.state()
    open_ids = {t.id for t in state.tickets if t.state == "waiting"}
    assert kept.id in open_ids and lost.id not in open_ids


async def test_a_second_server_on_a_served_database_is_refused(server: RunningServer) -> None:
    code, _, err = await lobby(
        "serve", "--config", str(CONFIG_PATH), "--db", str(server.db), "--port", "1"
    )
    assert code == 2
    assert "not starting:" in err and "in use by a running office" in err


async def test_backup_and_restore_refuse_what_is_not_a_database(tmp_path: Path) -> None:
    code, _, err = await lobby("backup", str(tmp_path / "b.db"), "--db", str(tmp_path / "no.db"))
    assert code == 2 and "there is no database at" in err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    code, _, err = await lobby("restore", str(junk), "--db", str(tmp_path / "lobby.db"))
    assert code == 2 and "Traceback" not in err
    assert not (tmp_path / "lobby.db").exists()
