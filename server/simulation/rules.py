"""Other rules to compare against the engine's own, as engines that differ in that one rule.

The simulator plays the same day through each; quotes do not change what visitors or counters
do there, so the days unfold alike and only the quotes differ. These rules exist for comparison
only: the office runs :class:`server.engine.Engine` as it is.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from server.config import OfficeConfig
from server.engine import STAFFED_STATES, Engine, Event, Ticket, WaitEstimate

INTERVAL_WINDOW = timedelta(minutes=60)
INTERVAL_MIN_COMPLETIONS = 3
INTERVAL_PER_COUNTER = 30


def _widened(ahead_min: float, point: float) -> WaitEstimate:
    """The range the engine showed before its forecast: 0.8 x the wait ahead to 1.25 x."""
    low = max(0, math.floor(ahead_min * 0.8))
    return WaitEstimate(low, max(low + 2, math.ceil(point * 1.25)), round(point, 2))


class NaiveRule(Engine):
    """People ahead x mean service time / counters open."""

    def estimate(
        self, service_id: str, now: datetime, ticket: Ticket | None = None
    ) -> WaitEstimate:
        key = ticket.queue_key(self.head_start) if ticket is not None else None
        ahead = self.people_ahead(service_id, key)
        minutes = self.typical_minutes(service_id)[0]
        staffed = sum(1 for c in self.serving[service_id] if c.state in STAFFED_STATES)
        point = ahead * minutes / max(1, staffed)
        return _widened(point, point)


class IntervalRule(Engine):
    """The estimate before the forecast: (people ahead in the counter pool + 1) x the mean
    interval between recent completions at the counters serving the service."""

    def __init__(self, config: OfficeConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.completed_at: dict[str, list[datetime]] = {c: [] for c in self.counters}

    def _on_ticket_completed(self, at: datetime, d: dict[str, Any]) -> None:
        counter = self.tickets[d["id"]].counter
        super()._on_ticket_completed(at, d)
        if counter:
            kept = self.completed_at[counter]
            kept.append(at)
            del kept[:-INTERVAL_PER_COUNTER]

    def interval_min(self, service_id: str, now: datetime) -> float:
        counters = self.serving[service_id]
        recent = sorted(
            t for c in counters for t in self.completed_at[c.id] if now - t <= INTERVAL_WINDOW
        )
        if len(recent) >= INTERVAL_MIN_COMPLETIONS:
            span = (recent[-1] - recent[0]).total_seconds() / 60
            if span > 0:
                return span / (len(recent) - 1)
        staffed = sum(1 for c in counters if c.state in STAFFED_STATES)
        return self.services[service_id].mean_service_min / max(1, staffed)

    def estimate(
        self, service_id: str, now: datetime, ticket: Ticket | None = None
    ) -> WaitEstimate:
        key = ticket.queue_key(self.head_start) if ticket is not None else None
        ahead = self.people_ahead(service_id, key)
        interval = self.interval_min(service_id, now)
        return _widened(ahead * interval, (ahead + 1) * interval)


class FirstComeCalls(Engine):
    """Calls whoever arrived first among the lines a counter serves, whatever their target.

    Only ``call next`` differs: estimates still play the office's own rule forward.
    """

    def call_next(self, now: datetime, counter_id: str) -> tuple[Ticket, list[Event]]:
        counter = self.counter(counter_id)
        heads = [self.waiting[s][0] for s in counter.services if self.waiting[s]]
        if not heads or counter.state != "open":
            return super().call_next(now, counter_id)  # refused the usual way
        _, ticket_id = min(heads)
        return self._call(now, counter, self.tickets[ticket_id])


ESTIMATORS: dict[str, type[Engine]] = {
    "forecast": Engine,
    "naive": NaiveRule,
    "interval": IntervalRule,
}
"""By name, for ``lobby simulate --estimator`` and ``--compare``: the engine's own first."""

RULES: dict[str, type[Engine]] = {"longest-wait": Engine, "first-come": FirstComeCalls}
"""Calling rules by name, for ``lobby simulate --rule``: the engine's own first."""


def engine_for(estimator: str, rule: str) -> type[Engine]:
    """An engine with the named estimate and calling rule."""
    parts = [RULES[rule], ESTIMATORS[estimator]]
    bases = tuple(dict.fromkeys(b for b in parts if b is not Engine)) or (Engine,)
    if len(bases) == 1:
        return bases[0]
    return type(f"{rule}-{estimator}", bases, {})
