"""When each waiting visitor will be called: the calling rule played forward on today's counters.

The estimate a visitor is shown must answer "how long until a counter that serves me is free
for me", so the forecast plays :meth:`server.engine.Engine.call_next` forward in time: every
staffed counter becomes free when its current visit is expected to end (at once if it is free
now, after the rest of a break if on one), and each time one does it takes the visitor the
calling rule would give it (the longest wait against its service's target, counters' own order
of services breaking ties) and stays busy for that service's typical time at a counter. So a
free counter means no wait, a counter shared by two services splits its time between them as
it really will, and people waiting for other services at other counters are not charged to
anyone.

Pure: minutes in, minutes out; the engine gathers the inputs (:meth:`Engine.forecast`).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

SPREAD_Z = 1.3
"""How many standard deviations of the wait the range reaches on each side. With the
uncertainty of arrivals still to come ahead of a visitor (priority, transfers) this covers about
eight waits in ten on simulated days (``lobby simulate --compare``)."""
MIN_WIDTH = 2
"""The narrowest range shown, in minutes: "0–2 minutes" rather than "0 minutes"."""
FALLBACK_CV = 0.5
"""Spread of service times (standard deviation over mean) until there is history to learn it."""


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


@dataclass
class Forecast:
    call_in_min: dict[int, float] = field(default_factory=dict)
    """Minutes from now until each waiting visitor is called (absent: no counter serves them)."""
    depth: dict[int, float] = field(default_factory=dict)
    """How many service times deep each call is: what the spread of its estimate grows with."""
    next_arrival_min: dict[str, float | None] = field(default_factory=dict)
    """Minutes until a visitor checking in now for each service would be called."""
    next_arrival_depth: dict[str, float] = field(default_factory=dict)
    free_at: list[float] = field(default_factory=list)
    """Minutes until each desk has worked through everyone it was given."""
    served: list[float] = field(default_factory=list)
    """How many service times each desk has ahead of it, the one in hand counted."""
    serving: dict[str, list[int]] = field(default_factory=dict)
    """The desks serving each service."""

    def join(self, service_id: str, ticket_id: int, service_min: float) -> None:
        """A visitor checked in at the end of ``service_id``'s line. They have waited least
        of everyone, so every desk gives them its turn only once nothing older is left to
        serve: the first desk serving them to run out of work calls them, which is what
        playing the whole forecast again would say (exactly so while the services' targets
        are alike)."""
        desks = self.serving.get(service_id)
        if not desks:
            return
        first = min(desks, key=lambda i: self.free_at[i])
        self.call_in_min[ticket_id] = self.free_at[first]
        self.depth[ticket_id] = self.served[first]
        self.free_at[first] += service_min
        self.served[first] += 1
        self._next_arrivals()

    def _next_arrivals(self) -> None:
        for service_id, desks in self.serving.items():
            if not desks:
                self.next_arrival_min[service_id] = None
                continue
            first = min(desks, key=lambda i: self.free_at[i])
            self.next_arrival_min[service_id] = self.free_at[first]
            self.next_arrival_depth[service_id] = self.served[first]


def forecast(desks: list[Desk], lines: list[Line]) -> Forecast:
    """Play the calling rule forward until every line is empty."""
    by_service = {line.service: line for line in lines}
    taken = dict.fromkeys(by_service, 0)
    result = Forecast()
    heap = [(d.free_in_min, i) for i, d in enumerate(desks)]
    heapq.heapify(heap)
    free_at = result.free_at = [d.free_in_min for d in desks]
    served = result.served = [float(d.free_in_min > 0) for d in desks]
    while heap:
        at, i = heapq.heappop(heap)
        desk = desks[i]
        best: tuple[float, int, Line] | None = None
        for preference, service_id in enumerate(desk.services):
            line = by_service.get(service_id)
            if line is None or taken[service_id] >= len(line.ids):
                continue
            urgency = (line.waited_min[taken[service_id]] + at) / line.target_min
            candidate = (-urgency, preference, line)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        if best is None:
            continue  # nothing left that it serves: it stays free from ``at``
        line = best[2]
        ticket_id = line.ids[taken[line.service]]
        taken[line.service] += 1
        result.call_in_min[ticket_id] = at
        result.depth[ticket_id] = served[i]
        served[i] += 1
        free_at[i] = at + line.service_min
        heapq.heappush(heap, (free_at[i], i))
    result.serving = {
        service_id: [i for i, d in enumerate(desks) if service_id in d.services]
        for service_id in by_service
    }
    result._next_arrivals()
    return result


@dataclass(frozen=True)
class Range:
    low: int
    high: int
    point: float


def wait_range(call_in_min: float, depth: float, service_min: float, cv: float) -> Range:
    """The range shown for a forecast call, rounded outwards.

    Each service time still to pass before the call adds its own uncertainty, so the spread
    grows with the square root of how many there are (``depth``); the point is the forecast
    itself, built from mean service times, which lie above the typical (median) time of a
    skewed distribution: it errs high.
    """
    spread = SPREAD_Z * cv * service_min * math.sqrt(max(depth, 0.0))
    low = max(0, math.floor(call_in_min - spread))
    high = max(low + MIN_WIDTH, math.ceil(call_in_min + spread))
    return Range(low, high, round(call_in_min, 2))


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
