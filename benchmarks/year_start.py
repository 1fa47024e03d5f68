"""Starting the server on a year of history, next to starting it on an empty office.

An office's log grows by some 10,000 events a working day. The year is built once (about 250
working days of 2,000 visits at the busy office's 24 counters) and cached under ``var/bench/``:
the visits are decided by the real engine, offline, with the clock of each simulated moment,
and their events written through the log's own encoding into a database the store created, as
the server would have written them over the year (private data erased after the retention
period, as housekeeping does each day). The last working day is before today, so nothing is
left open when the server starts.

Measured, with ``lobby serve`` on a copy of that database: the time from starting the process to
the first ``/healthz`` answered 200, and the resident memory (RSS) once it answers. Three starts:
an empty office (the baseline), the year without a snapshot (the first start replays the whole
log, then saves a snapshot at shutdown), and the year again (the start from that snapshot).
"""

from __future__ import annotations

import asyncio
import base64
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks.busy_office import BUSY_CONFIG
from benchmarks.figures import note
from benchmarks.servers import BIN, ROOT, free_port, seed_lobby
from server.config import OfficeConfig, load_config
from server.engine import Engine, Event, Refused
from server.reports.records import counter_layout
from server.store.encoding import encode_event, epoch_us
from server.store.port import PRIVATE_FIELDS
from server.store.sqlite import SqliteStore

WORKING_DAYS = 250
VISITS_PER_DAY = 2000
BUILD = 1
"""Part of the cached file's name: raise it when the year is built differently."""
CACHE = ROOT / "var" / "bench"
OPENS, CLOSES = 8, 18  # the hours the simulated office takes visitors
STEP = timedelta(seconds=15)
WRITE_BATCH = 20_000
START_TIMEOUT = 300.0
SETTLE_SEC = 2.0
"""Memory is read again this long after the first answer, once housekeeping has run."""

TARGET_START_SEC = 5.0
TARGET_RSS_MB = 150.0


# ------------------------------------------------------------------- the year


@dataclass
class Desk:
    """One counter of the simulated office: what it does next, and when."""

    id: str
    ticket: int | None = None
    started: bool = False
    until: datetime | None = None


class YearWriter:
    """Events in seq order into the log, held back until the retention purge has erased
    what it erases (the store scrubs the log in the same commit as the purge)."""

    def __init__(self, conn: sqlite3.Connection, retention_days: int) -> None:
        self.conn = conn
        self.retention = timedelta(days=retention_days)
        self.seq = 0
        self.held: list[tuple[int, Event]] = []
        self.private: dict[int, list[Event]] = {}
        self.written = 0

    def add(self, events: list[Event]) -> None:
        for event in events:
            self.seq += 1
            self.held.append((self.seq, event))
            if event.kind in PRIVATE_FIELDS:
                self.private.setdefault(event.data["id"], []).append(event)
            if event.kind == "tickets.purged":
                for ticket_id in event.data["ids"]:
                    for logged in self.private.pop(ticket_id, []):
                        logged.data.update(dict.fromkeys(PRIVATE_FIELDS[logged.kind]))

    def flush(self, before: date | None) -> None:
        """Write what no later purge can touch any more (everything, for ``None``)."""
        cut = len(self.held)
        if before is not None:
            limit = before - self.retention - timedelta(days=2)
            cut = next((i for i, (_, e) in enumerate(self.held) if e.at.date() >= limit), cut)
        ready, self.held = self.held[:cut], self.held[cut:]
        for start in range(0, len(ready), WRITE_BATCH):
            rows = [
                (seq, *encode_event(e), epoch_us(e.at))
                for seq, e in ready[start : start + WRITE_BATCH]
            ]
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT INTO events (seq, at, kind, data, at_us) VALUES (?, ?, ?, ?, ?)", rows
            )
            self.conn.execute("COMMIT")
        for _, event in ready:
            if event.kind in PRIVATE_FIELDS:
                self.private.pop(event.data["id"], None)
        self.written += len(ready)


def working_days(last: date, count: int) -> list[date]:
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def simulate_day(
    engine: Engine, day: date, rng: random.Random, writer: YearWriter, staff: list[str]
) -> None:
    """One working day: counters open, visitors arrive through the day and are served in turn,
    the supervisor closes the day; the next morning's housekeeping purges expired data."""
    config = engine.config
    tz = config.tz
    opening = datetime.combine(day, datetime.min.time(), tz).replace(hour=OPENS)
    closing = opening.replace(hour=CLOSES)
    writer.add(engine.purge_private(opening))
    services = [s.id for s in config.services]
    desks = [Desk(c.id) for c in config.counters]
    for desk, name in zip(desks, staff, strict=False):
        writer.add(engine.open_counter(opening, desk.id, name))
    span = (closing - opening).total_seconds()
    arrivals = sorted(rng.uniform(0, span) for _ in range(VISITS_PER_DAY))
    arriving = 0
    moment = opening
    while moment < closing + timedelta(hours=1):
        while (
            arriving < len(arrivals) and opening + timedelta(seconds=arrivals[arriving]) <= moment
        ):
            arriving += 1
            check_in(engine, moment, rng, writer, services, f"{day}-{arriving}")
        for desk in desks:
            step_desk(engine, desk, moment, rng, writer)
        moment += STEP
    writer.add(engine.close_day(moment))
    for desk in desks:
        writer.add(engine.close_counter(moment, desk.id))


def check_in(
    engine: Engine,
    now: datetime,
    rng: random.Random,
    writer: YearWriter,
    services: list[str],
    request_id: str,
) -> None:
    named = rng.random() < 0.3
    try:
        ticket, events = engine.check_in(
            now,
            service=rng.choice(services),
            request_id=request_id,
            status_token=base64.urlsafe_b64encode(rng.randbytes(12)).decode(),
            name=f"Visitor {request_id}" if named else None,
            needs=("hearing",) if rng.random() < 0.05 else (),
            ui_language=rng.choice(("en", "en", "es", "so")),
        )
    except Refused:
        return
    writer.add(events)
    writer.add(engine.acknowledge(now, ticket.id, "printed"))


def step_desk(
    engine: Engine, desk: Desk, now: datetime, rng: random.Random, writer: YearWriter
) -> None:
    if desk.ticket is None:
        try:
            ticket, events = engine.call_next(now, desk.id)
        except Refused:
            return
        writer.add(events)
        desk.ticket, desk.started, desk.until = ticket.id, False, now + STEP * rng.randint(1, 3)
        return
    assert desk.until is not None
    if now < desk.until:
        return
    if not desk.started:
        if rng.random() < 0.04:
            writer.add(engine.no_show(now, desk.ticket))
            desk.ticket = None
            return
        writer.add(engine.start(now, desk.ticket))
        desk.started = True
        desk.until = now + timedelta(minutes=rng.expovariate(1 / 5.5))
        return
    note_text = "Came back with the form" if rng.random() < 0.1 else None
    writer.add(engine.complete(now, desk.ticket, rng.random() < 0.9, note_text, "staff"))
    desk.ticket = None


def build_year(path: Path, config: OfficeConfig) -> None:
    """The year's database at ``path``, written beside it first so a broken build is never
    mistaken for a finished one."""
    partial = path.with_suffix(".partial")
    for leftover in partial.parent.glob(partial.name + "*"):
        leftover.unlink()
    with SqliteStore(partial).offline():
        pass  # the store lays down its schema
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    engine = Engine(config)
    writer = YearWriter(conn, config.retention_days)
    rng = random.Random(2026)
    staff = [f"staff-{n:02d}" for n in range(len(config.counters))]
    days = working_days(date.today() - timedelta(days=1), WORKING_DAYS)
    began = time.perf_counter()
    for number, day in enumerate(days, start=1):
        simulate_day(engine, day, rng, writer, staff)
        writer.flush(day)
        if number % 25 == 0:
            note(
                f"year: {number}/{len(days)} days, {writer.seq:,} events,"
                f" {time.perf_counter() - began:.0f} s"
            )
    writer.flush(None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    partial.replace(path)


def cached_year(config: OfficeConfig) -> Path:
    path = CACHE / f"year-{BUILD}-{WORKING_DAYS}x{VISITS_PER_DAY}.db"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        note(f"building a year of history once, into {path}")
        build_year(path, config)
    with_records(path, config)
    return path


def with_records(path: Path, config: OfficeConfig) -> None:
    """Let the store build its visit records into the cached year, once (a few minutes), as the
    first start after an upgrade does: every copy then starts with them in place."""
    store = SqliteStore(path, layout=counter_layout(config))
    began = time.perf_counter()
    store.open()
    asyncio.run(store.close())
    if time.perf_counter() - began > 1:
        note(f"year: the visit records built in {time.perf_counter() - began:.0f} s")


# ------------------------------------------------------------------ the starts


@dataclass
class Start:
    label: str
    events: int
    seconds: float
    rss_mb: float
    peak_mb: float
    log_lines: list[str]


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MiB."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def timed_start(label: str, db: Path, config: Path, workdir: Path) -> Start:
    port = free_port()
    log_path = workdir / f"{label.replace(' ', '-')}.log"
    command = [str(BIN / "lobby"), "serve", "--config", str(config), "--db", str(db)]
    with sqlite3.connect(db) as conn:
        events = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    with open(log_path, "wb") as log:
        began = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            seconds = wait_healthy(process, port, began)
            time.sleep(SETTLE_SEC)
            rss, peak = memory_mb(process.pid)
        finally:
            process.send_signal(2)  # SIGINT: a graceful stop, which saves a snapshot
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    lines = [
        line.strip()
        for line in log_path.read_text(errors="replace").splitlines()
        if "snapshot" in line or "replayed" in line
    ]
    return Start(label, events, seconds, rss, peak, lines)


def wait_healthy(process: subprocess.Popen[bytes], port: int, began: float) -> float:
    url = f"http://127.0.0.1:{port}/healthz"
    while time.perf_counter() - began < START_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"lobby serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return time.perf_counter() - began
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"no /healthz 200 within {START_TIMEOUT:.0f} s")


def year_starts(workdir: Path) -> list[Start]:
    config = load_config(BUSY_CONFIG)
    year = cached_year(config)
    empty = workdir / "empty.db"
    seed_lobby(empty)
    copy = workdir / "year.db"
    note(f"year start: copying {year.stat().st_size / 2**20:,.0f} MiB")
    shutil.copyfile(year, copy)
    seed_lobby(copy)
    starts = [timed_start("empty office", empty, BUSY_CONFIG, workdir)]
    note("year start: the first start replays the whole log")
    starts.append(timed_start("year, no snapshot", copy, BUSY_CONFIG, workdir))
    note("year start: the second start loads the snapshot saved at the first one's shutdown")
    starts.append(timed_start("year, snapshot", copy, BUSY_CONFIG, workdir))
    return starts


def print_year_starts(starts: list[Start], section: int = 5) -> None:
    print(
        f"\n{section}. Start with a year of history ({WORKING_DAYS} working days x"
        f" {VISITS_PER_DAY:,} visits, cached under var/bench/): process start to the first"
        f" /healthz 200, and memory {SETTLE_SEC:.0f} s after it answers"
    )
    print(f"   {'start':<20}{'events':>12}{'to /healthz s':>15}{'RSS MiB':>10}{'peak MiB':>10}")
    for s in starts:
        print(
            f"   {s.label:<20}{s.events:>12,}{s.seconds:>15.2f}{s.rss_mb:>10.0f}{s.peak_mb:>10.0f}"
        )
    base, snap = starts[0], starts[-1]
    rss_ok = snap.rss_mb < TARGET_RSS_MB
    time_ok = snap.seconds < TARGET_START_SEC
    print(
        f"   from the snapshot: {snap.seconds:.2f} s (target < {TARGET_START_SEC:.0f} s:"
        f" {'met' if time_ok else 'MISSED'}; {snap.seconds - base.seconds:+.2f} s over the empty"
        f" office), RSS {snap.rss_mb:.0f} MiB (target < {TARGET_RSS_MB:.0f}:"
        f" {'met' if rss_ok else 'MISSED'}; {snap.rss_mb - base.rss_mb:+.0f} MiB over empty)"
    )
    for s in starts[1:]:
        for line in s.log_lines:
            print(f"   [{s.label}] {line[-110:]}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lobby-year-") as tmp:
        print_year_starts(year_starts(Path(tmp)), section=1)


if __name__ == "__main__":
    main()
