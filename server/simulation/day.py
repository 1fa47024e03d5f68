"""A planned day played through the real engine on a virtual clock.

Counters behave as a steady front desk does: a clerk calls the next visitor as soon as the
counter is free and someone it serves waits (or, on a replayed day, at each moment the real
clerk called); the visitor takes ``WALK_MIN`` to come up and the rest of their planned minutes
at the counter; a no-show is marked when their minutes are up. A break or the end of a shift
that falls during a visit begins when the visit ends. Housekeeping runs as the server runs it,
through :meth:`Engine.housekeep`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from server.config import OfficeConfig
from server.engine import Engine, Event, Refused
from server.simulation.plan import Plan, Shift, Visitor

WALK_MIN = 0.5
HOUSEKEEPING = timedelta(minutes=1)

EngineFactory = Callable[[OfficeConfig], Engine]


@dataclass
class _Desk:
    shift: Shift
    state: str = "closed"  # closed, idle, busy, break
    ticket: int | None = None
    on_break_after: float | None = None  # minutes of a break waiting for the visit to end
    close_after: bool = False
    calls_owed: int = 0  # replayed calls that fell while it was still busy


@dataclass
class SimulatedDay:
    plan: Plan
    events: list[Event]
    engine: Engine
    end: datetime
    refused: list[tuple[Visitor, str]] = field(default_factory=list)
    """Visitors the engine turned away (a closed service), and why."""


def simulate(plan: Plan, make_engine: EngineFactory = Engine) -> SimulatedDay:
    return _Day(plan, make_engine).run()


class _Day:
    def __init__(self, plan: Plan, make_engine: EngineFactory) -> None:
        self.plan = plan
        self.engine = make_engine(plan.config)
        self.events: list[Event] = []
        self.refused: list[tuple[Visitor, str]] = []
        self.desks = {s.counter: _Desk(s) for s in plan.shifts}
        self.visitors: dict[int, Visitor] = {}
        self.serves = {c.id: set(c.services) for c in plan.config.counters}
        self._agenda: list[tuple[datetime, int, str, Any]] = []
        self._order = count()
        self.now = datetime.combine(plan.day, datetime.min.time(), plan.config.tz)

    def at(self, moment: datetime, kind: str, what: Any = None) -> None:
        heapq.heappush(self._agenda, (moment, next(self._order), kind, what))

    def log(self, events: list[Event]) -> None:
        self.events += events

    def run(self) -> SimulatedDay:
        for visitor in self.plan.visitors:
            self.at(visitor.arrives, "arrive", visitor)
        for desk in self.desks.values():
            shift = desk.shift
            # at one moment: opening, a break, a call, then the end of the shift
            self.at(shift.opens, "open", desk)
            for starts, minutes in shift.breaks:
                self.at(starts, "break", (desk, minutes))
            for moment in shift.calls_at or ():
                self.at(moment, "call", desk)
            self.at(shift.closes, "close", desk)
        next_housekeeping = self.now
        while self._agenda:
            moment, _, kind, what = heapq.heappop(self._agenda)
            while next_housekeeping <= moment:
                self.log(self.engine.housekeep(next_housekeeping))
                next_housekeeping += HOUSEKEEPING
            self.now = moment
            getattr(self, "_" + kind)(what)
        end = self.now + timedelta(minutes=1)
        self.log(self.engine.close_day(end))
        return SimulatedDay(self.plan, self.events, self.engine, end, self.refused)

    # ------------------------------------------------------------- the visitors

    def _arrive(self, visitor: Visitor) -> None:
        number = len(self.visitors) + len(self.refused) + 1
        try:
            ticket, events = self.engine.check_in(
                self.now,
                service=visitor.service,
                request_id=f"sim-{number}",
                status_token=f"sim-status-{number}",
                needs=visitor.needs,
                appointment=visitor.appointment,
            )
        except Refused as refusal:
            self.refused.append((visitor, str(refusal)))
            return
        self.log(events)
        self.visitors[ticket.id] = visitor
        if visitor.leaves_at is not None:
            self.at(visitor.leaves_at, "leave", ticket.id)
        for desk in self.desks.values():
            free = desk.state == "idle" and desk.shift.calls_at is None
            if free and visitor.service in self.serves[desk.shift.counter]:
                self._call_next(desk)
                break

    def _leave(self, ticket_id: int) -> None:
        if self.engine.tickets[ticket_id].state == "waiting":
            self.log(self.engine.cancel(self.now, ticket_id))

    def _start(self, what: tuple[_Desk, int]) -> None:
        _, ticket_id = what
        self.log(self.engine.start(self.now, ticket_id))

    def _end(self, what: tuple[_Desk, int]) -> None:
        desk, ticket_id = what
        visitor = self.visitors[ticket_id]
        if visitor.no_show:
            self.log(self.engine.no_show(self.now, ticket_id))
        else:
            self.log(self.engine.complete(self.now, ticket_id, True, None, "simulated"))
        desk.ticket = None
        desk.state = "idle"
        self._free(desk)

    # ------------------------------------------------------------- the counters

    def _open(self, desk: _Desk) -> None:
        counter = desk.shift.counter
        self.log(self.engine.open_counter(self.now, counter, f"staff-{counter}"))
        desk.state = "idle"
        self._free(desk)

    def _break(self, what: tuple[_Desk, float]) -> None:
        desk, minutes = what
        if desk.state == "busy":
            desk.on_break_after = minutes
        elif desk.state == "idle":
            self._take_break(desk, minutes)

    def _take_break(self, desk: _Desk, minutes: float) -> None:
        self.log(self.engine.take_break(self.now, desk.shift.counter))
        desk.state = "break"
        self.at(self.now + timedelta(minutes=minutes), "resume", desk)

    def _resume(self, desk: _Desk) -> None:
        if desk.close_after:
            desk.state = "idle"
            self._close(desk)
            return
        self._open(desk)

    def _close(self, desk: _Desk) -> None:
        if desk.state == "busy":
            desk.close_after = True
        elif desk.state == "idle":
            self.log(self.engine.close_counter(self.now, desk.shift.counter))
            desk.state = "closed"
        elif desk.state == "break":
            desk.close_after = True

    def _call(self, desk: _Desk) -> None:
        """A replayed day's call moment: made now if the counter is free, else as soon as it
        is (a call at the very moment a counter opened or a visit ended comes just after)."""
        if desk.state == "idle":
            self._call_next(desk)
        else:
            desk.calls_owed += 1

    def _free(self, desk: _Desk) -> None:
        """The counter has nothing in hand: a break or the end of its shift that was waiting,
        else the next visitor."""
        if desk.on_break_after is not None:
            minutes, desk.on_break_after = desk.on_break_after, None
            self._take_break(desk, minutes)
        elif desk.close_after:
            self._close(desk)
        elif desk.shift.calls_at is None:
            self._call_next(desk)
        elif desk.calls_owed:
            desk.calls_owed -= 1
            self._call_next(desk)

    def _call_next(self, desk: _Desk) -> None:
        try:
            ticket, events = self.engine.call_next(self.now, desk.shift.counter)
        except Refused:
            return  # nobody it serves waits: it stays free
        self.log(events)
        desk.state, desk.ticket = "busy", ticket.id
        visitor = self.visitors[ticket.id]
        if visitor.no_show:
            self.at(self.now + timedelta(minutes=visitor.minutes), "end", (desk, ticket.id))
            return
        walk = min(WALK_MIN, visitor.minutes / 2)
        self.at(self.now + timedelta(minutes=walk), "start", (desk, ticket.id))
        self.at(self.now + timedelta(minutes=visitor.minutes), "end", (desk, ticket.id))
