"""A day the office really had, as a plan: its arrivals, each visit's time at the counter, and
each counter's shift, breaks and the moments its clerk called.

Played unchanged, the plan gives every visitor exactly the wait they had: at each recorded call
moment the engine's own rule picks, from the same queue, the same visitor. Changed (another
counter, another assignment of services, another rule), the counters the day knew still call
at their clerks' moments when they are free, and a counter the day did not have calls as soon
as it is free. A transferred visit is replayed as its first leg.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from server.config import OfficeConfig
from server.engine import Event
from server.simulation.plan import Plan, Shift, Visitor


@dataclass
class _Visit:
    arrives: datetime
    service: str
    needs: tuple[str, ...]
    appointment: bool
    called: datetime | None = None
    ended: datetime | None = None
    no_show: bool = False
    left: datetime | None = None


@dataclass
class _Counter:
    opened: datetime | None = None
    closed: datetime | None = None
    breaks: list[tuple[datetime, float]] = field(default_factory=list)
    break_from: datetime | None = None
    calls: list[datetime] = field(default_factory=list)


def day_bounds(day: date, config: OfficeConfig) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), config.tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), config.tz)


def plan_from_events(events: list[Event], day: date, config: OfficeConfig) -> Plan:
    """The plan of ``day`` from its events (in log order)."""
    visits: dict[int, _Visit] = {}
    counters: dict[str, _Counter] = defaultdict(_Counter)
    last = datetime.combine(day, time(0), config.tz)
    for event in events:
        d, at = event.data, event.at
        last = max(last, at)
        visit = visits.get(d.get("id", -1)) if event.kind.startswith("ticket.") else None
        if event.kind == "ticket.checked_in":
            visits[d["id"]] = _Visit(
                at, d["service"], tuple(d.get("needs") or ()), bool(d.get("appointment"))
            )
        elif visit is None:
            _counter_event(event, counters)
        elif event.kind == "ticket.called" and visit.called is None:
            visit.called = at
            counters[d["counter"]].calls.append(at)
        elif event.kind in ("ticket.completed", "ticket.transferred", "ticket.no_show"):
            if visit.ended is None:
                visit.ended = at
                visit.no_show = event.kind == "ticket.no_show"
        elif event.kind == "ticket.walkaway":
            visit.left = at
    visitors = [
        Visitor(
            arrives=v.arrives,
            service=v.service,
            minutes=_minutes(v.called, v.ended or last) if v.called else 0.0,
            no_show=v.no_show,
            needs=v.needs,
            appointment=v.appointment,
            leaves_at=v.left,
        )
        for v in visits.values()
    ]
    shifts = [
        Shift(
            counter_id,
            c.opened,
            c.closed or last + timedelta(minutes=1),  # still open when the log ends
            tuple(c.breaks),
            calls_at=tuple(c.calls),
        )
        for counter_id, c in counters.items()
        if c.opened is not None
    ]
    return Plan(config, day, visitors, shifts, [f"the day of {day.isoformat()}"])


def _counter_event(event: Event, counters: dict[str, _Counter]) -> None:
    counter_id = event.data.get("counter")
    if not isinstance(counter_id, str):
        return
    counter = counters[counter_id]
    if event.kind == "counter.opened":
        away = counter.break_from or counter.closed  # closed and opened again: a long break
        if counter.opened is None:
            counter.opened = event.at
        elif away is not None:
            counter.breaks.append((away, _minutes(away, event.at)))
        counter.break_from = counter.closed = None
    elif event.kind == "counter.on_break":
        counter.break_from = event.at
    elif event.kind == "counter.closed":
        counter.closed = event.at


def _minutes(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:
        return 0.0
    return max(0.0, (end - start).total_seconds() / 60)
