"""Supervisor reports over the cached year of history (``benchmarks/year_start.py``).

Measured on a copy of the year, whose visit records the store built once (cached with the
year): the report of one day and of the whole year, as ``lobby report`` and the page compute
it (``server.reports.figures.report``, its own connection, every figure and breakdown). The
first report over a period also keeps the summaries of its settled days, so each is measured
cold (nothing kept yet: every day summarised from its rows) and warm (the median of several
runs). The baseline is one bare SQL pass over the same period's visit rows (a count and the
sum of their waits): the least any report reading those rows costs.

Housekeeping summarises settled days ahead of time (``keep_settled_days``, a slice of about
2 s each round): on another fresh copy its rounds are run until nothing is left, and then the
first year report is measured, as a supervisor meets it once the server has run a few minutes.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks.busy_office import BUSY_CONFIG
from benchmarks.figures import note
from benchmarks.year_start import cached_year
from server.config import OfficeConfig, load_config
from server.reports.figures import keep_settled_days, report
from server.store.sqlite import SqliteStore

WARM_RUNS = 5
TARGET_YEAR_SEC = 1.0
TARGET_DAY_MS = 50.0


@dataclass
class Timing:
    label: str
    visits: int
    cold: float
    warm: float
    baseline: float
    ahead_sec: float = 0.0
    """Time housekeeping spent summarising the period's days beforehand (its rounds added)."""
    rounds: int = 0


def bare_pass(db: Path, first: date, last: date) -> float:
    with sqlite3.connect(db) as conn:
        began = time.perf_counter()
        conn.execute(
            "SELECT count(*), total(first_called_us - arrived_us) FROM visits"
            " WHERE day BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat()),
        ).fetchone()
        return time.perf_counter() - began


def timed(store: SqliteStore, config: OfficeConfig, first: date, last: date) -> tuple[float, int]:
    now = datetime.now(config.tz)
    began = time.perf_counter()
    figures = report(store, config, first, last, now)
    return time.perf_counter() - began, int(figures["overall"]["check_ins"])


def measure(label: str, db: Path, config: OfficeConfig, first: date, last: date) -> Timing:
    store = SqliteStore(db)
    cold, visits = timed(store, config, first, last)
    warm = statistics.median(timed(store, config, first, last)[0] for _ in range(WARM_RUNS))
    baseline = statistics.median(bare_pass(db, first, last) for _ in range(WARM_RUNS))
    return Timing(label, visits, cold, warm, baseline)


def kept_ahead(db: Path, config: OfficeConfig, first: date, last: date) -> Timing:
    """Housekeeping's rounds until every settled day is kept, then the first report."""
    store = SqliteStore(db)
    now = datetime.now(config.tz)
    ahead, rounds = 0.0, 0
    while True:
        began = time.perf_counter()
        kept = keep_settled_days(store, config, now)
        ahead += time.perf_counter() - began
        rounds += 1
        if not kept:
            break
    first_report, visits = timed(store, config, first, last)
    warm = statistics.median(timed(store, config, first, last)[0] for _ in range(WARM_RUNS))
    baseline = statistics.median(bare_pass(db, first, last) for _ in range(WARM_RUNS))
    return Timing("year, kept", visits, first_report, warm, baseline, ahead, rounds)


def report_timings(workdir: Path) -> list[Timing]:
    config = load_config(BUSY_CONFIG)
    year = cached_year(config)
    copy = workdir / "reports.db"
    note(f"reports: copying the year ({year.stat().st_size / 2**20:,.0f} MiB)")
    shutil.copyfile(year, copy)
    with sqlite3.connect(copy) as conn:
        first_text, last_text = conn.execute("SELECT min(day), max(day) FROM visits").fetchone()
    first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
    note("reports: one day, then the whole year")
    # the last day holds the log's latest event, so it never settles: summarised afresh each
    # time, as today is; the day before settles once its summary is kept
    timings = [
        measure("latest day", copy, config, last, last),
        measure("settled day", copy, config, last - timedelta(days=1), last - timedelta(days=1)),
        measure("one year", copy, config, first - timedelta(days=1), last),
    ]
    note("reports: housekeeping summarises the settled days of a fresh copy, then one year")
    shutil.copyfile(year, copy)
    timings.append(kept_ahead(copy, config, first - timedelta(days=1), last))
    return timings


def print_reports(timings: list[Timing], section: int = 6) -> None:
    print(
        f"\n{section}. Reports over the cached year: `lobby report` / GET /api/reports/summary"
        " computed in full; cold = the first report (summarises every day from its rows and"
        f" keeps the settled ones), warm = median of {WARM_RUNS}; baseline = one bare SQL pass"
        " over the period's visit rows"
    )
    print(f"   {'period':<12}{'visits':>10}{'cold s':>10}{'warm s':>10}{'baseline s':>12}")
    for t in timings:
        print(f"   {t.label:<12}{t.visits:>10,}{t.cold:>10.3f}{t.warm:>10.3f}{t.baseline:>12.3f}")
    day, year = timings[0], next(t for t in timings if t.label == "one year")
    day_ms = max(day.cold, day.warm) * 1000
    print(
        f"   latest day: {day_ms:.0f} ms, the slower of cold and warm"
        f" (target < {TARGET_DAY_MS:.0f} ms:"
        f" {'met' if day_ms < TARGET_DAY_MS else 'MISSED'}); one year warm: {year.warm:.2f} s"
        f" (target < {TARGET_YEAR_SEC:.0f} s:"
        f" {'met' if year.warm < TARGET_YEAR_SEC else 'MISSED'}),"
        f" cold {year.cold:.1f} s once"
    )
    for kept in (t for t in timings if t.rounds):
        print(
            f"   {kept.label}: housekeeping summarised the settled days ahead in {kept.rounds}"
            f" rounds ({kept.ahead_sec:.1f} s of worker-thread time in all); the first year"
            f" report after it {kept.cold:.2f} s (instead of {year.cold:.1f} s)"
        )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lobby-reports-") as tmp:
        print_reports(report_timings(Path(tmp)), section=1)


if __name__ == "__main__":
    main()
