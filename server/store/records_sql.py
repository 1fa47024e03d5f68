"""The visit records' tables, their writing and their period queries, written once for both
stores.

The records are the fold of ``server.reports.records``, written in the log's own transaction;
the queries answer :class:`server.store.port.RecordReader` for reports. Every report figure is
one SQL expression below, so a measure (``docs/measures.md``) is defined in one place whatever
the database. SQLite and PostgreSQL differ only in what :class:`Dialect` holds: SQLite's
two-argument ``max``/``min`` are PostgreSQL's ``greatest``/``least``, PostgreSQL sums booleans
cast to integers, and every fractional figure is computed in double precision so a report gets
floats, never Decimals. How a transaction begins and how many rows go in one statement are each
store's own (``sqlite_records.py``, ``postgres_records.py``).

Queries cover the visits that *arrived* on the period's office days. A visit's ids grow with
time, so the day index gives the period's id range and each query scans just that range of the
table in order, with the day checked on every row.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar, Generic, Protocol, TypeVar

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
)

log = logging.getLogger("lobby.store")
REBUILD_PAGE = 50_000
US_PER_MIN = 60_000_000


class Connection(Protocol):
    """What the records ask of a DB-API connection (``sqlite3`` and ``psycopg`` both have it)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def cursor(self) -> Any: ...


C = TypeVar("C", bound=Connection)
Names = tuple[str, ...]
Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Dialect:
    """Where the two databases' SQL differs; everything else below is the same text."""

    mark: str
    """A parameter's placeholder."""
    big: str
    """The type of ids and microsecond times."""
    real: str
    blob: str
    greatest: str
    least: str
    chr: str
    count_of: str
    """The number of rows where a condition (``{}``) holds."""
    total_of: str
    """SQLite's ``total``: the sum of ``{}`` as a double, 0 over no rows."""
    unit_of: str
    """A whole number of microseconds (``{}``) as a double divisor."""
    no_target: str
    """A NULL the planner knows to be an integer."""

    def sql(self, text: str) -> str:
        """``text`` written with ``?`` placeholders, in this dialect's."""
        return text if self.mark == "?" else text.replace("?", self.mark)

    def count(self, condition: str) -> str:
        return self.count_of.format(condition)

    def total(self, value: str) -> str:
        return self.total_of.format(value)

    def per(self, duration: str, unit_us: int) -> str:
        """A duration, never below 0, in a unit, as a double."""
        return f"({self.greatest}(0, {duration}) / {self.unit_of.format(unit_us)})"

    def minutes_bucket(self, duration: str) -> str:
        """A duration in microseconds, never below 0, in hundredths of a minute (half up)."""
        return f"(({self.greatest}(0, {duration}) + 300000) / 600000)"

    def seconds_bucket(self, duration: str) -> str:
        return f"(({self.greatest}(0, {duration}) + 5000) / 10000)"


SQLITE = Dialect(
    mark="?",
    big="INTEGER",
    real="REAL",
    blob="BLOB",
    greatest="max",
    least="min",
    chr="char",
    count_of="sum({})",
    total_of="total({})",
    unit_of="{}.0",
    no_target="NULL",
)
POSTGRES = Dialect(
    mark="%s",
    big="BIGINT",
    real="DOUBLE PRECISION",
    blob="BYTEA",
    greatest="greatest",
    least="least",
    chr="chr",
    count_of="sum(({})::int)",
    total_of="coalesce(sum(({})::float8), 0)",
    unit_of="{}::float8",
    no_target="NULL::bigint",
)

# ------------------------------------------------------------------ tables

_SCHEMA = """
CREATE TABLE visits (
    id {big} PRIMARY KEY,
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    arrived_us {big} NOT NULL,
    quoted_low {real},
    quoted_high {real},
    quoted_point {real},
    ack_us {big},
    ack_via TEXT,
    first_called_us {big},
    ended_us {big},
    state TEXT NOT NULL,
    needs_met INTEGER,
    survey_met INTEGER,
    survey_rating INTEGER,
    transfers INTEGER NOT NULL,
    legs INTEGER NOT NULL,
    counter_us {big} NOT NULL,
    flag TEXT
);
CREATE INDEX visits_day ON visits(day);
CREATE INDEX visits_open ON visits(state) WHERE state IN ('waiting', 'called', 'serving');
CREATE INDEX visits_closed ON visits(day) WHERE state = 'closed_at_end_of_day';
CREATE INDEX visits_flagged ON visits(day) WHERE flag IS NOT NULL;
CREATE TABLE legs (
    visit {big} NOT NULL,
    leg INTEGER NOT NULL,
    day TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    service TEXT NOT NULL,
    queued_us {big} NOT NULL,
    called_us {big},
    last_called_us {big},
    recalls INTEGER NOT NULL,
    counter TEXT,
    staff TEXT,
    started_us {big},
    ended_us {big},
    outcome TEXT,
    PRIMARY KEY (visit, leg)
);
CREATE TABLE idle_spans (
    counter TEXT NOT NULL,
    staff TEXT,
    day TEXT NOT NULL,
    from_us {big} NOT NULL,
    to_us {big} NOT NULL
);
CREATE INDEX idle_spans_day ON idle_spans(day);
CREATE TABLE staffed_spans (
    counter TEXT NOT NULL,
    staff TEXT,
    day TEXT NOT NULL,
    from_us {big} NOT NULL,
    to_us {big} NOT NULL
);
CREATE INDEX staffed_spans_day ON staffed_spans(day);
CREATE TABLE day_summaries (
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (day, key)
);
CREATE TABLE records_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq {big} NOT NULL,
    layout TEXT NOT NULL,
    state TEXT NOT NULL
);
INSERT INTO records_state (id, seq, layout, state) VALUES (1, -1, 'not built', '{{}}');
"""

_EMERGENCY_SCHEMA = """
ALTER TABLE visits ADD COLUMN emergency {big} NOT NULL DEFAULT 0;
CREATE TABLE emergencies (
    id {big} PRIMARY KEY,
    kind TEXT NOT NULL,
    drill INTEGER NOT NULL,
    day TEXT NOT NULL,
    started_us {big} NOT NULL,
    started_by TEXT NOT NULL,
    expected INTEGER NOT NULL,
    pending TEXT NOT NULL,
    acknowledged INTEGER NOT NULL,
    all_acknowledged_us {big},
    ended_us {big},
    ended_by TEXT
);
CREATE INDEX emergencies_day ON emergencies (day);
"""


def schema(dialect: Dialect) -> str:
    """The records' tables. ``seq -1``: never built, so the first serving start builds them
    from the log."""
    return _SCHEMA.format(big=dialect.big, real=dialect.real, blob=dialect.blob)


def emergency_schema(dialect: Dialect) -> str:
    """The emergencies and drills, and which visits waited through one. A log from before
    holds none, so the records built from it stand as they are."""
    return _EMERGENCY_SCHEMA.format(big=dialect.big)


_VISIT_SQL = ", ".join(VISIT_COLUMNS)
_LEG_SQL = ", ".join(LEG_COLUMNS)
SPAN_SQL = ", ".join(SPAN_COLUMNS)
EMERGENCY_SQL = ", ".join(EMERGENCY_COLUMNS)


def _insert_span(table: str) -> str:
    return f"INSERT INTO {table} ({SPAN_SQL}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"


class Statements(Generic[C]):
    """SQL written with ``?`` placeholders, run on ``conn`` in the subclass's dialect."""

    dialect: ClassVar[Dialect]

    def __init__(self, conn: C) -> None:
        self.conn = conn

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(self.dialect.sql(sql), params)

    def _each(self, sql: str, rows: Rows) -> None:
        with contextlib.closing(self.conn.cursor()) as cursor:
            cursor.executemany(self.dialect.sql(sql), rows)


# ------------------------------------------------------------------ writing


class RecordRows(Statements[C]):
    """The fold on the writer's connection: restored at open, written in each commit."""

    def __init__(self, conn: C, layout: Layout | None) -> None:
        super().__init__(conn)
        self.layout = layout
        self.built_with = fingerprint(layout)
        """The layout's fingerprint, stored with every commit: worked out once."""
        self.fold = RecordFold(layout, self._load, self._load_emergency)

    def _transaction(self) -> contextlib.AbstractContextManager[object]:
        """One transaction of the store's own, committed at the end, rolled back on error."""
        raise NotImplementedError

    def _upsert(self, table: str, columns: Names, key: Names, rows: Rows) -> None:
        """Write ``rows`` into ``table``, each replacing the row of the same ``key`` (its
        primary key)."""
        raise NotImplementedError

    def _open_emergencies(self) -> list[EmergencyRecord]:
        rows = self._execute(f"SELECT {EMERGENCY_SQL} FROM emergencies WHERE ended_us IS NULL")
        return [EmergencyRecord(*r) for r in rows.fetchall()]

    def _load_emergency(self, emergency_id: int) -> EmergencyRecord | None:
        found = self._execute(
            f"SELECT {EMERGENCY_SQL} FROM emergencies WHERE id = ?", (emergency_id,)
        ).fetchone()
        return EmergencyRecord(*found) if found is not None else None

    def _load(self, visit_id: int) -> tuple[Visit, Leg] | None:
        found = self._execute(f"SELECT {_VISIT_SQL} FROM visits WHERE id = ?", (visit_id,))
        visit_row = found.fetchone()
        if visit_row is None:
            return None
        visit = Visit(*visit_row)
        leg = self._execute(
            f"SELECT {_LEG_SQL} FROM legs WHERE visit = ? AND leg = ?", (visit_id, visit.legs)
        ).fetchone()
        assert leg is not None
        return visit, Leg(*leg)

    def restore(self) -> None:
        """Take up the fold where the committed records left it (at open, after a failure)."""
        state = self._execute("SELECT state FROM records_state").fetchone()
        assert state is not None
        rows = self._execute(
            "SELECT id FROM visits WHERE state IN ('waiting', 'called', 'serving')"
        ).fetchall()
        held = [self._load(int(r[0])) for r in rows]
        self.fold.restore(state[0], [h for h in held if h is not None], self._open_emergencies())

    def up_to_date(self, last_seq: int) -> bool:
        found = self._execute("SELECT seq, layout FROM records_state").fetchone()
        assert found is not None
        return bool(found[0] == last_seq and found[1] == self.built_with)

    def rebuild(self, last_seq: int) -> None:
        """Fold the whole log again, in one transaction (a first start, or a start with
        another layout of counters)."""
        began = time.perf_counter()
        with self._transaction():
            for table in (
                "visits",
                "legs",
                "idle_spans",
                "staffed_spans",
                "day_summaries",
                "emergencies",
            ):
                self._execute(f"DELETE FROM {table}")
            self.fold.restore(None, [])
            seq = 0
            while True:
                page = self._execute(
                    "SELECT seq, at, kind, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, REBUILD_PAGE),
                ).fetchall()
                if not page:
                    break
                seq = int(page[-1][0])
                self.write(self.fold.fold(decode_event(*r[1:]) for r in page), seq)
            self.write(Changes(), last_seq)
        log.info(
            "built the visit records from %d events in %.1f s",
            last_seq,
            time.perf_counter() - began,
        )

    def write(self, changes: Changes, seq: int) -> None:
        """Write one batch's changed rows; inside the caller's transaction."""
        if changes.visits:
            self._upsert(
                "visits", VISIT_COLUMNS, ("id",), [row(v) for v in changes.visits.values()]
            )
        if changes.legs:
            self._upsert(
                "legs", LEG_COLUMNS, ("visit", "leg"), [row(leg) for leg in changes.legs.values()]
            )
        if changes.emergencies:
            emergencies = [row(e) for e in changes.emergencies.values()]
            self._upsert("emergencies", EMERGENCY_COLUMNS, ("id",), emergencies)
        if changes.idle:
            self._each(_insert_span("idle_spans"), [row(s) for s in changes.idle])
        if changes.staffed:
            self._each(_insert_span("staffed_spans"), [row(s) for s in changes.staffed])
        if changes.erased:
            self._each(
                "UPDATE visits SET flag = ? WHERE id = ? AND flag IS NOT NULL",
                [(ERASED_FLAG, visit_id) for visit_id in changes.erased],
            )
        self._execute(
            "UPDATE records_state SET seq = ?, layout = ?, state = ?",
            (seq, self.built_with, self.fold.state()),
        )


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Figures:
    """Every report figure's SQL in one dialect (see :func:`figures`)."""

    measures: dict[str, tuple[str, str, str, str]]
    """measure -> (table, bucket expression, exact value expression, which rows)"""
    groups: dict[str, str]
    visit_tallies: dict[str, str]
    leg_tallies: dict[str, str]


@cache
def figures(d: Dialect) -> Figures:
    wait = "(first_called_us - arrived_us)"
    wait_min = d.per(wait, US_PER_MIN)
    # a wait measured against the target: called, and no emergency interrupted it
    called = "(first_called_us IS NOT NULL AND emergency = 0)"
    quoted = f"({called} AND quoted_point IS NOT NULL)"
    served = "started_us IS NOT NULL AND outcome IN ('done', 'transferred')"
    needs_met = "(SELECT needs_met FROM visits v WHERE v.id = legs.visit)"

    def measure(
        table: str, duration: str, which: str, bucket: str = "min"
    ) -> tuple[str, str, str, str]:
        if bucket == "sec":
            return table, d.seconds_bucket(duration), d.per(duration, 1_000_000), which
        return table, d.minutes_bucket(duration), d.per(duration, US_PER_MIN), which

    measures = {
        "wait_min": measure(
            "visits",
            "first_called_us - arrived_us",
            "first_called_us IS NOT NULL AND emergency = 0",
        ),
        "emergency_wait_min": measure(
            "visits",
            "first_called_us - arrived_us",
            "first_called_us IS NOT NULL AND emergency <> 0",
        ),
        "waited_before_leaving_min": measure(
            "visits",
            "ended_us - arrived_us",
            "first_called_us IS NULL AND state IN ('walkaway', 'closed_at_end_of_day')",
        ),
        "acknowledgement_sec": measure(
            "visits", "ack_us - arrived_us", "ack_us IS NOT NULL", bucket="sec"
        ),
        "counter_time_min": (
            "visits",
            d.minutes_bucket("counter_us"),
            f"(counter_us / {d.unit_of.format(US_PER_MIN)})",
            "state = 'done'",
        ),
        "service_time_min": measure("legs", "ended_us - started_us", served),
        "call_to_counter_min": measure(
            "legs", "started_us - called_us", "started_us IS NOT NULL AND called_us IS NOT NULL"
        ),
    }
    assert set(measures) == set(VISIT_MEASURES) | set(LEG_MEASURES)
    sep = f" || {d.chr}(31) || "
    groups = {
        "": "''",
        "service": "service",
        "counter": "coalesce(counter, '')",
        "staff": "coalesce(staff, '')",
        "day": "day",
        "hour": "hour",
        "weekday_hour": "weekday * 100 + hour",
        "service_hour": f"service{sep}hour",
        "service_counter_staff_hour": sep.join(
            ("service", "coalesce(counter, '')", "coalesce(staff, '')", "hour")
        ),
    }
    states = ("done", "no_show", "walkaway", "closed_at_end_of_day", "waiting", "called", "serving")
    visit_tallies = {
        "check_ins": "count(*)",
        **{state: d.count(f"state = '{state}'") for state in states},
        "called_once": d.count("first_called_us IS NOT NULL"),
        "needs_met_yes": d.count("state = 'done' AND needs_met = 1"),
        "needs_met_answered": d.count("state = 'done' AND needs_met IS NOT NULL"),
        "survey_answers": d.count("survey_met IS NOT NULL"),
        "survey_yes": d.count("survey_met = 1"),
        "rating_sum": d.total("survey_rating"),
        "rating_count": "count(survey_rating)",
        "printed": d.count("ack_via = 'printed'"),
        "screen": d.count("ack_via = 'screen'"),
        "level_met": d.count(f"target_us IS NOT NULL AND {called} AND {wait} <= target_us"),
        "level_counted": "sum(CASE WHEN target_us IS NULL OR emergency <> 0 THEN 0"
        " WHEN first_called_us IS NOT NULL THEN 1"
        " WHEN state = 'walkaway' AND ended_us - arrived_us <= target_us THEN 0"
        " WHEN state = 'waiting' AND :now - arrived_us <= target_us THEN 0 ELSE 1 END)",
        "wait_sum_min": d.total(f"CASE WHEN {called} THEN {wait_min} END"),
        "wait_count": d.count(called),
        "emergency_visits": d.count("emergency <> 0"),
        "emergency_called": d.count("emergency <> 0 AND first_called_us IS NOT NULL"),
        "estimates": d.count(quoted),
        "estimate_abs_sum": d.total(f"CASE WHEN {quoted} THEN abs(quoted_point - {wait_min}) END"),
        "estimate_sum": d.total(f"CASE WHEN {quoted} THEN quoted_point - {wait_min} END"),
        "estimate_within_5": d.count(f"{quoted} AND abs(quoted_point - {wait_min}) <= 5"),
        "range_below": d.count(f"{quoted} AND {wait_min} < quoted_low"),
        "range_inside": d.count(f"{quoted} AND {wait_min} BETWEEN quoted_low AND quoted_high"),
        "range_above": d.count(f"{quoted} AND {wait_min} > quoted_high"),
        "range_width_sum": d.total(f"CASE WHEN {quoted} THEN quoted_high - quoted_low END"),
    }
    leg_tallies = {
        "legs": "count(*)",
        "calls": d.count("called_us IS NOT NULL"),
        "served": d.count("started_us IS NOT NULL"),
        "done": d.count("outcome = 'done'"),
        "no_show": d.count("outcome = 'no_show'"),
        "transfers": d.count("outcome = 'transferred'"),
        "recalls": d.total("recalls"),
        "service_sum_min": d.total(
            f"CASE WHEN {served} THEN {d.per('ended_us - started_us', US_PER_MIN)} END"
        ),
        "service_count": d.count(served),
        "needs_met_yes": d.count(f"outcome = 'done' AND {needs_met} = 1"),
        "needs_met_answered": d.count(f"outcome = 'done' AND {needs_met} IS NOT NULL"),
    }
    return Figures(measures, groups, visit_tallies, leg_tallies)


def _number(value: object) -> float:
    """A figure as a Python number: counts stay ints, anything summed exactly as a decimal
    becomes a float, and no rows counts as 0."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return float(value)
    assert isinstance(value, int | float)
    return value


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class RecordQueries(RecordReader, Statements[C]):
    """Period queries inside one read-only transaction that the store opened (one consistent
    moment of the records, whatever commits meanwhile)."""

    def __init__(self, conn: C) -> None:
        super().__init__(conn)
        self.figures = figures(self.dialect)
        self._ranges: dict[tuple[str, str, str], tuple[int, int]] = {}

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        found = self._execute(sql, params).fetchone()
        assert found is not None
        return tuple(found)

    def behind(self) -> bool:
        seq = self._one("SELECT seq FROM records_state")[0]
        last = self._one("SELECT coalesce(max(seq), 0) FROM events")[0]
        return bool(seq != last)

    def _range(self, table: str, first: date, last: date) -> tuple[str, tuple[object, ...]]:
        """The WHERE clause of the period: the id range the day index gives, and the days."""
        days = (first.isoformat(), last.isoformat())
        key = (table, *days)
        if key not in self._ranges:
            # ``id + 0``: over plain ``min(id)`` PostgreSQL's planner may walk the primary key
            # from the first visit until one of the period turns up, half a million rows for a
            # late day (SQLite's plan is the day index either way)
            low, high = self._one(
                "SELECT coalesce(min(id + 0), 0), coalesce(max(id + 0), -1) FROM visits"
                " WHERE day BETWEEN ? AND ?",
                days,
            )
            self._ranges[key] = (int(low), int(high))
        low, high = self._ranges[key]
        column = "id" if table == "visits" else "visit"
        return f"{column} BETWEEN ? AND ? AND day BETWEEN ? AND ?", (low, high, *days)

    def _tallies(self, sql: str, names: list[str], params: tuple[object, ...]) -> dict[str, Any]:
        rows = self._execute(sql, params)
        return {str(r[0]): dict(zip(names, (_number(v) for v in r[1:]), strict=True)) for r in rows}

    def visit_tallies(
        self, first: date, last: date, by: str, targets_min: Mapping[str, float], now: datetime
    ) -> dict[str, dict[str, float]]:
        if by not in VISIT_GROUPS:
            raise ValueError(f"visits are not grouped by {by!r}")
        where, params = self._range("visits", first, last)
        cases = " ".join(
            f"WHEN {_quote(s)} THEN {round(t * US_PER_MIN)}" for s, t in targets_min.items()
        )
        target = f"CASE service {cases} END" if cases else self.dialect.no_target
        tallies = self.figures.visit_tallies
        names = list(tallies)
        sums = ", ".join(tallies[n] for n in names)
        sql = (
            f"SELECT g, {sums} FROM (SELECT *, {self.figures.groups[by]} AS g,"
            f" {target} AS target_us FROM visits WHERE {where}) AS period GROUP BY g"
        )
        return self._tallies(sql.replace(":now", str(epoch_us(now))), names, params)

    def leg_tallies(self, first: date, last: date, by: str) -> dict[str, dict[str, float]]:
        if by not in LEG_GROUPS:
            raise ValueError(f"legs are not grouped by {by!r}")
        where, params = self._range("legs", first, last)
        tallies = self.figures.leg_tallies
        names = list(tallies)
        sums = ", ".join(tallies[n] for n in names)
        sql = f"SELECT {self.figures.groups[by]} AS g, {sums} FROM legs WHERE {where} GROUP BY g"
        return self._tallies(sql, names, params)

    def histograms(self, first: date, last: date, measure: str, by: str) -> dict[str, Histogram]:
        table, bucket, exact, which = self.figures.measures[measure]
        groups = VISIT_GROUPS if table == "visits" else LEG_GROUPS
        if by not in groups:
            raise ValueError(f"{measure} is not grouped by {by!r}")
        where, params = self._range(table, first, last)
        sql = (
            f"SELECT {self.figures.groups[by]} AS g, {bucket} AS b, count(*),"
            f" {self.dialect.total(exact)} FROM {table} WHERE {where} AND {which}"
            " GROUP BY g, b ORDER BY g, b"
        )
        found: dict[str, tuple[list[tuple[int, int]], list[float]]] = {}
        for group, bucket_value, count, total in self._execute(sql, params):
            buckets, totals = found.setdefault(str(group), ([], []))
            buckets.append((int(bucket_value), int(count)))
            totals.append(float(total))
        return {g: Histogram(b, sum(t)) for g, (b, t) in found.items()}

    @staticmethod
    def _days(start: datetime, end: datetime) -> tuple[str, str]:
        """The office days [start, end) touches (spans lie within their day)."""
        last = (end - timedelta(microseconds=1)).date()
        return start.date().isoformat(), last.isoformat()

    def idle_seconds(self, start: datetime, end: datetime, by: str) -> dict[str, float]:
        if by not in ("counter", "staff"):
            raise ValueError(f"idle time is not grouped by {by!r}")
        d = self.dialect
        low, high = epoch_us(start), epoch_us(end)
        overlap = d.total(f"{d.least}(to_us, ?) - {d.greatest}(from_us, ?)")
        rows = self._execute(
            f"SELECT {self.figures.groups[by]}, {overlap} FROM idle_spans"
            " WHERE day BETWEEN ? AND ? AND to_us > ? AND from_us < ? GROUP BY 1",
            (high, low, *self._days(start, end), low, high),
        )
        totals = {str(g): float(total) / 1e6 for g, total in rows}
        for span in self._ongoing("idle", low, high):
            key = span.counter if by == "counter" else span.staff or ""
            totals[key] = totals.get(key, 0.0) + (span.to_us - span.from_us) / 1e6
        return totals

    def staffed_spans(self, start: datetime, end: datetime) -> list[Span]:
        low, high = epoch_us(start), epoch_us(end)
        rows = self._execute(
            f"SELECT {SPAN_SQL} FROM staffed_spans WHERE day BETWEEN ? AND ?"
            " AND to_us > ? AND from_us < ?",
            (*self._days(start, end), low, high),
        )
        spans = [Span(c, s, d, max(f, low), min(t, high)) for c, s, d, f, t in rows]
        return spans + self._ongoing("staffed", low, high)

    def _ongoing(self, kind: str, low: int, high: int) -> list[Span]:
        """Stretches not ended yet (the fold's state), as if they ended at ``high``, clipped
        to [low, high)."""
        state = json.loads(self._one("SELECT state FROM records_state")[0])
        spans = []
        for counter, (_, staff, idle, staffed) in state.items():
            since = idle if kind == "idle" else staffed
            if since is not None and since[0] < high:
                spans.append(Span(counter, staff, since[1], max(since[0], low), high))
        return spans

    def settled_days(self, first: date, last: date) -> set[str]:
        """Days whose records can no longer change: the log has moved past them and none of
        their visits is open (a survey, flag or acknowledgement is refused once the visit's
        day is over, and the morning's housekeeping closes what was left open)."""
        latest = self._execute("SELECT at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        if latest is None:
            return set()
        today = datetime.fromisoformat(latest[0]).date()
        still_open = {
            r[0]
            for r in self._execute(
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
            for r in self._execute(
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
        rows = self._execute(
            "SELECT day, data FROM day_summaries WHERE key = ? AND day BETWEEN ? AND ?",
            (key, min(days), max(days)),
        )
        return {day: bytes(data) for day, data in rows if day in days}

    def closed_at_end_of_day(self, first: date, last: date) -> list[str]:
        return [
            str(r[0])
            for r in self._execute(
                "SELECT number FROM visits WHERE day BETWEEN ? AND ?"
                " AND state = 'closed_at_end_of_day' ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        ]

    def flagged(self, first: date, last: date) -> list[tuple[str, str, int]]:
        return [
            (str(number), str(flag), int(arrived))
            for number, flag, arrived in self._execute(
                "SELECT number, flag, arrived_us FROM visits WHERE day BETWEEN ? AND ?"
                " AND flag IS NOT NULL ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        ]

    def emergencies(self, first: date, last: date) -> list[EmergencyRecord]:
        rows = self._execute(
            f"SELECT {EMERGENCY_SQL} FROM emergencies WHERE day BETWEEN ? AND ? ORDER BY id",
            (first.isoformat(), last.isoformat()),
        )
        return [EmergencyRecord(*r) for r in rows]
