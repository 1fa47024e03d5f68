"""A period's report from a store's visit records: the one function the page, the API and the
command line share (``build_report``), with the definitions in docs/measures.md.

A period is a run of office days. Each day is summarised from its records (a handful of indexed
queries) into sums and histograms that add up, so a month or a year is the sum of its days. A
day whose records can no longer change (the log moved past it and none of its visits is open)
keeps its summary in the store, so a year's report reads 250 small summaries instead of half a
million rows; today is always summarised afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from time import monotonic as time_now
from typing import Any, Protocol

import msgspec

from server.config import OfficeConfig
from server.reports import stats
from server.reports.records import EmergencyRecord
from server.reports.staffing import GOAL, advice
from server.store.port import (
    GROUP_SEPARATOR,
    LEG_MEASURES,
    VISIT_MEASURES,
    RecordReader,
    Store,
)

Tallies = dict[str, float]
BREAKDOWNS = ("service", "counter", "staff", "day", "hour")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OUTCOMES = ("done", "no_show", "walkaway", "closed_at_end_of_day", "waiting", "called", "serving")
OPEN_STATES = ("waiting", "called", "serving")
BIN_WIDTHS_MIN = (60, 30, 20, 15, 10, 5, 2, 1)
"""Widths a wait histogram may use: the widest that puts the target on an edge 3+ bins in."""
BINS_TO_TARGETS = 3
"""A wait histogram runs to three times the target; longer waits share the last bin."""
KEEP_BUDGET_SEC = 2.0
"""How long one round of housekeeping may spend summarising settled days."""
SUMMARY_FORMAT = 2
"""Part of the cache key: raise it when a summary holds something else."""


class DaySummary(msgspec.Struct):
    """Additive figures of one or more office days (see the module docstring)."""

    visits: dict[str, dict[str, Tallies]] = {}
    """grouping (service, hour, weekday_hour, day, service_hour) -> group -> tallies"""
    legs: dict[str, dict[str, Tallies]] = {}
    """grouping (service, counter, staff, hour, day) -> group -> tallies"""
    histograms: dict[str, dict[str, dict[int, int]]] = {}
    """measure -> service -> value (hundredths) -> how many"""
    totals: dict[str, dict[str, float]] = {}
    """measure -> service -> exact sum of the values"""
    idle: dict[str, dict[str, float]] = {}
    """counter / staff -> who -> seconds"""
    staffed: dict[int, float] = {}
    """hour of day -> counter-seconds staffed"""


def add_tallies(into: Tallies, more: Mapping[str, float]) -> None:
    for name, value in more.items():
        into[name] = into.get(name, 0) + value


def merge(summaries: Iterable[DaySummary]) -> DaySummary:
    total = DaySummary({}, {}, {}, {}, {}, {})
    for s in summaries:
        for into, more in ((total.visits, s.visits), (total.legs, s.legs)):
            for grouping, groups in more.items():
                mine = into.setdefault(grouping, {})
                for group, tallies in groups.items():
                    add_tallies(mine.setdefault(group, {}), tallies)
        for measure, by_service in s.histograms.items():
            mine_h = total.histograms.setdefault(measure, {})
            for service, buckets in by_service.items():
                h = mine_h.setdefault(service, {})
                for value, count in buckets.items():
                    h[value] = h.get(value, 0) + count
        for measure, sums in s.totals.items():
            add_tallies(total.totals.setdefault(measure, {}), sums)
        for who, idle in s.idle.items():
            add_tallies(total.idle.setdefault(who, {}), idle)
        for hour, staffed in s.staffed.items():
            total.staffed[hour] = total.staffed.get(hour, 0.0) + staffed
    return total


def summarise_day(
    reader: RecordReader, config: OfficeConfig, day: date, now: datetime
) -> DaySummary:
    """One office day from its records (``now`` decides who is still within target)."""
    targets = {s.id: s.target_wait_min for s in config.services}
    # one query per table, its groups added up here into every breakdown
    by_service_hour = reader.visit_tallies(day, day, "service_hour", targets, now)
    visits = {"service_hour": by_service_hour} | _regroup(
        by_service_hour, {"service": 0, "hour": 1}
    )
    visits["day"] = {day.isoformat(): _sum(visits["service"].values())}
    visits["weekday_hour"] = {
        str(day.weekday() * 100 + int(h)): t for h, t in visits["hour"].items()
    }
    legs = _regroup(
        reader.leg_tallies(day, day, "service_counter_staff_hour"),
        {"service": 0, "counter": 1, "staff": 2, "hour": 3},
    )
    legs["day"] = {day.isoformat(): _sum(legs["service"].values())}
    histograms: dict[str, dict[str, dict[int, int]]] = {}
    totals: dict[str, dict[str, float]] = {}
    for measure in VISIT_MEASURES + LEG_MEASURES:
        found = reader.histograms(day, day, measure, "service")
        histograms[measure] = {s: dict(h.buckets) for s, h in found.items()}
        totals[measure] = {s: h.total for s, h in found.items()}
    start = datetime.combine(day, time(0), config.tz)
    end = min(datetime.combine(day + timedelta(days=1), time(0), config.tz), max(now, start))
    idle = {by: reader.idle_seconds(start, end, by) for by in ("counter", "staff")}
    staffed: dict[int, float] = {}
    for span in reader.staffed_spans(start, end):
        _add_by_hour(staffed, span.from_us, span.to_us, config)
    return DaySummary(visits, legs, histograms, totals, idle, staffed)


def _regroup(
    combined: Mapping[str, Tallies], parts: Mapping[str, int]
) -> dict[str, dict[str, Tallies]]:
    """Tallies of a combined grouping added up by each of its parts."""
    regrouped: dict[str, dict[str, Tallies]] = {name: {} for name in parts}
    for key, tallies in combined.items():
        pieces = key.split(GROUP_SEPARATOR)
        for name, index in parts.items():
            add_tallies(regrouped[name].setdefault(pieces[index], {}), tallies)
    return regrouped


def _sum(groups: Iterable[Tallies]) -> Tallies:
    total: Tallies = {}
    for tallies in groups:
        add_tallies(total, tallies)
    return total


def _add_by_hour(into: dict[int, float], from_us: int, to_us: int, config: OfficeConfig) -> None:
    """Share a staffed stretch out over the local hours of day it covers."""
    moment = datetime.fromtimestamp(from_us / 1e6, config.tz)
    end = datetime.fromtimestamp(to_us / 1e6, config.tz)
    while moment < end:
        following = min(end, moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        into[moment.hour] = into.get(moment.hour, 0.0) + (following - moment).total_seconds()
        moment = following


def cache_key(config: OfficeConfig) -> str:
    """What a kept summary depends on: its format and the services' targets."""
    targets = sorted((s.id, s.target_wait_min) for s in config.services)
    return hashlib.sha256(repr((SUMMARY_FORMAT, targets)).encode()).hexdigest()[:16]


def period_summary(
    reader: RecordReader, config: OfficeConfig, first: date, last: date, now: datetime
) -> DaySummary:
    """The period's days added up: kept summaries where there are, the rest from the rows."""
    settled = reader.settled_days(first, last)
    key = cache_key(config)
    kept = reader.cached(key, settled)
    days, fresh = [], {}
    day = first
    while day <= last:
        data = kept.get(day.isoformat())
        if data is not None:
            days.append(msgspec.msgpack.decode(data, type=DaySummary))
        else:
            summary = summarise_day(reader, config, day, now)
            days.append(summary)
            if day.isoformat() in settled:
                fresh[day.isoformat()] = msgspec.msgpack.encode(summary)
        day += timedelta(days=1)
    reader.keep(key, fresh)
    return merge(days)


class HasRecords(Protocol):
    """A store, or headquarters' copy of one office: whatever opens a record reader."""

    def records(self) -> contextlib.AbstractContextManager[RecordReader]: ...


def keep_settled_days(
    store: HasRecords, config: OfficeConfig, now: datetime, budget_sec: float = KEEP_BUDGET_SEC
) -> int:
    """Summarise settled days that have no kept summary yet, newest first, for about
    ``budget_sec``; returns how many were kept.

    Housekeeping calls it in a worker thread, so after an upgrade (or a change of a service's
    target, which asks for new summaries) the history is summarised a slice at a time in the
    background, and the first report over a year reads kept summaries instead of every row.
    """
    key = cache_key(config)
    fresh: dict[str, bytes] = {}
    with store.records() as reader:
        began = time_now()
        for day in reader.unsummarised_days(key):
            summary = summarise_day(reader, config, date.fromisoformat(day), now)
            fresh[day] = msgspec.msgpack.encode(summary)
            if time_now() - began >= budget_sec:
                break
        reader.keep(key, fresh)
    return len(fresh)


# ------------------------------------------------------------------ figures


def figures(
    visits: Tallies, legs: Tallies, summary: DaySummary, services: Iterable[str]
) -> dict[str, Any]:
    """One block of figures: the visits, legs and measures of the given services."""
    wanted = list(services)

    def measure(name: str) -> dict[str, Any]:
        by_service = summary.histograms.get(name, {})
        buckets = stats.merged(by_service.get(s, {}) for s in wanted)
        total = sum(summary.totals.get(name, {}).get(s, 0.0) for s in wanted)
        return stats.distribution(buckets, total)

    def v(name: str) -> float:
        return visits.get(name, 0)

    estimates = v("estimates")
    return {
        "check_ins": int(v("check_ins")),
        "called": int(v("called_once")),
        "outcomes": {state: int(v(state)) for state in OUTCOMES},
        "still_open": int(sum(v(state) for state in OPEN_STATES)),
        "wait_min": measure("wait_min"),
        "waited_before_leaving_min": measure("waited_before_leaving_min"),
        "needs_met_rate": stats.rate(v("needs_met_yes"), v("needs_met_answered")),
        "needs_met_answered": int(v("needs_met_answered")),
        "no_show_rate": stats.rate(v("no_show"), v("called_once")),
        "walkaway_rate": stats.rate(v("walkaway"), v("check_ins")),
        "transfers": int(legs.get("transfers", 0)),
        "call_to_counter_min": measure("call_to_counter_min"),
        "service_time_min": measure("service_time_min"),
        "counter_time_min": measure("counter_time_min"),
        "acknowledgement_sec": measure("acknowledgement_sec"),
        "acknowledged_via": {"printed": int(v("printed")), "screen": int(v("screen"))},
        "estimate_error": {
            "count": int(estimates),
            "mean_abs_error_min": stats.mean(v("estimate_abs_sum"), estimates),
            "bias_min": stats.mean(v("estimate_sum"), estimates),
            "within_5_min": stats.rate(v("estimate_within_5"), estimates),
            "range_inside": stats.rate(v("range_inside"), estimates),
            "range_below": stats.rate(v("range_below"), estimates),
            "range_above": stats.rate(v("range_above"), estimates),
            "mean_range_width_min": stats.mean(v("range_width_sum"), estimates),
        },
        "survey": {
            "answers": int(v("survey_answers")),
            "needs_met_rate": stats.rate(v("survey_yes"), v("survey_answers")),
            "mean_rating": stats.mean(v("rating_sum"), v("rating_count")),
        },
        "service_level": _level(visits),
        "during_emergencies": {
            "visits": int(v("emergency_visits")),
            "called": int(v("emergency_called")),
            "wait_min": measure("emergency_wait_min"),
        },
    }


def _level(tallies: Mapping[str, float]) -> dict[str, Any]:
    """Met of counted; ``below_goal`` marks a level under the share the office aims for."""
    met, counted = int(tallies.get("level_met", 0)), int(tallies.get("level_counted", 0))
    rate = stats.rate(met, counted)
    return {
        "met": met,
        "counted": counted,
        "rate": rate,
        "below_goal": rate is not None and rate < GOAL,
    }


def _leg_row(legs: Mapping[str, float]) -> dict[str, Any]:
    """What a counter or staff member did: volume and context, never a speed score."""
    return {
        "calls": int(legs.get("calls", 0)),
        "served": int(legs.get("served", 0)),
        "done": int(legs.get("done", 0)),
        "no_shows": int(legs.get("no_show", 0)),
        "transfers": int(legs.get("transfers", 0)),
        "needs_met_rate": stats.rate(
            legs.get("needs_met_yes", 0), legs.get("needs_met_answered", 0)
        ),
        "needs_met_answered": int(legs.get("needs_met_answered", 0)),
        "service_time_mean_min": stats.mean(
            legs.get("service_sum_min", 0), legs.get("service_count", 0)
        ),
    }


def overall_figures(summary: DaySummary, services: Iterable[str]) -> dict[str, Any]:
    """The figures of every visit the summary holds (of one office, or several added up)."""
    return figures(
        _sum(summary.visits.get("service", {}).values()),
        _sum(summary.legs.get("service", {}).values()),
        summary,
        services,
    )


def build_report(
    reader: RecordReader,
    config: OfficeConfig,
    first: date,
    last: date,
    now: datetime,
    summary: DaySummary | None = None,
) -> dict[str, Any]:
    """Every figure of the period [first, last] (office days), as of ``now``; ``summary``:
    the period's, when the caller already has it (headquarters adds offices' up)."""
    if summary is None:
        summary = period_summary(reader, config, first, last, now)
    by_service = summary.visits.get("service", {})
    legs_by_service = summary.legs.get("service", {})
    overall = overall_figures(summary, [s.id for s in config.services])
    waits = summary.histograms.get("wait_min", {})
    services = {
        s.id: {"name": s.name, "target_wait_min": s.target_wait_min}
        | figures(by_service.get(s.id, {}), legs_by_service.get(s.id, {}), summary, [s.id])
        | {"wait_bins": wait_bins(waits.get(s.id, {}), s.target_wait_min)}
        for s in config.services
    }
    idle_by_counter = summary.idle.get("counter", {})
    legs_by_counter = summary.legs.get("counter", {})
    counters = {
        c.id: {
            "name": c.name,
            "idle_while_waiting_sec": round(idle_by_counter.get(c.id, 0.0), 1),
            **_leg_row(legs_by_counter.get(c.id, {})),
        }
        for c in config.counters
    }
    idle_by_staff = summary.idle.get("staff", {})
    staff = {
        name: {
            "idle_while_waiting_sec": round(idle_by_staff.get(name, 0.0), 1),
            **_leg_row(legs),
        }
        for name, legs in sorted(summary.legs.get("staff", {}).items())
        if name
    }
    by_day = {d: t for d, t in summary.visits.get("day", {}).items() if t.get("check_ins")}
    open_days = len(by_day)
    by_month: dict[str, Tallies] = {}
    for day, tallies in by_day.items():
        add_tallies(by_month.setdefault(day[:7], {}), tallies)
    hours = _hours(summary, config, open_days)
    start = datetime.combine(first, time(0), config.tz)
    end = datetime.combine(last + timedelta(days=1), time(0), config.tz)
    return {
        "office": config.name,
        "timezone": config.timezone,
        "from": start.isoformat(timespec="seconds"),
        "to": (end - timedelta(microseconds=1)).isoformat(timespec="seconds"),
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "as_of": now.isoformat(timespec="seconds"),
        "open_days": open_days,
        "overall": overall,
        "services": services,
        "counters": counters,
        "staff": staff,
        "days": _periods("day", by_day),
        "months": _periods("month", by_month),
        "hours": hours,
        "weekday_hour": _weekday_hour(summary, by_day),
        "staffing": advice(summary, config, open_days),
        "closed_at_end_of_day": reader.closed_at_end_of_day(first, last),
        "emergencies": [emergency_row(e, config) for e in reader.emergencies(first, last)],
        "debrief": [
            {
                "number": number,
                "reason": reason,
                "at": datetime.fromtimestamp(at_us / 1e6, config.tz).isoformat(timespec="seconds"),
            }
            for number, reason, at_us in reader.flagged(first, last)
        ],
    }


def emergency_row(record: EmergencyRecord, config: OfficeConfig) -> dict[str, Any]:
    """One emergency or drill of the period: how long it lasted and how long the screens took
    to all show it (None while an expected screen has not, or when none was expected)."""

    def moment(us: int | None) -> str | None:
        if us is None:
            return None
        return datetime.fromtimestamp(us / 1e6, config.tz).isoformat(timespec="seconds")

    done_us = record.all_acknowledged_us
    return {
        "id": record.id,
        "kind": record.kind,
        "drill": bool(record.drill),
        "started_at": moment(record.started_us),
        "ended_at": moment(record.ended_us),
        "started_by": record.started_by,
        "ended_by": record.ended_by,
        "minutes": None
        if record.ended_us is None
        else round((record.ended_us - record.started_us) / 60e6, 1),
        "screens_expected": record.expected,
        "screens_acknowledged": record.acknowledged,
        "screens_missing": json.loads(record.pending),
        "all_screens_sec": None
        if done_us is None
        else round((done_us - record.started_us) / 1e6, 1),
    }


def _periods(name: str, tallies: Mapping[str, Tallies]) -> list[dict[str, Any]]:
    """Per office day (or month) with check-ins, in date order."""
    return [
        {
            name: key,
            "check_ins": int(t.get("check_ins", 0)),
            "wait_mean_min": stats.mean(t.get("wait_sum_min", 0), t.get("wait_count", 0)),
            "service_level": _level(t),
        }
        for key, t in sorted(tallies.items())
    ]


def wait_bins(histogram: Mapping[int, int], target: float) -> list[dict[str, Any]]:
    """A service's waits (arrival to first call) in bins of equal width, the target on an edge.

    Each bin holds the waits above its ``from_min`` up to and including its ``to_min`` (the first
    one from 0), so a wait of exactly the target is in the last bin within it, as the service
    level counts it; the last bin (``to_min`` null) holds everything longer than three targets.
    """
    width = next(
        (w for w in BIN_WIDTHS_MIN if target % w == 0 and target / w >= BINS_TO_TARGETS),
        target / 4,
    )
    step = max(1, round(width * stats.RESOLUTION))
    count = max(1, math.ceil(BINS_TO_TARGETS * target / width))
    counts = [0] * (count + 1)
    for value, many in histogram.items():
        counts[min(count, max(0, -(-value // step) - 1))] += many
    total = sum(counts)
    return [
        {
            "from_min": round(i * width, 2),
            "to_min": round((i + 1) * width, 2) if i < count else None,
            "count": many,
            "share": stats.rate(many, total),
            "within_target": i < count and (i + 1) * step <= round(target * stats.RESOLUTION),
        }
        for i, many in enumerate(counts)
    ]


def _hours(summary: DaySummary, config: OfficeConfig, open_days: int) -> list[dict[str, Any]]:
    visits, legs = summary.visits.get("hour", {}), summary.legs.get("hour", {})
    hours = sorted({int(h) for h in visits} | {int(h) for h in legs} | set(summary.staffed))
    rows = []
    for hour in hours:
        t = visits.get(str(hour), {})
        leg = legs.get(str(hour), {})
        rows.append(
            {
                "hour": hour,
                "check_ins": int(t.get("check_ins", 0)),
                "arrivals_per_day": stats.mean(t.get("check_ins", 0), open_days),
                "wait_mean_min": stats.mean(t.get("wait_sum_min", 0), t.get("wait_count", 0)),
                "service_level": _level(t),
                "service_time_mean_min": stats.mean(
                    leg.get("service_sum_min", 0), leg.get("service_count", 0)
                ),
                "counters_open": stats.mean(summary.staffed.get(hour, 0.0) / 3600, open_days),
            }
        )
    return rows


def _weekday_hour(summary: DaySummary, open_days: Iterable[str]) -> list[dict[str, Any]]:
    """Per weekday and hour of day; arrivals per day divide by that weekday's open days."""
    weekdays = [0] * 7
    for day in open_days:
        weekdays[date.fromisoformat(day).weekday()] += 1
    rows = []
    for key, t in sorted(summary.visits.get("weekday_hour", {}).items(), key=lambda i: int(i[0])):
        weekday, hour = divmod(int(key), 100)
        rows.append(
            {
                "weekday": WEEKDAYS[weekday],
                "hour": hour,
                "check_ins": int(t.get("check_ins", 0)),
                "arrivals_per_day": stats.mean(t.get("check_ins", 0), weekdays[weekday]),
                "wait_mean_min": stats.mean(t.get("wait_sum_min", 0), t.get("wait_count", 0)),
            }
        )
    return rows


def period_of(from_text: str | None, to_text: str | None, today: date) -> tuple[date, date]:
    """The period a caller asked for: ``from`` defaults to today, ``to`` to ``from``; raises
    ValueError saying what is wrong."""
    try:
        first = date.fromisoformat(from_text) if from_text else today
        last = date.fromisoformat(to_text) if to_text else first
    except ValueError:
        raise ValueError("from and to must be dates like 2026-11-23") from None
    if last < first:
        raise ValueError("'to' is before 'from'")
    return first, last


def report(
    store: Store, config: OfficeConfig, first: date, last: date, now: datetime
) -> dict[str, Any]:
    """The report, read on a connection of its own: blocking, so the server runs it in a
    worker thread and the command line calls it directly."""
    with store.records() as reader:
        return build_report(reader, config, first, last, now)
