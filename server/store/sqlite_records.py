"""The visit records in SQLite: their tables, their writing in each commit, their period queries.

Kept apart from ``sqlite.py`` (the log and accounts) because it is a whole subject of its own:
the rows are the fold of ``server.reports.records`` written in the log's own transaction, and
the queries answer :class:`server.store.port.RecordReader` for reports.

Queries cover the visits that *arrived* on the period's office days. A visit's ids grow with
time, so the day index gives the period's id range and each query scans just that range of the
table in order, with the day checked on every row.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta

from server.reports.records import (
    EMERGENCY_COLUMNS,
    ERASED_FLAG,
    LEG_COLUMNS,
    SPAN_COLUMNS,
    VISIT_COLUMNS,
    Changes,
    EmergencyRecord,
    Layout,
    Leg,
    RecordFold,
    Span,
    Visit,
    fingerprint,
    row,
)
from server.store.encoding import decode_event, epoch_us
from server.store.port import (
    LEG_GROUPS,
    LEG_MEASURES,
    VISIT_GROUPS,
    VISIT_MEASURES,
    Histogram,
    RecordReader,
    RecordsBehind,
)
from server.store.sqlite_rows import write_rows

log = logging.getLogger("lobby.store")
REBUILD_PAGE = 50_000

SCHEMA = """
CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    arrived_us INTEGER NOT NULL,
    quoted_low REAL,
    quoted_high REAL,
    quoted_point REAL,
    ack_us INTEGER,
    ack_via TEXT,
    first_called_us INTEGER,
    ended_us INTEGER,
    state TEXT NOT NULL,
    needs_met INTEGER,
    survey_met INTEGER,
    survey_rating INTEGER,
    transfers INTEGER NOT NULL,
    legs INTEGER NOT NULL,
    counter_us INTEGER NOT NULL,
    flag TEXT
);
CREATE INDEX visits_day ON visits(day);
CREATE INDEX visits_open ON visits(state) WHERE state IN ('waiting', 'called', 'serving');
CREATE INDEX visits_closed ON visits(day) WHERE state = 'closed_at_end_of_day';
CREATE INDEX visits_flagged ON visits(day) WHERE flag IS NOT NULL;
CREATE TABLE legs (
    visit INTEGER NOT NULL,
    leg INTEGER NOT NULL,
    day TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    service TEXT NOT NULL,
    queued_us INTEGER NOT NULL,
    called_us INTEGER,
    last_called_us INTEGER,
    recalls INTEGER NOT NULL,
    counter TEXT,
    staff TEXT,
    started_us INTEGER,
    ended_us INTEGER,
    outcome TEXT,
    PRIMARY KEY (visit, leg)
);
CREATE TABLE idle_spans (
    counter TEXT NOT NULL,
    staff TEXT,
    day TEXT NOT NULL,
    from_us INTEGER NOT NULL,
    to_us INTEGER NOT NULL
);
CREATE INDEX idle_spans_day ON idle_spans(day);
CREATE TABLE staffed_spans (
    counter TEXT NOT NULL,
    staff TEXT,
    day TEXT NOT NULL,
    from_us INTEGER NOT NULL,
    to_us INTEGER NOT NULL
);
CREATE INDEX staffed_spans_day ON staffed_spans(day);
CREATE TABLE day_summaries (
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (day, key)
);
CREATE TABLE records_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    layout TEXT NOT NULL,
    state TEXT NOT NULL
);
INSERT INTO records_state (id, seq, layout, state) VALUES (1, -1, 'not built', '{}');
"""
"""Migration 5. ``seq -1``: never built, so the first serving start builds them from the log."""


EMERGENCY_SCHEMA = """
ALTER TABLE visits ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0;
CREATE TABLE emergencies (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    drill INTEGER NOT NULL,
    day TEXT NOT NULL,
    started_us INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    expected INTEGER NOT NULL,
    pending TEXT NOT NULL,
    acknowledged INTEGER NOT NULL,
    all_acknowledged_us INTEGER,
    ended_us INTEGER,
    ended_by TEXT
);
CREATE INDEX emergencies_day ON emergencies (day);
"""
"""Migration 7: the emergencies and drills, and which visits waited through one. A log
from before holds none, so the records built from it stand as they are."""

_VISIT_SQL = ", ".join(VISIT_COLUMNS)
_LEG_SQL = ", ".join(LEG_COLUMNS)
_SPAN_SQL = ", ".join(SPAN_COLUMNS)
_EMERGENCY_SQL = ", ".join(EMERGENCY_COLUMNS)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


INSERT_EMERGENCY = (
    f"INSERT OR REPLACE INTO emergencies ({_EMERGENCY_SQL})"
    f" VALUES ({_marks(len(EMERGENCY_COLUMNS))})"
)


def _insert_span(table: str) -> str:
    return f"INSERT INTO {table} ({_SPAN_SQL}) VALUES ({_marks(len(SPAN_COLUMNS))})"


# ------------------------------------------------------------------ writing


class RecordWriter:
    """The fold on the writer's connection: restored at open, written in each commit."""

    def __init__(self, conn: sqlite3.Connection, layout: Layout | None) -> None:
        self.conn = conn
        self.layout = layout
        self.built_with = fingerprint(layout)
        """The layout's fingerprint, stored with every commit: worked out once."""
        self.fold = RecordFold(layout, self._load, self._load_emergency)

    def _open_emergencies(self) -> list[EmergencyRecord]:
        rows = self.conn.execute(
            f"SELECT {_EMERGENCY_SQL} FROM emergencies WHERE ended_us IS NULL"
        ).fetchall()
        return [EmergencyRecord(*r) for r in rows]

    def _load_emergency(self, emergency_id: int) -> EmergencyRecord | None:
        found = self.conn.execute(
            f"SELECT {_EMERGENCY_SQL} FROM emergencies WHERE id = ?", (emergency_id,)
        ).fetchone()
        return EmergencyRecord(*found) if found is not None else None

    def _load(self, visit_id: int) -> tuple[Visit, Leg] | None:
        found = self.conn.execute(
            f"SELECT {_VISIT_SQL} FROM visits WHERE id = ?", (visit_id,)
        ).fetchone()
        if found is None:
            return None
        visit = Visit(*found)
        leg = self.conn.execute(
            f"SELECT {_LEG_SQL} FROM legs WHERE visit = ? AND leg = ?", (visit_id, visit.legs)
        ).fetchone()
        return visit, Leg(*leg)

    def restore(self) -> None:
        """Take up the fold where the committed records left it (at open, after a failure)."""
        state = self.conn.execute("SELECT state FROM records_state").fetchone()[0]
        rows = self.conn.execute(
            f"SELECT {_VISIT_SQL} FROM visits WHERE state IN ('waiting', 'called', 'serving')"
        ).fetchall()
        held = [self._load(Visit(*r).id) for r in rows]
        self.fold.restore(state, [h for h in held if h is not None], self._open_emergencies())

    def up_to_date(self, last_seq: int) -> bool:
        seq, layout = self.conn.execute("SELECT seq, layout FROM records_state").fetchone()
        return bool(seq == last_seq and layout == self.built_with)

    def rebuild(self, last_seq: int) -> None:
        """Fold the whole log again, in one transaction (a first start after the upgrade, or
        a start with another layout of counters)."""
        began = time.perf_counter()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in (
                "visits",
                "legs",
                "idle_spans",
                "staffed_spans",
                "day_summaries",
                "emergencies",
            ):
                conn.execute(f"DELETE FROM {table}")
            self.fold.restore(None, [])
            seq = 0
            while True:
                page = conn.execute(
                    "SELECT seq, at, kind, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, REBUILD_PAGE),
                ).fetchall()
                if not page:
                    break
                seq = page[-1][0]
                self.write(self.fold.fold(decode_event(*r[1:]) for r in page), seq)
            self.write(Changes(), last_seq)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info(
            "built the visit records from %d events in %.1f s",
            last_seq,
            time.perf_counter() - began,
        )

    def write(self, changes: Changes, seq: int) -> None:
        """Write one batch's changed rows; inside the caller's transaction."""
        conn = self.conn
        visits = [row(v) for v in changes.visits.values()]
        write_rows(conn, "INSERT OR REPLACE", "visits", VISIT_COLUMNS, visits)
        legs = [row(leg) for leg in changes.legs.values()]
        write_rows(conn, "INSERT OR REPLACE", "legs", LEG_COLUMNS, legs)
        if changes.idle:
            conn.executemany(_insert_span("idle_spans"), [row(s) for s in changes.idle])
        if changes.staffed:
            conn.executemany(_insert_span("staffed_spans"), [row(s) for s in changes.staffed])
        if changes.emergencies:
            conn.executemany(INSERT_EMERGENCY, [row(e) for e in changes.emergencies.values()])
        if changes.erased:
            conn.executemany(
                "UPDATE visits SET flag = ? WHERE id = ? AND flag IS NOT NULL",
                [(ERASED_FLAG, visit_id) for visit_id in changes.erased],
            )
        conn.execute(
            "UPDATE records_state SET seq = ?, layout = ?, state = ?",
            (seq, self.built_with, self.fold.state()),
        )


# ------------------------------------------------------------------ reading

_US_PER_MIN = 60_000_000


def _minutes_bucket(duration: str) -> str:
    """A duration in microseconds, never below 0, in hundredths of a minute (half up)."""
    return f"((max(0, {duration}) + 300000) / 600000)"


def _seconds_bucket(duration: str) -> str:
    return f"((max(0, {duration}) + 5000) / 10000)"


# measure -> (table, bucket expression, exact value expression, which rows)
MEASURE_SQL: dict[str, tuple[str, str, str, str]] = {
    "wait_min": (
        "visits",
        _minutes_bucket("first_called_us - arrived_us"),
        f"max(0, first_called_us - arrived_us) / {_US_PER_MIN}.0",
        "first_called_us IS NOT NULL AND emergency = 0",
    ),
    "emergency_wait_min": (
        "visits",
        _minutes_bucket("first_called_us - arrived_us"),
        f"max(0, first_called_us - arrived_us) / {_US_PER_MIN}.0",
        "first_called_us IS NOT NULL AND emergency <> 0",
    ),
    "waited_before_leaving_min": (
        "visits",
        _minutes_bucket("ended_us - arrived_us"),
        f"max(0, ended_us - arrived_us) / {_US_PER_MIN}.0",
        "first_called_us IS NULL AND state IN ('walkaway', 'closed_at_end_of_day')",
    ),
    "acknowledgement_sec": (
        "visits",
        _seconds_bucket("ack_us - arrived_us"),
        "max(0, ack_us - arrived_us) / 1000000.0",
        "ack_us IS NOT NULL",
    ),
    "counter_time_min": (
        "visits",
        _minutes_bucket("counter_us"),
        f"counter_us / {_US_PER_MIN}.0",
        "state = 'done'",
    ),
    "service_time_min": (
        "legs",
        _minutes_bucket("ended_us - started_us"),
        f"max(0, ended_us - started_us) / {_US_PER_MIN}.0",
        "started_us IS NOT NULL AND outcome IN ('done', 'transferred')",
    ),
    "call_to_counter_min": (
        "legs",
        _minutes_bucket("started_us - called_us"),
        f"max(0, started_us - called_us) / {_US_PER_MIN}.0",
        "started_us IS NOT NULL AND called_us IS NOT NULL",
    ),
}
assert set(MEASURE_SQL) == set(VISIT_MEASURES) | set(LEG_MEASURES)

GROUP_SQL = {
    "": "''",
    "service": "service",
    "counter": "coalesce(counter, '')",
    "staff": "coalesce(staff, '')",
    "day": "day",
    "hour": "hour",
    "weekday_hour": "weekday * 100 + hour",
    "service_hour": "service || char(31) || hour",
    "service_counter_staff_hour": "service || char(31) || coalesce(counter, '') || char(31)"
    " || coalesce(staff, '') || char(31) || hour",
}

_WAIT = "(first_called_us - arrived_us)"
_WAIT_MIN = f"(max(0, {_WAIT}) / {_US_PER_MIN}.0)"
_CALLED = "(first_called_us IS NOT NULL AND emergency = 0)"
"""A wait measured against the target: called, and no emergency interrupted it."""
_CALLED_QUOTED = f"({_CALLED} AND quoted_point IS NOT NULL)"
VISIT_TALLIES = {
    "check_ins": "count(*)",
    **{
        state: f"sum(state = '{state}')"
        for state in (
            "done",
            "no_show",
            "walkaway",
            "closed_at_end_of_day",
            "waiting",
            "called",
            "serving",
        )
    },
    "called_once": "sum(first_called_us IS NOT NULL)",
    "needs_met_yes": "sum(state = 'done' AND needs_met = 1)",
    "needs_met_answered": "sum(state = 'done' AND needs_met IS NOT NULL)",
    "survey_answers": "sum(survey_met IS NOT NULL)",
    "survey_yes": "sum(survey_met = 1)",
    "rating_sum": "total(survey_rating)",
    "rating_count": "count(survey_rating)",
    "printed": "sum(ack_via = 'printed')",
    "screen": "sum(ack_via = 'screen')",
    "level_met": f"sum(target_us IS NOT NULL AND {_CALLED} AND {_WAIT} <= target_us)",
    "level_counted": "sum(CASE WHEN target_us IS NULL OR emergency <> 0 THEN 0"
    " WHEN first_called_us IS NOT NULL THEN 1"
    " WHEN state = 'walkaway' AND ended_us - arrived_us <= target_us THEN 0"
    " WHEN state = 'waiting' AND :now - arrived_us <= target_us THEN 0 ELSE 1 END)",
    "wait_sum_min": f"total(CASE WHEN {_CALLED} THEN {_WAIT_MIN} END)",
    "wait_count": f"sum({_CALLED})",
    "emergency_visits": "sum(emergency <> 0)",
    "emergency_called": "sum(emergency <> 0 AND first_called_us IS NOT NULL)",
    "estimates": f"sum({_CALLED_QUOTED})",
    "estimate_abs_sum": (
        f"total(CASE WHEN {_CALLED_QUOTED} THEN abs(quoted_point - {_WAIT_MIN}) END)"
    ),
    "estimate_sum": f"total(CASE WHEN {_CALLED_QUOTED} THEN quoted_point - {_WAIT_MIN} END)",
    "estimate_within_5": f"sum({_CALLED_QUOTED} AND abs(quoted_point - {_WAIT_MIN}) <= 5)",
    "range_below": f"sum({_CALLED_QUOTED} AND {_WAIT_MIN} < quoted_low)",
    "range_inside": f"sum({_CALLED_QUOTED} AND {_WAIT_MIN} BETWEEN quoted_low AND quoted_high)",
    "range_above": f"sum({_CALLED_QUOTED} AND {_WAIT_MIN} > quoted_high)",
    "range_width_sum": f"total(CASE WHEN {_CALLED_QUOTED} THEN quoted_high - quoted_low END)",
}
LEG_TALLIES = {
    "legs": "count(*)",
    "calls": "sum(called_us IS NOT NULL)",
    "served": "sum(started_us IS NOT NULL)",
    "done": "sum(outcome = 'done')",
    "no_show": "sum(outcome = 'no_show')",
    "transfers": "sum(outcome = 'transferred')",
    "recalls": "total(recalls)",
    "service_sum_min": "total(CASE WHEN started_us IS NOT NULL"
    " AND outcome IN ('done', 'transferred')"
    f" THEN max(0, ended_us - started_us) / {_US_PER_MIN}.0 END)",
    "service_count": "sum(started_us IS NOT NULL AND outcome IN ('done', 'transferred'))",
    "needs_met_yes": "sum(outcome = 'done' AND"
    " (SELECT needs_met FROM visits v WHERE v.id = legs.visit) = 1)",
    "needs_met_answered": "sum(outcome = 'done' AND"
    " (SELECT needs_met FROM visits v WHERE v.id = legs.visit) IS NOT NULL)",
}


class SqliteRecordReader(RecordReader):
    """Period queries on one read-only connection, inside one read transaction (one
    consistent moment of the records, whatever commits meanwhile)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._ranges: dict[tuple[str, str, str], tuple[int, int]] = {}

    def behind(self) -> bool:
        seq = self.conn.execute("SELECT seq FROM records_state").fetchone()[0]
        last = self.conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        return bool(seq != last)

    def _range(self, table: str, first: date, last: date) -> tuple[str, tuple[object, ...]]:
        """The WHERE clause of the period: the id range the day index gives, and the days."""
        days = (first.isoformat(), last.isoformat())
        key = (table, *days)
        if key not in self._ranges:
            low, high = self.conn.execute(
                "SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM visits"
                " WHERE day BETWEEN ? AND ?",
                days,
            ).fetchone()
            self._ranges[key] = (low, high)
        low, high = self._ranges[key]
        column = "id" if table == "visits" else "visit"
        return f"{column} BETWEEN ? AND ? AND day BETWEEN ? AND ?", (low, high, *days)

    def visit_tallies(
        self, first: date, last: date, by: str, targets_min: Mapping[str, float], now: datetime
    ) -> dict[str, dict[str, float]]:
        if by not in VISIT_GROUPS:
            raise ValueError(f"visits are not grouped by {by!r}")
        where, params = self._range("visits", first, last)
        cases = " ".join(
            f"WHEN {_quote(s)} THEN {round(t * _US_PER_MIN)}" for s, t in targets_min.items()
        )
        target = f"CASE service {cases} END" if cases else "NULL"
        names = list(VISIT_TALLIES)
        sums = ", ".join(VISIT_TALLIES[n] for n in names)
        sql = (
            f"SELECT g, {sums} FROM (SELECT *, {GROUP_SQL[by]} AS g, {target} AS target_us"
            f" FROM visits WHERE {where}) GROUP BY g"
        )
        rows = self.conn.execute(sql.replace(":now", str(epoch_us(now))), params)
        return {str(r[0]): dict(zip(names, (v or 0 for v in r[1:]), strict=True)) for r in rows}

    def leg_tallies(self, first: date, last: date, by: str) -> dict[str, dict[str, float]]:
        if by not in LEG_GROUPS:
            raise ValueError(f"legs are not grouped by {by!r}")
        where, params = self._range("legs", first, last)
        names = list(LEG_TALLIES)
        sums = ", ".join(LEG_TALLIES[n] for n in names)
        sql = f"SELECT {GROUP_SQL[by]} AS g, {sums} FROM legs WHERE {where} GROUP BY g"
        rows = self.conn.execute(sql, params)
        return {str(r[0]): dict(zip(names, (v or 0 for v in r[1:]), strict=True)) for r in rows}

    def histograms(self, first: date, last: date, measure: str, by: str) -> dict[str, Histogram]:
        table, bucket, exact, which = MEASURE_SQL[measure]
        groups = VISIT_GROUPS if table == "visits" else LEG_GROUPS
        if by not in groups:
            raise ValueError(f"{measure} is not grouped by {by!r}")
        where, params = self._range(table, first, last)
        sql = (
            f"SELECT {GROUP_SQL[by]} AS g, {bucket} AS b, count(*), total({exact}) FROM {table}"
            f" WHERE {where} AND {which} GROUP BY g, b ORDER BY g, b"
        )
        found: dict[str, tuple[list[tuple[int, int]], list[float]]] = {}
        for group, bucket_value, count, total in self.conn.execute(sql, params):
            buckets, totals = found.setdefault(str(group), ([], []))
            buckets.append((bucket_value, count))
            totals.append(total)
        return {g: Histogram(b, sum(t)) for g, (b, t) in found.items()}

    @staticmethod
    def _days(start: datetime, end: datetime) -> tuple[str, str]:
        """The office days [start, end) touches (spans lie within their day)."""
        last = (end - timedelta(microseconds=1)).date()
        return start.date().isoformat(), last.isoformat()

    def idle_seconds(self, start: datetime, end: datetime, by: str) -> dict[str, float]:
        if by not in ("counter", "staff"):
            raise ValueError(f"idle time is not grouped by {by!r}")
        low, high = epoch_us(start), epoch_us(end)
        rows = self.conn.execute(
            f"SELECT {GROUP_SQL[by]}, total(min(to_us, ?) - max(from_us, ?)) FROM idle_spans"
            " WHERE day BETWEEN ? AND ? AND to_us > ? AND from_us < ? GROUP BY 1",
            (high, low, *self._days(start, end), low, high),
        )
        totals = {str(g): total / 1e6 for g, total in rows}
        for span in self._ongoing("idle", low, high):
            key = span.counter if by == "counter" else span.staff or ""
            totals[key] = totals.get(key, 0.0) + (span.to_us - span.from_us) / 1e6
        return totals

    def staffed_spans(self, start: datetime, end: datetime) -> list[Span]:
        low, high = epoch_us(start), epoch_us(end)
        rows = self.conn.execute(
            f"SELECT {_SPAN_SQL} FROM staffed_spans WHERE day BETWEEN ? AND ?"
            " AND to_us > ? AND from_us < ?",
            (*self._days(start, end), low, high),
        )
        spans = [Span(c, s, d, max(f, low), min(t, high)) for c, s, d, f, t in rows]
        return spans + self._ongoing("staffed", low, high)

    def _ongoing(self, kind: str, low: int, high: int) -> list[Span]:
        """Stretches not ended yet (the fold's state), as if they ended at ``high``, clipped
        to [low, high)."""
        state = json.loads(self.conn.execute("SELECT state FROM records_state").fetchone()[0])
        spans = []
        for counter, (_, staff, idle, staffed) in state.items():
            since = idle if kind == "idle" else staffed
            if since is not None and since[0] < high:
                begin = max(since[0], low)
                spans.append(Span(counter, staff, since[1], begin, high))
        return spans

    def settled_days(self, first: date, last: date) -> set[str]:
        """Days whose records can no longer change: the log has moved past them and none of
        their visits is open (a survey, flag or acknowledgement is refused once the visit's
        day is over, and the morning's housekeeping closes what was left open)."""
        latest = self.conn.execute("SELECT at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        if latest is None:
            return set()
        today = datetime.fromisoformat(latest[0]).date()
        still_open = {
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT day FROM visits WHERE state IN ('waiting', 'called', 'serving')"
            )
        }
        days, day = set(), first
        while day <= last and day < today:
            if day.isoformat() not in still_open:
                days.add(day.isoformat())
            day += timedelta(days=1)
        return days

    def unsummarised_days(self, key: str) -> list[str]:
        days = [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT day FROM visits WHERE day NOT IN"
                " (SELECT day FROM day_summaries WHERE key = ?) ORDER BY day DESC",
                (key,),
            )
        ]
        if not days:
            return []
        settled = self.settled_days(date.fromisoformat(days[-1]), date.fromisoformat(days[0]))
        return [day for day in days if day in settled]

    def cached(self, key: str, days: set[str]) -> dict[str, bytes]:
        if not days:
            return {}
        rows = self.conn.execute(
            "SELECT day, data FROM day_summaries WHERE key = ? AND day BETWEEN ? AND ?",
            (key, min(days), max(days)),
        )
        return {day: bytes(data) for day, data in rows if day in days}

    def keep(self, key: str, summaries: Mapping[str, bytes]) -> None:
        """Keep the summaries of settled days; a cache, so a busy database just skips it."""
        if not summaries:
            return
        with contextlib.suppress(sqlite3.OperationalError):
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            self.conn.execute("PRAGMA query_only = OFF")
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                "INSERT OR REPLACE INTO day_summaries (day, key, data) VALUES (?, ?, ?)",
                [(day, key, data) for day, data in summaries.items()],
            )
            self.conn.execute("COMMIT")

    def closed_at_end_of_day(self, first: date, last: date) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT number FROM visits WHERE day BETWEEN ? AND ?"
                " AND state = 'closed_at_end_of_day' ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        ]

    def flagged(self, first: date, last: date) -> list[tuple[str, str, int]]:
        return list(
            self.conn.execute(
                "SELECT number, flag, arrived_us FROM visits WHERE day BETWEEN ? AND ?"
                " AND flag IS NOT NULL ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        )

    def emergencies(self, first: date, last: date) -> list[EmergencyRecord]:
        rows = self.conn.execute(
            f"SELECT {_EMERGENCY_SQL} FROM emergencies WHERE day BETWEEN ? AND ? ORDER BY id",
            (first.isoformat(), last.isoformat()),
        )
        return [EmergencyRecord(*r) for r in rows]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextlib.contextmanager
def read_records(conn: sqlite3.Connection) -> Iterator[RecordReader]:
    """One read transaction on ``conn`` (closed afterwards); refuses records that are behind."""
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")  # one snapshot for every query of the report
        reader = SqliteRecordReader(conn)
        if reader.behind():
            raise RecordsBehind(
                "the visit records are not built from the whole log yet; start the server once"
                " (it builds them), then ask again"
            )
        yield reader
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
        conn.close()
