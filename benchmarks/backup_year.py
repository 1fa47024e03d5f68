"""``lobby backup`` of a year-sized database, idle and while the office serves and checks in.

The year is the one ``benchmarks.year_start`` builds and caches (250 working days of 2,000
visits). Two figures: the backup of the file with nothing else running, and the same backup
taken while ``lobby serve`` serves a copy of it with a kiosk checking visitors in one after
another the whole time: how long the backup takes then, and how the check-ins fared meanwhile
(every one answered, the slowest answer), since a backup must not stall the lobby.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.figures import note, percentile
from benchmarks.servers import BIN, ROOT, ServerProcess, free_port, seed_lobby
from benchmarks.year_start import BUSY_CONFIG, START_TIMEOUT, cached_year
from lobby import protocol as p
from lobby.client import ApiError, LobbyClient, ServerUnreachable
from server.config import load_config

WARM_UP_CHECK_INS = 5
BASELINE_SEC = 5.0


@dataclass
class BackupRun:
    label: str
    line: str = ""
    seconds: float = 0.0
    answers: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    """Check-in answers in the seconds before the backup: the same kiosk, no backup."""
    failed: int = 0


def timed_backup(db: Path, dest: Path) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "lobby"), "backup", str(dest), "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - began, done.stdout.strip()


async def checking_in(url: str, token: str, run: BackupRun, stop: asyncio.Event) -> None:
    async with LobbyClient(url, token, timeout=30) as kiosk:
        i = 0
        while not stop.is_set():
            request = p.CheckInRequest(service="permits", client_request_id=f"backup-{i:06d}")
            began = time.perf_counter()
            try:
                await kiosk.check_in(request)
                run.answers.append(time.perf_counter() - began)
            except (ApiError, ServerUnreachable):
                run.failed += 1
            i += 1


async def backup_while_serving(url: str, token: str, db: Path, dest: Path) -> BackupRun:
    run = BackupRun("while serving, a kiosk checking in")
    stop = asyncio.Event()
    kiosk = asyncio.create_task(checking_in(url, token, run, stop))
    while len(run.answers) < WARM_UP_CHECK_INS:  # a first command may pay for the start
        await asyncio.sleep(0.1)
    await asyncio.sleep(BASELINE_SEC)
    before = len(run.answers)
    run.baseline = list(run.answers[WARM_UP_CHECK_INS:])
    run.seconds, run.line = await asyncio.to_thread(timed_backup, db, dest)
    stop.set()
    await kiosk
    run.answers = run.answers[before:]
    return run


def backup_runs(workdir: Path) -> list[BackupRun]:
    year = cached_year(load_config(BUSY_CONFIG))
    idle = BackupRun("the year's file, nothing else running")
    idle.seconds, idle.line = timed_backup(year, workdir / "idle-backup.db")
    (workdir / "idle-backup.db").unlink()
    note("backup: copying the year to serve it")
    served_db = workdir / "year-served.db"
    shutil.copyfile(year, served_db)
    accounts = seed_lobby(served_db)
    port = free_port()
    serve = ["serve", "--config", str(BUSY_CONFIG), "--db", str(served_db)]
    server = ServerProcess(
        "lobby",
        [str(BIN / "lobby"), *serve, "--port", str(port)],
        port,
        workdir / "year-served.log",
    )
    server.wait_ready(START_TIMEOUT)  # its first start replays the year
    try:
        served = asyncio.run(
            backup_while_serving(
                f"http://127.0.0.1:{port}",
                accounts.kiosk,
                served_db,
                workdir / "served-backup.db",
            )
        )
    finally:
        server.stop()
    return [idle, served]


def print_backups(runs: list[BackupRun], section: int = 9) -> None:
    print(f"\n{section}. lobby backup of a year (the cached year of section 5)")
    for run in runs:
        print(f"   {run.label}: {run.seconds:.1f} s for the command")
        print(f"      {run.line}")
        if run.answers or run.failed:
            print(
                f"      meanwhile {len(run.answers):,} check-ins answered, {run.failed} failed;"
                f" p50 {percentile(run.answers, 50) * 1000:.1f} ms,"
                f" max {max(run.answers, default=0) * 1000:.0f} ms (without a backup, just"
                f" before: p50 {percentile(run.baseline, 50) * 1000:.1f} ms,"
                f" max {max(run.baseline, default=0) * 1000:.0f} ms)"
            )
