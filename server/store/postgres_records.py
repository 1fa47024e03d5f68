"""The visit records in PostgreSQL: their tables, their writing in each commit, their queries.

The same rows as SQLite's (``server/store/sqlite_records.py``: the fold of
``server.reports.records``, written in the log's own transaction) and the same period queries
for :class:`server.store.port.RecordReader`, in PostgreSQL's dialect: ``greatest``/``least``
for SQLite's two-argument ``max``/``min``, sums of booleans cast to integers, and every
fractional figure computed in double precision so a report gets floats, never Decimals.
Queries cover the visits that *arrived* on the period's office days, found by the day index.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

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

log = logging.getLogger("lobby.store")
REBUILD_PAGE = 50_000

SCHEMA = """
CREATE TABLE visits (
    id BIGINT PRIMARY KEY,
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    arrived_us BIGINT NOT NULL,
    quoted_low DOUBLE PRECISION,
    quoted_high DOUBLE PRECISION,
    quoted_point DOUBLE PRECISION,
    ack_us BIGINT,
    ack_via TEXT,
    first_called_us BIGINT,
    ended_us BIGINT,
    state TEXT NOT NULL,
    needs_met INTEGER,
    survey_met INTEGER,
    survey_rating INTEGER,
    transfers INTEGER NOT NULL,
    legs INTEGER NOT NULL,
    counter_us BIGINT NOT NULL,
    flag TEXT
);
CREATE INDEX visits_day ON visits (day);
CREATE INDEX visits_open ON visits (state) WHERE state IN ('waiting', 'called', 'serving');
CREATE INDEX visits_closed ON visits (day) WHERE state = 'closed_at_end_of_day';
CREATE INDEX visits_flagged ON visits (day) WHERE flag IS NOT NULL;
CREATE TABLE legs (
    visit BIGINT NOT NULL,
    leg INTEGER NOT NULL,
    day TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    service TEXT NOT NULL,
    queued_us BIGINT NOT NULL,
    called_us BIGINT,
    last_called_us BIGINT,
    recalls INTEGER NOT NULL,
    counter TEXT,
    staff TEXT,
    started_us BIGINT,
    ended_us BIGINT,
    outcome TEXT,
    PRIMARY KEY (visit, leg)
);
CREATE TABLE idle_spans (
    counter TEXT NOT NULL,
    staff TEXT,
    day TEXT NOT NULL,
    from_us BIGINT NOT NULL,
    to_us BIGINT NOT NULL
);
CREATE INDEX idle_spans_day ON idle_spans (day);
CREATE TABLE staffed_spans (
    counter TEXT NOT NULL,
    staff TEXT,
    day TEXT NOT NULL,
    from_us BIGINT NOT NULL,
    to_us BIGINT NOT NULL
);
CREATE INDEX staffed_spans_day ON staffed_spans (day);
CREATE TABLE day_summaries (
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (day, key)
);
CREATE TABLE records_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    layout TEXT NOT NULL,
    state TEXT NOT NULL
);
INSERT INTO records_state (id, seq, layout, state) VALUES (1, -1, 'not built', '{}');
"""
"""Migration 2. ``seq -1``: never built, so the first serving start builds them from the log."""


EMERGENCY_SCHEMA = """
ALTER TABLE visits ADD COLUMN emergency BIGINT NOT NULL DEFAULT 0;
CREATE TABLE emergencies (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    drill INTEGER NOT NULL,
    day TEXT NOT NULL,
    started_us BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    expected INTEGER NOT NULL,
    pending TEXT NOT NULL,
    acknowledged INTEGER NOT NULL,
    all_acknowledged_us BIGINT,
    ended_us BIGINT,
    ended_by TEXT
);
CREATE INDEX emergencies_day ON emergencies (day);
"""
"""Migration 3: the emergencies and drills, and which visits waited through one. A log
from before holds none, so the records built from it stand as they are."""

_VISIT_SQL = ", ".join(VISIT_COLUMNS)
_LEG_SQL = ", ".join(LEG_COLUMNS)
_SPAN_SQL = ", ".join(SPAN_COLUMNS)
_EMERGENCY_SQL = ", ".join(EMERGENCY_COLUMNS)


def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    marks = ", ".join(["%s"] * len(columns))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


INSERT_VISIT = _upsert("visits", VISIT_COLUMNS, ("id",))
INSERT_LEG = _upsert("legs", LEG_COLUMNS, ("visit", "leg"))
INSERT_EMERGENCY = _upsert("emergencies", EMERGENCY_COLUMNS, ("id",))


def _insert_span(table: str) -> str:
    return f"INSERT INTO {table} ({_SPAN_SQL}) VALUES ({', '.join(['%s'] * len(SPAN_COLUMNS))})"


# ------------------------------------------------------------------ writing


class RecordWriter:
    """The fold on the writer's connection: restored at open, written in each commit."""

    def __init__(self, conn: psycopg.Connection[Any], layout: Layout | None) -> None:
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
            f"SELECT {_EMERGENCY_SQL} FROM emergencies WHERE id = %s", (emergency_id,)
        ).fetchone()
        return EmergencyRecord(*found) if found is not None else None

    def _load(self, visit_id: int) -> tuple[Visit, Leg] | None:
        found = self.conn.execute(
            f"SELECT {_VISIT_SQL} FROM visits WHERE id = %s", (visit_id,)
        ).fetchone()
        if found is None:
            return None
        visit = Visit(*found)
        leg = self.conn.execute(
            f"SELECT {_LEG_SQL} FROM legs WHERE visit = %s AND leg = %s", (visit_id, visit.legs)
        ).fetchone()
        assert leg is not None
        return visit, Leg(*leg)

    def restore(self) -> None:
        """Take up the fold where the committed records left it (at open, after a failure)."""
        state = self.conn.execute("SELECT state FROM records_state").fetchone()
        assert state is not None
        rows = self.conn.execute(
            "SELECT id FROM visits WHERE state IN ('waiting', 'called', 'serving')"
        ).fetchall()
        held = [self._load(int(r[0])) for r in rows]
        self.fold.restore(state[0], [h for h in held if h is not None], self._open_emergencies())

    def up_to_date(self, last_seq: int) -> bool:
        found = self.conn.execute("SELECT seq, layout FROM records_state").fetchone()
        assert found is not None
        return bool(found[0] == last_seq and found[1] == self.built_with)

    def rebuild(self, last_seq: int) -> None:
        """Fold the whole log again, in one transaction (a first start, or a start with
        another layout of counters)."""
        began = time.perf_counter()
        with self.conn.transaction():
            for table in (
                "visits",
                "legs",
                "idle_spans",
                "staffed_spans",
                "day_summaries",
                "emergencies",
            ):
                self.conn.execute(f"DELETE FROM {table}")
            self.fold.restore(None, [])
            seq = 0
            while True:
                page = self.conn.execute(
                    "SELECT seq, at, kind, data FROM events WHERE seq > %s ORDER BY seq LIMIT %s",
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
        with self.conn.cursor() as cursor:
            if changes.visits:
                cursor.executemany(INSERT_VISIT, [row(v) for v in changes.visits.values()])
            if changes.legs:
                cursor.executemany(INSERT_LEG, [row(leg) for leg in changes.legs.values()])
            if changes.idle:
                cursor.executemany(_insert_span("idle_spans"), [row(s) for s in changes.idle])
            if changes.staffed:
                cursor.executemany(_insert_span("staffed_spans"), [row(s) for s in changes.staffed])
            if changes.emergencies:
                cursor.executemany(INSERT_EMERGENCY, [row(e) for e in changes.emergencies.values()])
            if changes.erased:
                cursor.executemany(
                    "UPDATE visits SET flag = %s WHERE id = %s AND flag IS NOT NULL",
                    [(ERASED_FLAG, visit_id) for visit_id in changes.erased],
                )
            cursor.execute(
                "UPDATE records_state SET seq = %s, layout = %s, state = %s",
                (seq, self.built_with, self.fold.state()),
            )


# ------------------------------------------------------------------ reading

_US_PER_MIN = 60_000_000


def _minutes_bucket(duration: str) -> str:
    """A duration in microseconds, never below 0, in hundredths of a minute (half up)."""
    return f"((greatest(0, {duration}) + 300000) / 600000)"


def _seconds_bucket(duration: str) -> str:
    return f"((greatest(0, {duration}) + 5000) / 10000)"


def _per(duration: str, unit_us: int) -> str:
    """A duration, never below 0, in a unit, as a double."""
    return f"(greatest(0, {duration}) / {unit_us}::float8)"


def _count(condition: str) -> str:
    return f"sum(({condition})::int)"


def _total(value: str) -> str:
    """SQLite's ``total``: the sum as a double, 0 over no rows."""
    return f"coalesce(sum(({value})::float8), 0)"


# measure -> (table, bucket expression, exact value expression, which rows)
MEASURE_SQL: dict[str, tuple[str, str, str, str]] = {
    "wait_min": (
        "visits",
        _minutes_bucket("first_called_us - arrived_us"),
        _per("first_called_us - arrived_us", _US_PER_MIN),
        "first_called_us IS NOT NULL AND emergency = 0",
    ),
    "emergency_wait_min": (
        "visits",
        _minutes_bucket("first_called_us - arrived_us"),
        _per("first_called_us - arrived_us", _US_PER_MIN),
        "first_called_us IS NOT NULL AND emergency <> 0",
    ),
    "waited_before_leaving_min": (
        "visits",
        _minutes_bucket("ended_us - arrived_us"),
        _per("ended_us - arrived_us", _US_PER_MIN),
        "first_called_us IS NULL AND state IN ('walkaway', 'closed_at_end_of_day')",
    ),
    "acknowledgement_sec": (
        "visits",
        _seconds_bucket("ack_us - arrived_us"),
        _per("ack_us - arrived_us", 1_000_000),
        "ack_us IS NOT NULL",
    ),
    "counter_time_min": (
        "visits",
        _minutes_bucket("counter_us"),
        f"(counter_us / {_US_PER_MIN}::float8)",
        "state = 'done'",
    ),
    "service_time_min": (
        "legs",
        _minutes_bucket("ended_us - started_us"),
        _per("ended_us - started_us", _US_PER_MIN),
        "started_us IS NOT NULL AND outcome IN ('done', 'transferred')",
    ),
    "call_to_counter_min": (
        "legs",
        _minutes_bucket("started_us - called_us"),
        _per("started_us - called_us", _US_PER_MIN),
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
    "service_hour": "service || chr(31) || hour",
    "service_counter_staff_hour": "service || chr(31) || coalesce(counter, '') || chr(31)"
    " || coalesce(staff, '') || chr(31) || hour",
}

_WAIT = "(first_called_us - arrived_us)"
_WAIT_MIN = _per(_WAIT, _US_PER_MIN)
_CALLED = "(first_called_us IS NOT NULL AND emergency = 0)"
"""A wait measured against the target: called, and no emergency interrupted it."""
_CALLED_QUOTED = f"({_CALLED} AND quoted_point IS NOT NULL)"
VISIT_TALLIES = {
    "check_ins": "count(*)",
    **{
        state: _count(f"state = '{state}'")
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
    "called_once": _count("first_called_us IS NOT NULL"),
    "needs_met_yes": _count("state = 'done' AND needs_met = 1"),
    "needs_met_answered": _count("state = 'done' AND needs_met IS NOT NULL"),
    "survey_answers": _count("survey_met IS NOT NULL"),
    "survey_yes": _count("survey_met = 1"),
    "rating_sum": _total("survey_rating"),
    "rating_count": "count(survey_rating)",
    "printed": _count("ack_via = 'printed'"),
    "screen": _count("ack_via = 'screen'"),
    "level_met": _count(f"target_us IS NOT NULL AND {_CALLED} AND {_WAIT} <= target_us"),
    "level_counted": "sum(CASE WHEN target_us IS NULL OR emergency <> 0 THEN 0"
    " WHEN first_called_us IS NOT NULL THEN 1"
    " WHEN state = 'walkaway' AND ended_us - arrived_us <= target_us THEN 0"
    " WHEN state = 'waiting' AND :now - arrived_us <= target_us THEN 0 ELSE 1 END)",
    "wait_sum_min": _total(f"CASE WHEN {_CALLED} THEN {_WAIT_MIN} END"),
    "wait_count": _count(_CALLED),
    "emergency_visits": _count("emergency <> 0"),
    "emergency_called": _count("emergency <> 0 AND first_called_us IS NOT NULL"),
    "estimates": _count(_CALLED_QUOTED),
    "estimate_abs_sum": _total(
        f"CASE WHEN {_CALLED_QUOTED} THEN abs(quoted_point - {_WAIT_MIN}) END"
    ),
    "estimate_sum": _total(f"CASE WHEN {_CALLED_QUOTED} THEN quoted_point - {_WAIT_MIN} END"),
    "estimate_within_5": _count(f"{_CALLED_QUOTED} AND abs(quoted_point - {_WAIT_MIN}) <= 5"),
    "range_below": _count(f"{_CALLED_QUOTED} AND {_WAIT_MIN} < quoted_low"),
    "range_inside": _count(f"{_CALLED_QUOTED} AND {_WAIT_MIN} BETWEEN quoted_low AND quoted_high"),
    "range_above": _count(f"{_CALLED_QUOTED} AND {_WAIT_MIN} > quoted_high"),
    "range_width_sum": _total(f"CASE WHEN {_CALLED_QUOTED} THEN quoted_high - quoted_low END"),
}
_SERVED = "started_us IS NOT NULL AND outcome IN ('done', 'transferred')"
_NEEDS_MET = "(SELECT needs_met FROM visits v WHERE v.id = legs.visit)"
LEG_TALLIES = {
    "legs": "count(*)",
    "calls": _count("called_us IS NOT NULL"),
    "served": _count("started_us IS NOT NULL"),
    "done": _count("outcome = 'done'"),
    "no_show": _count("outcome = 'no_show'"),
    "transfers": _count("outcome = 'transferred'"),
    "recalls": _total("recalls"),
    "service_sum_min": _total(
        f"CASE WHEN {_SERVED} THEN {_per('ended_us - started_us', _US_PER_MIN)} END"
    ),
    "service_count": _count(_SERVED),
    "needs_met_yes": _count(f"outcome = 'done' AND {_NEEDS_MET} = 1"),
    "needs_met_answered": _count(f"outcome = 'done' AND {_NEEDS_MET} IS NOT NULL"),
}


def _number(value: object) -> float:
    """A figure as Python number: counts stay ints, anything PostgreSQL summed exactly as
    numeric becomes a float, and no rows counts as 0."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return float(value)
    assert isinstance(value, int | float)
    return value


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PostgresRecordReader(RecordReader):
    """Period queries on a connection of their own, inside one read-only repeatable-read
    transaction: one consistent moment of the records, whatever commits meanwhile."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._ranges: dict[tuple[str, str, str], tuple[int, int]] = {}

    def _one(self, sql: str, params: tuple[object, ...] = ()) -> tuple[Any, ...]:
        found = self.conn.execute(sql, params).fetchone()
        assert found is not None
        return found

    def behind(self) -> bool:
        seq = self._one("SELECT seq FROM records_state")[0]
        last = self._one("SELECT coalesce(max(seq), 0) FROM events")[0]
        return bool(seq != last)

    def _range(self, table: str, first: date, last: date) -> tuple[str, tuple[object, ...]]:
        """The WHERE clause of the period: the id range the day index gives, and the days."""
        days = (first.isoformat(), last.isoformat())
        key = (table, *days)
        if key not in self._ranges:
            # ``id + 0``: over plain ``min(id)`` the planner may walk the primary key from the
            # first visit until one of the period turns up, half a million rows for a late day
            low, high = self._one(
                "SELECT coalesce(min(id + 0), 0), coalesce(max(id + 0), -1) FROM visits"
                " WHERE day BETWEEN %s AND %s",
                days,
            )
            self._ranges[key] = (int(low), int(high))
        low, high = self._ranges[key]
        column = "id" if table == "visits" else "visit"
        return f"{column} BETWEEN %s AND %s AND day BETWEEN %s AND %s", (low, high, *days)

    def _tallies(self, sql: str, names: list[str], params: tuple[object, ...]) -> dict[str, Any]:
        rows = self.conn.execute(sql, params)
        return {str(r[0]): dict(zip(names, (_number(v) for v in r[1:]), strict=True)) for r in rows}

    def visit_tallies(
        self, first: date, last: date, by: str, targets_min: Mapping[str, float], now: datetime
    ) -> dict[str, dict[str, float]]:
        if by not in VISIT_GROUPS:
            raise ValueError(f"visits are not grouped by {by!r}")
        where, params = self._range("visits", first, last)
        cases = " ".join(
            f"WHEN {_quote(s)} THEN {round(t * _US_PER_MIN)}" for s, t in targets_min.items()
        )
        target = f"CASE service {cases} END" if cases else "NULL::bigint"
        names = list(VISIT_TALLIES)
        sums = ", ".join(VISIT_TALLIES[n] for n in names)
        sql = (
            f"SELECT g, {sums} FROM (SELECT *, {GROUP_SQL[by]} AS g, {target} AS target_us"
            f" FROM visits WHERE {where}) AS period GROUP BY g"
        )
        return self._tallies(sql.replace(":now", str(epoch_us(now))), names, params)

    def leg_tallies(self, first: date, last: date, by: str) -> dict[str, dict[str, float]]:
        if by not in LEG_GROUPS:
            raise ValueError(f"legs are not grouped by {by!r}")
        where, params = self._range("legs", first, last)
        names = list(LEG_TALLIES)
        sums = ", ".join(LEG_TALLIES[n] for n in names)
        sql = f"SELECT {GROUP_SQL[by]} AS g, {sums} FROM legs WHERE {where} GROUP BY g"
        return self._tallies(sql, names, params)

    def histograms(self, first: date, last: date, measure: str, by: str) -> dict[str, Histogram]:
        table, bucket, exact, which = MEASURE_SQL[measure]
        groups = VISIT_GROUPS if table == "visits" else LEG_GROUPS
        if by not in groups:
            raise ValueError(f"{measure} is not grouped by {by!r}")
        where, params = self._range(table, first, last)
        sql = (
            f"SELECT {GROUP_SQL[by]} AS g, {bucket} AS b, count(*), {_total(exact)}"
            f" FROM {table} WHERE {where} AND {which} GROUP BY g, b ORDER BY g, b"
        )
        found: dict[str, tuple[list[tuple[int, int]], list[float]]] = {}
        for group, bucket_value, count, total in self.conn.execute(sql, params):
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
        low, high = epoch_us(start), epoch_us(end)
        rows = self.conn.execute(
            f"SELECT {GROUP_SQL[by]}, {_total('least(to_us, %s) - greatest(from_us, %s)')}"
            " FROM idle_spans WHERE day BETWEEN %s AND %s AND to_us > %s AND from_us < %s"
            " GROUP BY 1",
            (high, low, *self._days(start, end), low, high),
        )
        totals = {str(g): float(total) / 1e6 for g, total in rows}
        for span in self._ongoing("idle", low, high):
            key = span.counter if by == "counter" else span.staff or ""
            totals[key] = totals.get(key, 0.0) + (span.to_us - span.from_us) / 1e6
        return totals

    def staffed_spans(self, start: datetime, end: datetime) -> list[Span]:
        low, high = epoch_us(start), epoch_us(end)
        rows = self.conn.execute(
            f"SELECT {_SPAN_SQL} FROM staffed_spans WHERE day BETWEEN %s AND %s"
            " AND to_us > %s AND from_us < %s",
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
        their visits is open (see the SQLite store's reader)."""
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
                " (SELECT day FROM day_summaries WHERE key = %s) ORDER BY day DESC",
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
            "SELECT day, data FROM day_summaries WHERE key = %s AND day BETWEEN %s AND %s",
            (key, min(days), max(days)),
        )
        return {day: bytes(data) for day, data in rows if day in days}

    def keep(self, key: str, summaries: Mapping[str, bytes]) -> None:
        """Keep the summaries of settled days; a cache, so a failure just skips it."""
        if not summaries:
            return
        conn = self.conn
        try:
            conn.commit()  # the read transaction ends here: this is the reader's last call
            conn.read_only = False
            with conn.transaction():
                conn.cursor().executemany(
                    "INSERT INTO day_summaries (day, key, data) VALUES (%s, %s, %s)"
                    " ON CONFLICT (day, key) DO UPDATE SET data = excluded.data",
                    [(day, key, data) for day, data in summaries.items()],
                )
        except psycopg.Error as exc:
            log.warning("report summaries not kept: %s", exc)

    def closed_at_end_of_day(self, first: date, last: date) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT number FROM visits WHERE day BETWEEN %s AND %s"
                " AND state = 'closed_at_end_of_day' ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        ]

    def flagged(self, first: date, last: date) -> list[tuple[str, str, int]]:
        return [
            (str(number), str(flag), int(arrived))
            for number, flag, arrived in self.conn.execute(
                "SELECT number, flag, arrived_us FROM visits WHERE day BETWEEN %s AND %s"
                " AND flag IS NOT NULL ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        ]

    def emergencies(self, first: date, last: date) -> list[EmergencyRecord]:
        rows = self.conn.execute(
            f"SELECT {_EMERGENCY_SQL} FROM emergencies WHERE day BETWEEN %s AND %s ORDER BY id",
            (first.isoformat(), last.isoformat()),
        )
        return [EmergencyRecord(*r) for r in rows]


@contextlib.contextmanager
def read_records(conn: psycopg.Connection[Any]) -> Iterator[RecordReader]:
    """One read-only repeatable-read transaction on ``conn`` (closed afterwards); refuses
    records that are behind."""
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        reader = PostgresRecordReader(conn)
        if reader.behind():
            raise RecordsBehind(
                "the visit records are not built from the whole log yet; start the server once"
                " (it builds them), then ask again"
            )
        yield reader
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.commit()
        conn.close()
