"""When each waiting visitor will be called: the calling rule played forward on today's counters.

The estimate a visitor is shown must answer "how long until a counter that serves me is free
for me", so the forecast plays :meth:`server.engine.Engine.call_next` forward in time: every
staffed counter becomes free when its current visit is expected to end (at once if it is free
now, after the rest of a break if on one), and each time one does it takes the visitor the
calling rule would give it (the longest wait against its service's target, counters' own order
of services breaking ties) and stays busy for that service's typical time at a counter. Visitors
still to come are played too, at each service's recent rate: one of a service with a shorter
target may well be called ahead of someone already waiting. So a free counter means no wait, a
counter shared by two services splits its time between them as it really will, and people
waiting for other services at other counters are not charged to anyone.

Pure: minutes in, minutes out; the engine gathers the inputs (:meth:`Engine.forecast`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

LOW_Z = 1.0
HIGH_Z = 1.2
"""How many standard deviations of the wait the range reaches below the forecast call and
above the point."""
UNSEEN_SHARE = 0.25
"""What the forecast cannot see (visitors still to come with a shorter target or a head start,
no-shows, breaks not yet begun) makes waits run longer far more often than shorter: the point
lies this share above the forecast call, so it errs high. Both are measured on simulated days
(``lobby simulate --compare``): eight waits in ten or more inside the range, bias above zero.
"""
EXPECTED = 8
"""Visitors of each service the forecast expects to check in from now on: enough to cover a
burst of arrivals between two forecasts, and to see who will be called ahead of whom."""
MIN_WIDTH = 2
"""The narrowest range shown, in minutes: "0–2 minutes" rather than "0 minutes"."""
FALLBACK_CV = 0.5
"""Spread of service times (standard deviation over mean) until there is history to learn it."""


T = TypeVar("T")


def first_to_call(heads: Iterable[tuple[float, float, int, T]]) -> T | None:
    """The calling rule, for ``call next`` and for the forecast alike: of the visitors at the
    head of each line a counter serves (minutes waited, their service's target, the counter's
    order of preference for that service, the visitor), the one who has waited longest against
    their target; the counter's own order of services breaks a tie."""
    best: tuple[float, int] | None = None
    chosen: T | None = None
    for waited_min, target_min, preference, item in heads:
        key = (-waited_min / target_min, preference)
        if best is None or key < best:
            best, chosen = key, item
    return chosen


@dataclass(frozen=True)
class Desk:
    """A counter as the forecast sees it."""

    id: str
    services: tuple[str, ...]
    """What it serves, in its own order of preference."""
    free_in_min: float
    """Minutes until it can call someone: 0 if free now."""


@dataclass(frozen=True)
class Line:
    """One service's waiting visitors, in queue order."""

    service: str
    ids: tuple[int, ...]
    waited_min: tuple[float, ...]
    """How long each has waited by the calling rule's clock (a head start counts as waiting)."""
    target_min: float
    service_min: float
    """Expected minutes a counter spends on one visitor of this service (call to end)."""
    cv: float = FALLBACK_CV
    arrivals_per_min: float = 0.0
    """How often visitors have been checking in for it lately."""


@dataclass
class Forecast:
    call_in_min: dict[int, float] = field(default_factory=dict)
    """Minutes from now until each waiting visitor is called (absent: no counter serves them)."""
    depth: dict[int, float] = field(default_factory=dict)
    """How many service times deep each call is: what the spread of its estimate grows with."""
    arrivals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """For each service, the call (minutes) and depth of the visitors expected to check in
    next: the first now, the others at the service's recent rate."""
    joined: dict[str, int] = field(default_factory=dict)
    """How many of them have checked in since the forecast was made."""
    last_join: dict[str, float] = field(default_factory=dict)
    """The call of the latest of them."""
    pace: dict[str, float] = field(default_factory=dict)
    """Minutes between two calls of a service's visitors when all its counters work on it."""
    free_at: list[float] = field(default_factory=list)
    """Minutes until each desk has worked through everyone it was given."""
    served: list[float] = field(default_factory=list)
    """How many service times each desk has ahead of it, the one in hand counted."""
    serving: dict[str, list[int]] = field(default_factory=dict)
    """The desks serving each service."""

    def next_arrival(self, service_id: str) -> tuple[float, float] | None:
        """Minutes until a visitor checking in now would be called, and how deep; ``None``
        when no staffed counter serves the service."""
        desks = self.serving.get(service_id)
        if not desks:
            return None
        expected = self.arrivals.get(service_id, [])
        joined = self.joined.get(service_id, 0)
        if joined < len(expected):
            call, depth = expected[joined]
            if joined:  # those who checked in since take the counters' time the forecast
                # gave nobody (it counted the first of them as taking none)
                call = max(call, self.last_join[service_id] + self.pace[service_id])
            return call, depth
        first = min(desks, key=lambda i: self.free_at[i])
        return max(self.free_at[first], self.last_join.get(service_id, 0.0)), self.served[first]

    def join(self, service_id: str, ticket_id: int, service_min: float) -> None:
        """A visitor checked in at the end of ``service_id``'s line: they are the visitor the
        forecast expected next, and are called when it said that one would be. Past the
        visitors it expected, the first desk serving them to run out of work calls them."""
        coming = self.next_arrival(service_id)
        if coming is None:
            return
        self.call_in_min[ticket_id], self.depth[ticket_id] = coming
        self.last_join[service_id] = coming[0]
        joined = self.joined.get(service_id, 0)
        self.joined[service_id] = joined + 1
        if joined >= len(self.arrivals.get(service_id, [])):
            first = min(self.serving[service_id], key=lambda i: self.free_at[i])
            self.free_at[first] = coming[0] + service_min
            self.served[first] += 1


def forecast(desks: list[Desk], lines: list[Line]) -> Forecast:
    """Play the calling rule forward until everyone waiting is called, and ``EXPECTED``
    visitors of each service checking in from now on at its recent rate (they take counters'
    time too, and one of a service with a shorter target may well be called first)."""
    by_service = {line.service: line for line in lines}
    taken = dict.fromkeys(by_service, 0)
    coming = dict.fromkeys(by_service, 0)  # expected visitors already given a counter
    result = Forecast(arrivals={s: [] for s in by_service})
    result.serving = {
        service_id: [i for i, d in enumerate(desks) if service_id in d.services]
        for service_id in by_service
    }
    result.pace = {
        s: line.service_min / max(1, len(result.serving[s])) for s, line in by_service.items()
    }
    left = sum(len(line.ids) for line in lines) + sum(
        EXPECTED if line.arrivals_per_min > 0 else 1
        for line in lines
        if result.serving[line.service]
    )
    heap = [(d.free_in_min, i) for i, d in enumerate(desks)]
    heapq.heapify(heap)
    free_at = result.free_at = [d.free_in_min for d in desks]
    served = result.served = [float(d.free_in_min > 0) for d in desks]

    def arrives(line: Line, k: int) -> float:
        """When the ``k``-th expected visitor checks in: one now, the rest at the rate."""
        if line.arrivals_per_min > 0:
            return k / line.arrivals_per_min
        return 0.0 if k == 0 else math.inf

    while heap and left:
        at, i = heapq.heappop(heap)
        desk = desks[i]
        later = math.inf  # when the next expected visitor it serves checks in
        heads: list[tuple[float, float, int, Line]] = []
        for preference, service_id in enumerate(desk.services):
            line = by_service.get(service_id)
            if line is None:
                continue
            if taken[service_id] < len(line.ids):
                waited = line.waited_min[taken[service_id]]
            elif coming[service_id] < EXPECTED:
                due = arrives(line, coming[service_id])
                if due > at:
                    later = min(later, due)
                    continue
                waited = -due
            else:
                continue
            heads.append((waited + at, line.target_min, preference, line))
        best = first_to_call(heads)
        if best is None:
            if later < math.inf:
                heapq.heappush(heap, (later, i))  # free until then
            continue
        line = best
        if taken[line.service] < len(line.ids):
            ticket_id = line.ids[taken[line.service]]
            taken[line.service] += 1
            result.call_in_min[ticket_id] = at
            result.depth[ticket_id] = served[i]
        else:
            first = coming[line.service] == 0
            coming[line.service] += 1
            result.arrivals[line.service].append((at, served[i]))
            if first:
                # the visitor checking in now: when they would be called, without taking a
                # counter from anyone (until they do check in, they are not there)
                left -= 1
                heapq.heappush(heap, (at, i))
                continue
        left -= 1
        served[i] += 1
        free_at[i] = at + line.service_min
        heapq.heappush(heap, (free_at[i], i))
    return result


@dataclass(frozen=True)
class Range:
    low: int
    high: int
    point: float
    steady_min: float = math.inf
    """How many minutes closer the call may come before ``low`` or ``high`` changes: a
    publisher looks at this range again only then (or when the forecast is remade)."""


def wait_range(call_in_min: float, depth: float, service_min: float, cv: float) -> Range:
    """The range shown for a forecast call, rounded outwards.

    Each service time still to pass before the call adds its own uncertainty, so the spread
    grows with the square root of how many there are (``depth``); the point lies
    ``UNSEEN_SHARE`` above the call, and the range reaches ``LOW_Z`` spreads below the call and
    ``HIGH_Z`` above the point.
    """
    spread = cv * service_min * math.sqrt(max(depth, 0.0))
    point = _point(call_in_min)
    bottom = call_in_min - LOW_Z * spread
    top = point + HIGH_Z * spread
    low = max(0, math.floor(bottom))
    high = max(low + MIN_WIDTH, math.ceil(top))
    # As the call comes closer, ``bottom`` falls one for one and ``top`` by 1 + UNSEEN_SHARE:
    # each rounds to a new whole minute when it reaches the one below (a clamped ``low`` or
    # ``high`` may not move then; looking again early does no harm). A call already due
    # comes no closer, so nothing moves it.
    steady = math.inf
    if call_in_min > 0:
        steady = min(
            bottom - math.floor(bottom) if bottom > 0 else math.inf,
            (top - (math.ceil(top) - 1)) / (1 + UNSEEN_SHARE),
            call_in_min,
        )
    return Range(low, high, round(point, 2), steady)


def _point(call_in_min: float) -> float:
    return call_in_min * (1 + UNSEEN_SHARE)


ROUNDING_MIN = 1e-6
"""A minute's share within which floating point may put a range's next change either side."""


@dataclass(frozen=True, slots=True)
class KeptRange:
    """A waiting visitor's range from the forecast held, kept while the clock leaves it as it
    is (the engine forgets its kept ranges whenever it plays a forecast afresh).

    Visitors who check in behind them join that forecast without moving anyone already in it
    (:meth:`Forecast.join`), so each range is worked out once per forecast and per step of
    the clock, not again for every screen after every check-in."""

    call_min: float
    """The call, in minutes from the forecast's own moment."""
    from_min: float
    """How old the forecast was (minutes) when the range was worked out."""
    until_min: float
    """How old it is when ``low`` or ``high`` may next change (``Range.steady_min`` later)."""
    low: int
    high: int

    def holds(self, age_min: float) -> bool:
        """Not within ``ROUNDING_MIN`` of the next change: there the range worked out afresh
        may round either way."""
        return self.from_min <= age_min < self.until_min - ROUNDING_MIN

    def at(self, age_min: float) -> Range:
        """The range when the forecast is ``age_min`` old (``holds`` must be true)."""
        point = _point(max(0.0, self.call_min - age_min))
        return Range(self.low, self.high, round(point, 2), self.until_min - age_min)


@dataclass(frozen=True, slots=True)
class StandingRange:
    """A range the clock does not move: of a visitor no staffed counter serves yet, worked
    out as if one opened now. Kept for as long as its forecast is held, which ends with any
    event but a check-in at the end of a line (one that moves nobody already waiting)."""

    shown: Range

    def holds(self, age_min: float) -> bool:
        return True

    def at(self, age_min: float) -> Range:
        return self.shown


def typical_minutes(recent: list[float], configured: float) -> tuple[float, float]:
    """A service's expected minutes at a counter and their spread, from its recent visits.

    A trimmed mean (the shortest and longest tenth left out) so one visit that ran for an hour
    does not move everyone's estimate; the configured mean until five visits are known.
    """
    if len(recent) < 5:
        return configured, FALLBACK_CV
    data = sorted(recent)
    cut = len(data) // 10
    kept = data[cut : len(data) - cut] if cut else data
    mean = sum(kept) / len(kept)
    if mean <= 0:
        return configured, FALLBACK_CV
    variance = sum((x - mean) ** 2 for x in data) / (len(data) - 1)
    cv = min(1.0, max(0.25, math.sqrt(variance) / mean))
    return mean, cv
