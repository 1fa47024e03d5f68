"""Headquarters on PostgreSQL: replication from offices, and a year report across ten offices.

* **Replication.** Each office's log holds a day of backlog (2,000 visits: check-in, call,
  start, completion, each with the visitor's name) in its own SQLite store, as after a day cut
  off from headquarters. The office's real shipper (``server.hq.shipping.Shipper``) then ships
  it to ``lobby hq serve`` running in its own process; the clock runs until headquarters holds
  every office's whole log. Measured for one office alone and for ten at once. The baseline is
  ``benchmarks/bare_ingest.py``, answering the same shipper with plain inserts into one table
  (no token, no checks, no visit records, no live summary), in the same run on the same logs.
* **Year report.** Ten offices of 500,000 visits each (250 office days of 2,000), written
  straight into headquarters' copies with COPY (not over HTTP), their day summaries kept ahead
  as headquarters' housekeeping keeps them (computed once on the first office, whose rows the
  nine others copy). Measured: ``hq_report`` over the year, every office's report and all
  together: the first run (which keeps each settled month's summary, as housekeeping does
  ahead of it in a running headquarters) and the median of a few after it. The baseline is
  one bare SQL pass over the same ten offices' visit rows (a count and a sum of waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec
import psycopg
from psycopg import sql

from benchmarks.figures import note
from benchmarks.servers import ServerProcess, free_port
from server.config import HeadquartersConfig, OfficeConfig, load_config
from server.engine import Event
from server.hq.database import add_office, drop_headquarters, offices_of
from server.hq.reports import OfficeCopy, hq_report
from server.hq.shipping import Shipper
from server.hq.wire import config_of, profile_of
from server.reports.figures import keep_settled_days
from server.reports.records import LEG_COLUMNS, VISIT_COLUMNS, counter_layout
from server.store.sqlite import SqliteStore

POSTGRES = os.environ.get(
    "LOBBY_BENCH_POSTGRES",
    os.environ.get("LOBBY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
)
CONFIG = Path(__file__).resolve().parent.parent / "tests" / "office.toml"
OFFICES = 10
DAY_VISITS = 2000
YEAR_VISITS = 500_000
YEAR_DAYS = 250
REPORT_RUNS = 5
TARGET_YEAR_SEC = 2.0
ROUNDS = 2


@contextlib.contextmanager
def schema_for(label: str) -> Iterator[str]:
    """A URL on a new schema of the benchmark database; it and its offices' dropped after."""
    admin = psycopg.connect(POSTGRES, autocommit=True)
    schema = f"lobby_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        separator = "&" if "?" in POSTGRES else "?"
        yield f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"
    finally:
        drop_headquarters(admin, schema)
        admin.close()


# ------------------------------------------------------------------ replication


def day_of_events(config: OfficeConfig, day: date) -> list[Event]:
    """A day of an office's log: four counters open, 2,000 visits served in turn."""
    tz = config.tz
    opening = datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=8)
    events = [
        Event("counter.opened", opening, {"counter": c.id, "staff": f"clerk{i}"})
        for i, c in enumerate(config.counters)
    ]
    services = [s.id for s in config.services]
    for i in range(DAY_VISITS):
        visit = i + 1
        arrived = opening + timedelta(seconds=14 * i)
        service = services[i % len(services)]
        counter = config.counters[i % len(config.counters)].id
        called = arrived + timedelta(seconds=(i * 7919) % 1500)
        events += [
            Event(
                "ticket.checked_in",
                arrived,
                {
                    "id": visit,
                    "number": f"P-{visit:03d}",
                    "service": service,
                    "name": f"Visitor {visit}",
                    "address_as": None,
                    "language": "en",
                    "needs": [],
                    "quoted": [5.0, 15.0, 10.0],
                },
            ),
            Event("ticket.called", called, {"id": visit, "counter": counter}),
            Event("ticket.started", called + timedelta(seconds=40), {"id": visit}),
            Event(
                "ticket.completed",
                called + timedelta(seconds=40 + (i * 31) % 600 + 60),
                {"id": visit, "needs_met": i % 10 != 0, "notes": "private note"},
            ),
        ]
    return events


async def office_backlog(workdir: Path, config: OfficeConfig, index: int) -> SqliteStore:
    store = SqliteStore(workdir / f"office-{index}.db", counter_layout(config), init=True)
    store.open()
    store.start()
    events = day_of_events(config, date(2026, 11, 2))
    for start in range(0, len(events), 500):
        _, durable = store.append(events[start : start + 500])
        await durable
    return store


@dataclass
class Shipped:
    system: str
    offices: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


async def ship(
    system: str,
    base: str,
    config: OfficeConfig,
    stores: list[SqliteStore],
    tokens: list[str],
    workdir: Path,
) -> Shipped:
    shippers = []
    for i, (store, token) in enumerate(zip(stores, tokens, strict=True)):
        token_file = workdir / f"{system}-{i}.token"
        token_file.write_text(token)
        settings = HeadquartersConfig(base, f"office-{i}", token_file, False, 500)
        shippers.append(Shipper(config, settings, store))
    began = time.perf_counter()
    tasks = [asyncio.create_task(s.run()) for s in shippers]
    try:
        while not all(s.state.received == s.store.last_seq for s in shippers):
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - began
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return Shipped(system, len(stores), sum(s.last_seq for s in stores), seconds)


def start_hq(workdir: Path, url: str, label: str) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-m", "lobby.cli", "hq", "serve", "--db", url, "--port", str(port)]
    server = ServerProcess(label, command, port, workdir / f"{label}.log")
    server.wait_ready()
    return server


def start_bare_ingest(workdir: Path, url: str, label: str) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.bare_ingest", "--db", url, "--port", str(port)]
    server = ServerProcess(label, command, port, workdir / f"{label}.log")
    server.wait_ready()
    return server


async def replication(workdir: Path) -> list[Shipped]:
    config = load_config(CONFIG)
    note(f"headquarters: {OFFICES} offices' backlogs of {DAY_VISITS:,} visits each")
    stores = [await office_backlog(workdir, config, i) for i in range(OFFICES)]
    results: list[Shipped] = []
    try:
        for round_ in range(ROUNDS):
            for count in (1, OFFICES):
                chosen = stores[:count]
                note(f"headquarters: shipping {count} office(s), round {round_ + 1}")
                with schema_for("hq") as url:
                    tokens = [add_office(url, f"office-{i}") for i in range(count)]
                    server = start_hq(workdir, url, f"hq-{count}-{round_}")
                    try:
                        base = f"http://127.0.0.1:{server.port}"
                        results.append(
                            await ship("Lobby HQ", base, config, chosen, tokens, workdir)
                        )
                    finally:
                        server.stop()
                with schema_for("bare") as url:
                    server = start_bare_ingest(workdir, url, f"bare-{count}-{round_}")
                    try:
                        base = f"http://127.0.0.1:{server.port}"
                        tokens = ["-"] * count
                        results.append(
                            await ship("bare ingest", base, config, chosen, tokens, workdir)
                        )
                    finally:
                        server.stop()
    finally:
        for store in stores:
            await store.close()
    return results


# ------------------------------------------------------------------ the year report


def office_days(count: int) -> list[date]:
    days, day = [], date(2025, 1, 2)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def year_rows(config: OfficeConfig) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    """Visit and leg rows of a year of 500,000 visits, all served."""
    services = [s.id for s in config.services]
    counters = [c.id for c in config.counters]
    per_day = YEAR_VISITS // YEAR_DAYS
    visit = 0
    for day in office_days(YEAR_DAYS):
        opening = datetime.combine(day, datetime.min.time(), config.tz) + timedelta(hours=8)
        start_us = int(opening.timestamp() * 1e6)
        text, weekday = day.isoformat(), day.weekday()
        for i in range(per_day):
            visit += 1
            arrived = start_us + i * 14_000_000
            hour = 8 + (i * 14) // 3600
            called = arrived + ((i * 7919) % 1500) * 1_000_000
            started = called + 40_000_000
            ended = started + ((i * 31) % 600 + 60) * 1_000_000
            service = services[i % len(services)]
            needs_met = int(i % 10 != 0)
            yield (
                (visit, f"P-{i + 1:03d}", service, text, weekday, hour, arrived, 5.0, 15.0,
                 10.0, arrived + 2_000_000, "printed", called, ended, "done", needs_met, None,
                 None, 0, 1, ended - started, None),
                (visit, 1, text, weekday, hour, service, arrived, called, called, 0,
                 counters[i % len(counters)], f"clerk{i % 4}", started, ended, "done"),
            )  # fmt: skip


@dataclass
class YearReport:
    visits: int
    build_sec: float
    keep_sec: float
    first: float
    """The first report: it also keeps each settled month's summary."""
    warm: float
    baseline: float


def build_year(url: str, config: OfficeConfig) -> tuple[str, float, float]:
    """Ten offices' copies holding a year each; returns the schema and the seconds the COPY
    and the summaries took."""
    began = time.perf_counter()
    for i in range(OFFICES):
        add_office(url, f"office-{i}")
    schema, offices = offices_of(url)
    profile = msgspec.json.encode(profile_of(config)).decode()
    last_day = office_days(YEAR_DAYS)[-1]
    last_at = datetime.combine(last_day, datetime.min.time(), config.tz) + timedelta(hours=18)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE hq_offices SET profile = %s, received_seq = 1, head_seq = 1", (profile,)
        )
        first = sql.Identifier(f"{schema}_o_{offices[0].number}")
        conn.execute(sql.SQL("SET search_path TO {}").format(first))
        with conn.cursor() as cursor:
            rows = list(year_rows(config))
            with cursor.copy(f"COPY visits ({', '.join(VISIT_COLUMNS)}) FROM STDIN") as copy:
                for visit, _ in rows:
                    copy.write_row(visit)
            with cursor.copy(f"COPY legs ({', '.join(LEG_COLUMNS)}) FROM STDIN") as copy:
                for _, leg in rows:
                    copy.write_row(leg)
        del rows
        conn.execute(
            "INSERT INTO events (seq, at, kind, data, at_us) VALUES (1, %s, 'day.closed',"
            " '{\"ids\": []}', %s)",
            (last_at.isoformat(), int(last_at.timestamp() * 1e6)),
        )
        conn.execute("UPDATE records_state SET seq = 1")
        conn.execute("ANALYZE visits")
        conn.execute("ANALYZE legs")
        for office in offices[1:]:
            other = sql.Identifier(f"{schema}_o_{office.number}")
            for table in ("visits", "legs", "events"):
                conn.execute(
                    sql.SQL("INSERT INTO {}.{} SELECT * FROM {}.{}").format(
                        other, sql.Identifier(table), first, sql.Identifier(table)
                    )
                )
            conn.execute(sql.SQL("UPDATE {}.records_state SET seq = 1").format(other))
            conn.execute(sql.SQL("ANALYZE {}.visits").format(other))
            conn.execute(sql.SQL("ANALYZE {}.legs").format(other))
    built = time.perf_counter() - began
    began = time.perf_counter()
    copy = OfficeCopy(url, schema, offices[0])
    now = datetime.now(config.tz)
    while keep_settled_days(copy, config_of(offices[0].profile or profile_of(config)), now, 30.0):
        pass
    with psycopg.connect(url, autocommit=True) as conn:
        for office in offices[1:]:
            conn.execute(
                sql.SQL("INSERT INTO {}.day_summaries SELECT * FROM {}.day_summaries").format(
                    sql.Identifier(f"{schema}_o_{office.number}"), first
                )
            )
    return schema, built, time.perf_counter() - began


def bare_year_pass(url: str, schema: str, numbers: list[int], first: date, last: date) -> float:
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT first_called_us - arrived_us AS wait FROM {}.visits"
                " WHERE day BETWEEN %(first)s AND %(last)s").format(
            sql.Identifier(f"{schema}_o_{n}")
        )
        for n in numbers
    )  # fmt: skip
    query = sql.SQL("SELECT count(*), sum(wait) FROM ({}) AS year").format(union)
    with psycopg.connect(url, autocommit=True) as conn:
        began = time.perf_counter()
        conn.execute(query, {"first": first.isoformat(), "last": last.isoformat()}).fetchone()
        return time.perf_counter() - began


def year_report() -> YearReport:
    config = load_config(CONFIG)
    with schema_for("year") as url:
        note(f"headquarters: COPY {OFFICES} offices x {YEAR_VISITS:,} visits, keep summaries")
        schema, built, kept = build_year(url, config)
        _, offices = offices_of(url)
        days = office_days(YEAR_DAYS)
        first, last = days[0], days[-1]
        note("headquarters: the year report over every office")
        timings, visits = [], 0
        for _ in range(REPORT_RUNS + 1):
            began = time.perf_counter()
            figures = hq_report(url, schema, offices, first, last, datetime.now(UTC))
            timings.append(time.perf_counter() - began)
            visits = int(figures["overall"]["check_ins"])
        numbers = [o.number for o in offices]
        baseline = statistics.median(
            bare_year_pass(url, schema, numbers, first, last) for _ in range(REPORT_RUNS)
        )
        return YearReport(visits, built, kept, timings[0], statistics.median(timings[1:]), baseline)


# ------------------------------------------------------------------ printing


def available() -> str | None:
    """Why the headquarters benchmark cannot run here, or None."""
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL is not answering at {POSTGRES} ({' '.join(str(exc).split())})"
    return None


def print_headquarters(shipped: list[Shipped], year: YearReport | None, section: int) -> None:
    print(
        f"\n{section}. Headquarters on PostgreSQL: a day of backlog ({DAY_VISITS:,} visits,"
        f" {DAY_VISITS * 4 + 4:,} events) per office shipped by the offices' shipper to"
        " `lobby hq serve`; baseline = bare ingest (plain inserts, same shipper, same logs);"
        f" {ROUNDS} rounds alternating"
    )
    print(f"   {'system':<14}{'offices':>8}{'events':>10}{'catch-up s':>12}{'events/s':>11}")
    for s in shipped:
        print(f"   {s.system:<14}{s.offices:>8}{s.events:>10,}{s.seconds:>12.2f}{s.rate:>11,.0f}")
    for count in sorted({s.offices for s in shipped}):
        lobby = [s for s in shipped if s.system == "Lobby HQ" and s.offices == count]
        bare = [s for s in shipped if s.system == "bare ingest" and s.offices == count]
        if lobby and bare:
            best, base = min(x.seconds for x in lobby), min(x.seconds for x in bare)
            print(
                f"   {count} office(s): catch-up {best:.2f} s at Lobby HQ, {base:.2f} s bare"
                f" ({best / base:.2f}x; {lobby[0].events / best:,.0f} events/s replicated)"
            )
    if year is not None:
        verdict = "met" if year.warm < TARGET_YEAR_SEC else "MISSED"
        print(
            f"   year report, {OFFICES} offices x {YEAR_VISITS:,} visits ({year.visits:,}"
            f" counted): {year.warm:.2f} s, median of {REPORT_RUNS}"
            f" (target < {TARGET_YEAR_SEC:.0f} s: {verdict}); the first one, which also keeps"
            f" the settled months' summaries, {year.first:.2f} s; bare SQL pass over the same"
            f" rows {year.baseline:.2f} s; dataset by COPY {year.build_sec:.0f} s, day"
            f" summaries kept ahead {year.keep_sec:.0f} s"
        )


def measure_headquarters(workdir: Path) -> tuple[list[Shipped], YearReport | None] | str:
    missing = available()
    if missing is not None:
        return missing
    shipped = asyncio.run(replication(workdir))
    return shipped, year_report()


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lobby-hq-") as tmp:
        measured = measure_headquarters(Path(tmp))
    if isinstance(measured, str):
        print(f"headquarters benchmark skipped: {measured}")
        return
    print_headquarters(*measured, section=1)


if __name__ == "__main__":
    main()
