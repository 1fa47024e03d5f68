"""Visit records: the log folded into one row per visit and one per serving leg, for reports.

A report asks about a period: a day, a month, a year. Replaying the whole log for each one cost
minutes and gigabytes on a year of history, so every store keeps these rows beside the log,
written in the same transaction as the events they come from (a record never says more or less
than the log), and a report is a period query over them (see docs/measures.md).

The fold is pure and shared by every store: it sees the events in seq order and says which rows
changed. It keeps in memory only what the next events need: the open visits, each counter's
state, how many wait in each service. A store saves :meth:`RecordFold.state` with the rows and
hands it back at the next start, so a start never replays the log.

* A **visit** row holds what the visitor lived, from check-in to its outcome.
* A **leg** row is one stretch in one service's queue: queued (arrival, or the transfer into
  it), called, started, ended, at which counter and by whom; a transfer ends one leg and begins
  the next. Service time and transfers are counted per leg, under the service that served it.
* An **idle span** is a stretch a counter stood open while someone it serves waited; a
  **staffed span** a stretch it was open, calling or serving (how many counters were open).
* An **emergency** row is one emergency mode or drill: when, who, and when the last screen
  expected to show it acknowledged. A visit still waiting for its first call when one began
  carries its id (``Visit.emergency``): its wait is reported apart, never against the target.

Idle while waiting needs to know which services each counter serves (the office's layout),
which the log does not say: the engine's rule is followed here with the layout the store was
given; a store started with another layout rebuilds its records from the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from typing import Any

from server.config import OfficeConfig
from server.engine import Event
from server.store.encoding import epoch_us

Layout = Mapping[str, tuple[str, ...]]
"""Counter id -> the services it serves."""

STAFFED = frozenset({"open", "calling", "serving"})
OPEN_VISIT = frozenset({"waiting", "called", "serving"})
ERASED_FLAG = "(erased after the retention period)"


def counter_layout(config: OfficeConfig) -> dict[str, tuple[str, ...]]:
    """The office's counters and the services each serves, as the records need them."""
    return {counter.id: tuple(counter.services) for counter in config.counters}


def fingerprint(layout: Layout | None) -> str:
    """What the records were built with; a store rebuilds them when it differs."""
    if layout is None:
        return "no layout"
    return json.dumps(sorted((c, list(s)) for c, s in layout.items()))


@dataclass(slots=True)
class Visit:
    """One visit, under the service it checked in for, on the office day it arrived."""

    id: int
    number: str
    service: str
    day: str
    weekday: int
    hour: int
    arrived_us: int
    quoted_low: float | None = None
    quoted_high: float | None = None
    quoted_point: float | None = None
    ack_us: int | None = None
    ack_via: str | None = None
    first_called_us: int | None = None
    ended_us: int | None = None
    state: str = "waiting"
    needs_met: int | None = None
    survey_met: int | None = None
    survey_rating: int | None = None
    transfers: int = 0
    legs: int = 1
    counter_us: int = 0
    """Serving time summed over the visit's legs."""
    flag: str | None = None
    emergency: int = 0
    """The emergency (or drill) that began while this visit waited for its first call; 0:
    none. Its wait is then reported with the emergencies', not against its target."""


@dataclass(slots=True)
class Leg:
    """One stretch of a visit in one service's queue, numbered from 1."""

    visit: int
    leg: int
    day: str
    weekday: int
    hour: int
    service: str
    queued_us: int
    called_us: int | None = None
    last_called_us: int | None = None
    recalls: int = 0
    counter: str | None = None
    staff: str | None = None
    started_us: int | None = None
    ended_us: int | None = None
    outcome: str | None = None
    """done, no_show, transferred, walkaway, closed_at_end_of_day; None while open."""


@dataclass(slots=True)
class Span:
    """A stretch of one counter (idle while someone waited, or staffed), on the day it began."""

    counter: str
    staff: str | None
    day: str
    from_us: int
    to_us: int


@dataclass(slots=True)
class EmergencyRecord:
    """One emergency mode or drill, on the office day it began. No visitor appears here."""

    id: int
    kind: str
    drill: int
    day: str
    started_us: int
    started_by: str
    expected: int
    """Screens expected to acknowledge it (displays, kiosks, staffed counters at the start)."""
    pending: str
    """The expected screens that have not acknowledged yet, as a JSON list."""
    acknowledged: int = 0
    """Screens that acknowledged it, expected or not."""
    all_acknowledged_us: int | None = None
    """When the last expected screen acknowledged; None while one has not (or none was)."""
    ended_us: int | None = None
    ended_by: str | None = None


VISIT_COLUMNS = tuple(f.name for f in fields(Visit))
LEG_COLUMNS = tuple(f.name for f in fields(Leg))
SPAN_COLUMNS = tuple(f.name for f in fields(Span))
EMERGENCY_COLUMNS = tuple(f.name for f in fields(EmergencyRecord))


_ROWS = {
    Visit: attrgetter(*VISIT_COLUMNS),
    Leg: attrgetter(*LEG_COLUMNS),
    Span: attrgetter(*SPAN_COLUMNS),
    EmergencyRecord: attrgetter(*EMERGENCY_COLUMNS),
}


def row(record: Visit | Leg | Span | EmergencyRecord) -> tuple[Any, ...]:
    """The record's values in column order."""
    values: tuple[Any, ...] = _ROWS[type(record)](record)
    return values


def day_spans(
    counter: str, staff: str | None, since: tuple[int, str], at: datetime, at_us: int
) -> list[Span]:
    """A stretch from ``since`` to ``at``, cut at each midnight it crosses, so every span lies
    within the office day it is filed under (midnights at ``at``'s offset)."""
    spans = []
    start_us, day = since
    current = date.fromisoformat(day)
    while current < at.date():
        following = current + timedelta(days=1)
        midnight = epoch_us(datetime.combine(following, time(0), at.tzinfo))
        if midnight > start_us:
            spans.append(Span(counter, staff, current.isoformat(), start_us, midnight))
            start_us = midnight
        current = following
    if at_us > start_us:
        spans.append(Span(counter, staff, at.date().isoformat(), start_us, at_us))
    return spans


@dataclass(slots=True)
class CounterState:
    state: str = "closed"
    staff: str | None = None
    idle_since: tuple[int, str] | None = None
    """(microseconds, day) the current idle stretch began."""
    staffed_since: tuple[int, str] | None = None


@dataclass
class Changes:
    """What one batch of events changed: rows to write (whole, replacing), spans to add, and
    visits whose flag reason the retention period erased."""

    visits: dict[int, Visit] = field(default_factory=dict)
    legs: dict[tuple[int, int], Leg] = field(default_factory=dict)
    idle: list[Span] = field(default_factory=list)
    staffed: list[Span] = field(default_factory=list)
    erased: list[int] = field(default_factory=list)
    emergencies: dict[int, EmergencyRecord] = field(default_factory=dict)


Loader = Callable[[int], tuple[Visit, Leg] | None]
"""A closed visit and its last leg from the store (a survey or a flag after the visit)."""
EmergencyLoader = Callable[[int], EmergencyRecord | None]
"""An emergency's row from the store (an acknowledgement or the end after a restart)."""


def _no_emergency(emergency_id: int) -> EmergencyRecord | None:
    return None


class RecordFold:
    """Events in, changed rows out; see the module docstring."""

    def __init__(
        self, layout: Layout | None, loader: Loader, emergencies: EmergencyLoader = _no_emergency
    ) -> None:
        self.layout = layout
        self.loader = loader
        self.emergency_loader = emergencies
        self.emergencies: dict[int, EmergencyRecord] = {}
        """Emergencies held in this batch; an ended one is let go after it."""
        self.counters: dict[str, CounterState] = {}
        self.visits: dict[int, Visit] = {}
        self.legs: dict[int, Leg] = {}  # visit id -> its current leg
        self.waiting: dict[str, int] = {}
        self.changes = Changes()
        self._loaded: set[int] = set()
        """Visits loaded back for this batch (a survey after the visit): let go after it."""
        self._moved = True
        """Whether a counter's state or a queue's emptiness changed since idle was checked."""

    # ----------------------------------------------------------- state

    def state(self) -> str:
        """The counters' state as JSON; open visits come back from their own rows."""
        return json.dumps(
            {c: [s.state, s.staff, s.idle_since, s.staffed_since] for c, s in self.counters.items()}
        )

    def restore(
        self,
        state: str | None,
        open_visits: Iterable[tuple[Visit, Leg]],
        open_emergencies: Iterable[EmergencyRecord] = (),
    ) -> None:
        self.counters = {}
        for counter, (st, staff, idle, staffed) in json.loads(state or "{}").items():
            self.counters[counter] = CounterState(
                st, staff, tuple(idle) if idle else None, tuple(staffed) if staffed else None
            )
        self.visits, self.legs, self.waiting = {}, {}, {}
        self.emergencies = {e.id: e for e in open_emergencies}
        for visit, leg in open_visits:
            self.visits[visit.id] = visit
            self.legs[visit.id] = leg
            if visit.state == "waiting":
                self.waiting[leg.service] = self.waiting.get(leg.service, 0) + 1
        self._moved = True

    # ----------------------------------------------------------- folding

    def fold(self, events: Iterable[Event]) -> Changes:
        """Apply events in seq order; returns what changed since the last call."""
        for event in events:
            handler = _HANDLERS.get(event.kind)
            if handler is not None:
                handler(self, event.at, epoch_us(event.at), event.data)
                if self._moved:
                    self._refresh_idle(event.at)
        changes, self.changes = self.changes, Changes()
        # Only a visit this batch touched or loaded can have closed: looking at those alone
        # keeps a commit's cost to its own events, however long the line has grown.
        looked_at, self._loaded = self._loaded | changes.visits.keys(), set()
        for visit_id in looked_at:
            visit = self.visits.get(visit_id)
            if visit is not None and visit.state not in OPEN_VISIT:
                del self.visits[visit_id]
                del self.legs[visit_id]
        self.emergencies = {i: e for i, e in self.emergencies.items() if e.ended_us is None}
        return changes

    def _touch(self, visit: Visit, leg: Leg) -> None:
        self.changes.visits[visit.id] = visit
        self.changes.legs[(leg.visit, leg.leg)] = leg

    def _held(self, visit_id: int) -> tuple[Visit, Leg] | None:
        """The visit and its current leg: held while open or changed in this batch, else
        loaded (a survey or flag after the visit); None for a visit the records never saw."""
        visit = self.visits.get(visit_id)
        if visit is not None:
            return visit, self.legs[visit_id]
        loaded = self.loader(visit_id)
        if loaded is not None:
            self.visits[visit_id], self.legs[visit_id] = loaded
            self._loaded.add(visit_id)
        return loaded

    def _counter(self, counter_id: str) -> CounterState:
        return self.counters.setdefault(counter_id, CounterState())

    def _set_counter(self, counter_id: str, state: str, at: datetime, at_us: int) -> None:
        counter = self._counter(counter_id)
        was_staffed = counter.state in STAFFED
        counter.state = state
        self._moved = True
        if was_staffed and state not in STAFFED:
            self._end_staffed(counter_id, counter, at, at_us)
        elif not was_staffed and state in STAFFED:
            counter.staffed_since = (at_us, at.date().isoformat())

    def _end_staffed(
        self, counter_id: str, counter: CounterState, at: datetime, at_us: int
    ) -> None:
        if counter.staffed_since is not None:
            self.changes.staffed += day_spans(
                counter_id, counter.staff, counter.staffed_since, at, at_us
            )
        counter.staffed_since = None

    def _refresh_idle(self, at: datetime) -> None:
        """The engine's rule: idle while a counter is open and someone it serves waits."""
        self._moved = False
        if self.layout is None:
            return
        at_us = None
        for counter_id, services in self.layout.items():
            counter = self._counter(counter_id)
            idle = counter.state == "open" and any(self.waiting.get(s) for s in services)
            if idle == (counter.idle_since is not None):
                continue
            at_us = epoch_us(at) if at_us is None else at_us
            if idle:
                counter.idle_since = (at_us, at.date().isoformat())
            else:
                self._end_idle(counter_id, counter, at, at_us)

    def _end_idle(self, counter_id: str, counter: CounterState, at: datetime, at_us: int) -> None:
        if counter.idle_since is not None:
            self.changes.idle += day_spans(counter_id, counter.staff, counter.idle_since, at, at_us)
        counter.idle_since = None

    def _queue(self, service: str) -> None:
        waiting = self.waiting.get(service, 0)
        self.waiting[service] = waiting + 1
        self._moved = self._moved or waiting == 0

    def _unqueue(self, leg: Leg) -> None:
        waiting = self.waiting.get(leg.service, 0)
        self.waiting[leg.service] = max(0, waiting - 1)
        self._moved = self._moved or waiting <= 1

    # ------------------------------------------------------- event kinds

    def _checked_in(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        day = at.date().isoformat()
        quoted = d.get("quoted") or (None, None, None)
        visit = Visit(
            d["id"], d["number"], d["service"], day, at.weekday(), at.hour, at_us, *quoted
        )
        leg = Leg(visit.id, 1, day, visit.weekday, visit.hour, visit.service, at_us)
        ongoing = [e.id for e in self.emergencies.values() if e.ended_us is None]
        if ongoing:  # a kiosk's queued check-in, stored during an emergency
            visit.emergency = ongoing[-1]
        self.visits[visit.id], self.legs[visit.id] = visit, leg
        self._queue(leg.service)
        self._touch(visit, leg)

    def _called(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is None:
            return
        visit, leg = held
        if visit.state == "waiting":
            self._unqueue(leg)
        visit.state = "called"
        visit.first_called_us = visit.first_called_us or at_us
        counter = self._counter(d["counter"])
        leg.called_us = leg.called_us or at_us
        leg.last_called_us = at_us
        leg.counter, leg.staff = d["counter"], counter.staff
        self._set_counter(d["counter"], "calling", at, at_us)
        self._touch(visit, leg)

    def _recalled(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is not None:
            held[1].recalls += 1
            held[1].last_called_us = at_us
            self._touch(*held)

    def _started(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is None:
            return
        visit, leg = held
        visit.state = "serving"
        leg.started_us = at_us
        if leg.counter is not None:
            self._set_counter(leg.counter, "serving", at, at_us)
        self._touch(visit, leg)

    def _finish(self, at: datetime, at_us: int, visit_id: int, outcome: str) -> None:
        held = self._held(visit_id)
        if held is None:
            return
        visit, leg = held
        if visit.state == "waiting":
            self._unqueue(leg)
        visit.state = outcome
        visit.ended_us = at_us
        self._end_leg(visit, leg, outcome, at, at_us)
        self._touch(visit, leg)

    def _end_leg(self, visit: Visit, leg: Leg, outcome: str, at: datetime, at_us: int) -> None:
        """The leg ends; its counter (if it still holds the visit) is free again."""
        leg.outcome, leg.ended_us = outcome, at_us
        if leg.started_us is not None and outcome in ("done", "transferred"):
            visit.counter_us += max(0, at_us - leg.started_us)
        if leg.counter is not None:
            counter = self._counter(leg.counter)
            if counter.state in ("calling", "serving"):
                self._set_counter(leg.counter, "open", at, at_us)

    def _completed(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is not None:
            needs_met = d.get("needs_met")
            held[0].needs_met = None if needs_met is None else int(bool(needs_met))
            self._finish(at, at_us, d["id"], "done")

    def _no_show(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        self._finish(at, at_us, d["id"], "no_show")

    def _walkaway(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        self._finish(at, at_us, d["id"], "walkaway")

    def _day_closed(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        for visit_id in d["ids"]:
            self._finish(at, at_us, visit_id, "closed_at_end_of_day")

    def _transferred(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is None:
            return
        visit, leg = held
        self._end_leg(visit, leg, "transferred", at, at_us)
        self.changes.legs[(leg.visit, leg.leg)] = leg
        visit.transfers += 1
        visit.legs += 1
        visit.state = "waiting"
        following = Leg(
            visit.id, visit.legs, visit.day, visit.weekday, visit.hour, d["service"], at_us
        )
        self.legs[visit.id] = following
        self._queue(following.service)
        self._touch(visit, following)

    def _acknowledged(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is None:
            return
        visit = held[0]
        visit.ack_via = d["via"]
        seen = epoch_us(datetime.fromisoformat(d["seen_at"])) if d.get("seen_at") else at_us
        visit.ack_us = visit.ack_us or seen
        self._touch(*held)

    def _surveyed(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is not None:
            held[0].survey_met = int(bool(d["needs_met"]))
            held[0].survey_rating = d.get("rating")
            self._touch(*held)

    def _flagged(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        held = self._held(d["id"])
        if held is not None:
            held[0].flag = d["reason"] or ERASED_FLAG
            self._touch(*held)

    def _purged(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        self.changes.erased.extend(d["ids"])
        for visit_id in d["ids"]:
            for visit in (self.visits.get(visit_id), self.changes.visits.get(visit_id)):
                if visit is not None and visit.flag:
                    visit.flag = ERASED_FLAG

    def _opened(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        counter = self._counter(d["counter"])
        self._moved = True
        if counter.state in STAFFED and counter.staff != d["staff"]:
            self._end_idle(d["counter"], counter, at, at_us)  # each stretch is one person's
            self._end_staffed(d["counter"], counter, at, at_us)
            counter.staffed_since = (at_us, at.date().isoformat())
        counter.staff = d["staff"]
        if counter.state in ("closed", "break"):
            self._set_counter(d["counter"], "open", at, at_us)

    def _on_break(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        self._set_counter(d["counter"], "break", at, at_us)

    def _closed(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        counter = self._counter(d["counter"])
        self._set_counter(d["counter"], "closed", at, at_us)
        self._end_idle(d["counter"], counter, at, at_us)  # while the staff member is known
        counter.staff = None

    def _emergency(self, emergency_id: int) -> EmergencyRecord | None:
        held = self.emergencies.get(emergency_id)
        if held is None:
            held = self.emergency_loader(emergency_id)
            if held is not None:
                self.emergencies[emergency_id] = held
        return held

    def _emergency_started(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        screens = [screen for screen, _ in d["screens"]]
        record = EmergencyRecord(
            d["emergency"],
            d["kind"],
            int(bool(d["drill"])),
            at.date().isoformat(),
            at_us,
            d["by"],
            len(screens),
            json.dumps(screens),
        )
        self.emergencies[record.id] = self.changes.emergencies[record.id] = record
        for visit in self.visits.values():  # calling pauses: they wait through all of it
            if visit.state == "waiting" and visit.first_called_us is None and not visit.emergency:
                visit.emergency = record.id
                self._touch(visit, self.legs[visit.id])

    def _emergency_acknowledged(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        record = self._emergency(d["emergency"])
        if record is None:
            return
        pending = json.loads(record.pending)
        record.acknowledged += 1
        if d["screen"] in pending:
            pending.remove(d["screen"])
            record.pending = json.dumps(pending)
            if not pending:
                record.all_acknowledged_us = at_us
        self.changes.emergencies[record.id] = record

    def _emergency_ended(self, at: datetime, at_us: int, d: dict[str, Any]) -> None:
        record = self._emergency(d["emergency"])
        if record is not None:
            record.ended_us, record.ended_by = at_us, d["by"]
            self.changes.emergencies[record.id] = record


_HANDLERS: dict[str, Callable[[RecordFold, datetime, int, dict[str, Any]], None]] = {
    "ticket.checked_in": RecordFold._checked_in,
    "ticket.called": RecordFold._called,
    "ticket.recalled": RecordFold._recalled,
    "ticket.started": RecordFold._started,
    "ticket.completed": RecordFold._completed,
    "ticket.no_show": RecordFold._no_show,
    "ticket.walkaway": RecordFold._walkaway,
    "ticket.transferred": RecordFold._transferred,
    "ticket.acknowledged": RecordFold._acknowledged,
    "ticket.surveyed": RecordFold._surveyed,
    "ticket.flagged": RecordFold._flagged,
    "tickets.purged": RecordFold._purged,
    "day.closed": RecordFold._day_closed,
    "counter.opened": RecordFold._opened,
    "counter.on_break": RecordFold._on_break,
    "counter.closed": RecordFold._closed,
    "emergency.started": RecordFold._emergency_started,
    "emergency.acknowledged": RecordFold._emergency_acknowledged,
    "emergency.ended": RecordFold._emergency_ended,
}
