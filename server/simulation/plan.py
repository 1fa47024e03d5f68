"""What a simulated day is made of: who comes, what each needs at a counter, who works when.

A plan is the same whether it was drawn from a scenario file (:mod:`server.simulation.scenario`)
or read from a day the office really had (:mod:`server.simulation.history`): the simulator
(:mod:`server.simulation.day`) plays any plan through the real engine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime

from server.config import CounterConfig, OfficeConfig


@dataclass(frozen=True)
class Visitor:
    arrives: datetime
    service: str
    minutes: float
    """Time at a counter, from the call to the end of the visit (or, for a no-show, to the
    moment the counter gives up on them)."""
    no_show: bool = False
    """Called but never comes."""
    needs: tuple[str, ...] = ()
    appointment: bool = False
    leaves_at: datetime | None = None
    """Gives up and leaves at this moment if not called by then."""


@dataclass(frozen=True)
class Shift:
    """One counter's working day."""

    counter: str
    opens: datetime
    closes: datetime
    breaks: tuple[tuple[datetime, float], ...] = ()
    """Each break's start and minutes; one that falls during a visit starts when it ends."""
    calls_at: tuple[datetime, ...] | None = None
    """A replayed day's own call moments: the counter calls next at each of them (when free),
    as its clerk did. ``None``: it calls as soon as it is free and someone it serves waits."""


@dataclass
class Plan:
    config: OfficeConfig
    day: date
    visitors: list[Visitor]
    shifts: list[Shift]
    notes: list[str] = field(default_factory=list)
    """What was changed from the source, said in the printout."""

    def with_counters(self, counters: list[CounterConfig], shifts: list[Shift]) -> Plan:
        config = dataclasses.replace(self.config, counters=tuple(counters))
        return Plan(config, self.day, self.visitors, shifts, list(self.notes))


def add_counter(plan: Plan, services: tuple[str, ...] | None = None) -> Plan:
    """One more counter, working the longest shift of the day and calling whenever free."""
    taken = {c.id for c in plan.config.counters}
    number = len(taken) + 1
    while f"extra{number}" in taken:
        number += 1
    counter_id = f"extra{number}"
    serves = services or tuple(s.id for s in plan.config.services)
    longest = max(plan.shifts, key=lambda s: s.closes - s.opens)
    counters = [*plan.config.counters, CounterConfig(counter_id, f"Extra {number}", serves)]
    shifts = [*plan.shifts, Shift(counter_id, longest.opens, longest.closes)]
    changed = plan.with_counters(counters, shifts)
    changed.notes.append(f"one more counter ({counter_id}: {', '.join(serves)})")
    return changed


def reassign(plan: Plan, assignment: dict[str, tuple[str, ...]]) -> Plan:
    """Counters serving other services than configured (counter id -> services, in order)."""
    known = {c.id for c in plan.config.counters}
    unknown = sorted(set(assignment) - known)
    if unknown:
        raise ValueError(f"no counter {unknown[0]!r} in this office")
    services = {s.id for s in plan.config.services}
    for counter_id, serves in assignment.items():
        wrong = [s for s in serves if s not in services]
        if wrong or not serves:
            raise ValueError(f"counter {counter_id!r}: no service {(wrong or [''])[0]!r}")
    counters = [
        dataclasses.replace(c, services=assignment.get(c.id, c.services))
        for c in plan.config.counters
    ]
    changed = plan.with_counters(counters, plan.shifts)
    changed.notes += [f"{c} serves {', '.join(s)}" for c, s in assignment.items()]
    return changed
