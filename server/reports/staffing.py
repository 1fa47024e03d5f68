"""Staffing advice: how many counters the Erlang C queueing model says each hour of day needs.

It is advice, not a measure, and it rests on assumptions a supervisor should weigh (they are in
``ASSUMPTIONS`` and shown with it): visitors arrive at random at the period's mean rate for that
hour (Poisson), service times are exponential with the period's mean for that service, nobody
leaves the queue, and each service is staffed on its own (counters that serve several services
make the real need somewhat lower). The goal per service is its own target wait met for
``GOAL`` of its visitors, the share the dashboard marks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from server.config import OfficeConfig
from server.reports import stats
from server.store.port import GROUP_SEPARATOR

if TYPE_CHECKING:
    from server.reports.figures import DaySummary

GOAL = 0.8
MAX_COUNTERS = 200
ASSUMPTIONS = (
    "Erlang C model: visitors arrive at random at the period's mean rate for the hour; "
    "service times vary at random around the period's mean for the service; nobody leaves "
    "the queue; each service is counted as if it had counters of its own. "
    f"Goal: {GOAL:.0%} of visitors called within their service's target wait."
)


def erlang_c(counters: int, load: float) -> float:
    """The chance an arrival has to wait, with ``load`` Erlangs offered to ``counters``."""
    if counters <= load:
        return 1.0
    blocking = 1.0  # Erlang B by its recurrence, which stays stable for large numbers
    for n in range(1, counters + 1):
        blocking = load * blocking / (n + load * blocking)
    return counters * blocking / (counters - load * (1 - blocking))


def within_target(
    counters: int, arrivals_per_min: float, service_min: float, target: float
) -> float:
    """The share of visitors called within ``target`` minutes."""
    load = arrivals_per_min * service_min
    if counters <= load:
        return 0.0
    waits = erlang_c(counters, load)
    return 1 - waits * math.exp(-(counters - load) * target / service_min)


def counters_needed(arrivals_per_min: float, service_min: float, target: float) -> int:
    """The fewest counters that meet the goal (0 when nobody arrives)."""
    if arrivals_per_min <= 0 or service_min <= 0:
        return 0
    counters = max(1, math.floor(arrivals_per_min * service_min) + 1)
    while (
        counters < MAX_COUNTERS
        and within_target(counters, arrivals_per_min, service_min, target) < GOAL
    ):
        counters += 1
    return counters


def advice(summary: DaySummary, config: OfficeConfig, open_days: int) -> dict[str, Any]:
    """Per hour of day: counters advised (summed over services) next to counters open."""
    by_service_hour = summary.visits.get("service_hour", {})
    legs = summary.legs.get("service", {})
    hours: dict[int, dict[str, Any]] = {}
    for key, tallies in by_service_hour.items():
        service_id, hour_text = key.split(GROUP_SEPARATOR)
        service = next((s for s in config.services if s.id == service_id), None)
        if service is None or not open_days:
            continue
        leg = legs.get(service_id, {})
        service_min = stats.mean(leg.get("service_sum_min", 0), leg.get("service_count", 0))
        service_min = service_min or service.mean_service_min
        rate = tallies.get("check_ins", 0) / open_days / 60
        needed = counters_needed(rate, service_min, service.target_wait_min)
        row = hours.setdefault(int(hour_text), {"advised": 0, "by_service": {}})
        row["advised"] += needed
        row["by_service"][service_id] = needed
    rows = []
    for hour in sorted(set(hours) | set(summary.staffed)):
        row = hours.get(hour, {"advised": 0, "by_service": {}})
        rows.append(
            {
                "hour": hour,
                "advised": row["advised"],
                "by_service": row["by_service"],
                "open": stats.mean(summary.staffed.get(hour, 0.0) / 3600, open_days),
            }
        )
    return {"goal": GOAL, "assumptions": ASSUMPTIONS, "hours": rows}
