"""Supervisor figures, computed from the event log with the definitions in docs/measures.md.

The report replays the log through a fresh engine that keeps the period's visits (the server's
own engine forgets finished visits of earlier days), so it measures exactly what happened, and it
leads with what visitors lived (wait, service level, needs met); service time is shown, never
ranked by staff.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from server.config import OfficeConfig
from server.engine import Engine, Event, Ticket


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def _stats(values: Iterable[float | None]) -> dict[str, Any]:
    data = sorted(v for v in values if v is not None)
    if not data:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    p90 = data[min(len(data) - 1, round(0.9 * (len(data) - 1)))]
    return {
        "count": len(data),
        "mean": round(statistics.fmean(data), 2),
        "median": round(statistics.median(data), 2),
        "p90": round(p90, 2),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _service_level(tickets: list[Ticket], target_min: float, now: datetime) -> dict[str, Any]:
    """Called within target / all check-ins, except walkaways who left before the target passed."""
    met = counted = 0
    for t in tickets:
        wait = _minutes(t.arrived_at, t.called_at)
        if wait is not None:
            counted += 1
            met += wait <= target_min
            continue
        waited = _minutes(t.arrived_at, t.ended_at or now) or 0.0
        if t.state == "walkaway" and waited <= target_min:
            continue
        if t.state == "waiting" and waited <= target_min:
            continue  # not yet decided
        counted += 1
    return {"met": met, "counted": counted, "rate": _rate(met, counted)}


def _survey(answers: list[tuple[bool, int | None]]) -> dict[str, Any]:
    ratings = [r for _, r in answers if r is not None]
    return {
        "answers": len(answers),
        "needs_met_rate": _rate(sum(met for met, _ in answers), len(answers)),
        "mean_rating": round(statistics.fmean(ratings), 2) if ratings else None,
    }


def _estimates(tickets: list[Ticket]) -> dict[str, Any]:
    errors = []
    for t in tickets:
        wait = _minutes(t.arrived_at, t.called_at)
        if t.quoted is None or wait is None:
            continue
        errors.append(t.quoted.point - wait)
    if not errors:
        return {"count": 0, "mean_abs_error_min": None, "bias_min": None, "within_5_min": None}
    return {
        "count": len(errors),
        "mean_abs_error_min": round(statistics.fmean(abs(e) for e in errors), 2),
        "bias_min": round(statistics.fmean(errors), 2),
        "within_5_min": _rate(sum(abs(e) <= 5 for e in errors), len(errors)),
    }


def _figures(tickets: list[Ticket], target_min: float | None, now: datetime) -> dict[str, Any]:
    called = [t for t in tickets if t.called_at is not None]
    answered = [t for t in tickets if t.state == "done" and t.needs_met is not None]
    acknowledged = [t for t in tickets if t.acknowledged_at is not None]
    figures: dict[str, Any] = {
        "check_ins": len(tickets),
        "wait_min": _stats(_minutes(t.arrived_at, t.called_at) for t in tickets),
        "needs_met_rate": _rate(sum(bool(t.needs_met) for t in answered), len(answered)),
        "needs_met_answered": len(answered),
        "outcomes": {
            state: sum(t.state == state for t in tickets)
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
        "no_show_rate": _rate(sum(t.state == "no_show" for t in called), len(called)),
        "walkaway_rate": _rate(sum(t.state == "walkaway" for t in tickets), len(tickets)),
        "transfers": sum(len(t.transfers) for t in tickets),
        "call_to_counter_min": _stats(_minutes(t.last_called_at, t.started_at) for t in tickets),
        "service_time_min": _stats(
            _minutes(t.started_at, t.ended_at) for t in tickets if t.state == "done"
        ),
        "acknowledgement_sec": _stats(
            (_minutes(t.arrived_at, t.acknowledged_at) or 0.0) * 60 for t in acknowledged
        ),
        "acknowledged_via": {
            via: sum(t.acknowledged_via == via for t in tickets) for via in ("printed", "screen")
        },
        "estimate_error": _estimates(tickets),
        "survey": _survey([t.survey for t in tickets if t.survey is not None]),
    }
    if target_min is not None:
        figures["target_wait_min"] = target_min
        figures["service_level"] = _service_level(tickets, target_min, now)
    return figures


class Summary:
    """One report being built: the log fed in seq order (in pages, so a year of it is never
    held at once), then the figures.

    Its engine keeps the closed visits of the period, which the office's own engine forgets
    once their day is over; earlier visits are not measured and are forgotten as usual.
    """

    def __init__(self, config: OfficeConfig, start: datetime, end: datetime, now: datetime):
        self.config = config
        self.engine = Engine(config, keep_from=start.date())
        self.start, self.end, self.now = start, end, now
        self.horizon = min(end, now)
        self.idle_at_start: dict[str, float] | None = None
        self.idle_at_end: dict[str, float] | None = None

    def _idle_at(self, moment: datetime) -> dict[str, float]:
        self.engine.advance(moment)
        return {c: self.engine.idle_while_waiting(c, moment) for c in self.engine.counters}

    def feed(self, events: Iterable[Event]) -> None:
        """Visits are followed to their outcome (even a next-day close); idle time stops at
        the end."""
        for event in events:
            if self.idle_at_start is None and event.at >= self.start:
                self.idle_at_start = self._idle_at(self.start)
            if self.idle_at_end is None and event.at > self.horizon:
                self.idle_at_end = self._idle_at(self.horizon)
            self.engine.apply(event)

    def figures(self) -> dict[str, Any]:
        config, engine, start, end, now = self.config, self.engine, self.start, self.end, self.now
        idle_at_start = self.idle_at_start
        if idle_at_start is None:
            idle_at_start = self._idle_at(start)
        idle_at_end = self.idle_at_end
        if idle_at_end is None:
            idle_at_end = self._idle_at(self.horizon) if self.horizon >= start else idle_at_start
        return _report(config, engine, start, end, now, idle_at_start, idle_at_end)


def _report(
    config: OfficeConfig,
    engine: Engine,
    start: datetime,
    end: datetime,
    now: datetime,
    idle_at_start: dict[str, float],
    idle_at_end: dict[str, float],
) -> dict[str, Any]:
    period = [t for t in engine.tickets.values() if start <= t.arrived_at <= end]
    services = {}
    for service in config.services:
        mine = [t for t in period if _first_service(t) == service.id]
        services[service.id] = {
            "name": service.name,
            **_figures(mine, service.target_wait_min, now),
        }
    idle = {
        c.id: {
            "name": c.name,
            "idle_while_waiting_sec": round(max(0.0, idle_at_end[c.id] - idle_at_start[c.id]), 1),
        }
        for c in engine.counters.values()
    }
    return {
        "office": config.name,
        "from": start.isoformat(timespec="seconds"),
        "to": end.isoformat(timespec="seconds"),
        "overall": _figures(period, None, now)
        | {"service_level": _combined_level(period, config, now)},
        "services": services,
        "counters": idle,
        "closed_at_end_of_day": [t.number for t in period if t.state == "closed_at_end_of_day"],
        "debrief": [
            {"number": t.number, "reason": t.flagged, "at": t.arrived_at.isoformat()}
            for t in period
            if t.flagged
        ],
    }


def _first_service(ticket: Ticket) -> str:
    """Reports count a visit under the service it checked in for, even after a transfer."""
    return ticket.transfers[0].from_service if ticket.transfers else ticket.service


def _combined_level(tickets: list[Ticket], config: OfficeConfig, now: datetime) -> dict[str, Any]:
    met = counted = 0
    for service in config.services:
        level = _service_level(
            [t for t in tickets if _first_service(t) == service.id], service.target_wait_min, now
        )
        met += level["met"]
        counted += level["counted"]
    return {"met": met, "counted": counted, "rate": _rate(met, counted)}
