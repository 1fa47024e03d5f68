"""``lobby simulate``: a plan changed as asked, played with each estimator, measured, printed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.config import OfficeConfig
from server.reports.tables import text_table
from server.simulation.day import simulate
from server.simulation.history import day_bounds, plan_from_events
from server.simulation.measure import ACCURACY_HEADER, accuracy_row, measure, summary_lines
from server.simulation.plan import Plan, add_counter, reassign
from server.simulation.rules import ESTIMATORS, engine_for
from server.store.port import Store

StoreFactory = Callable[[OfficeConfig], Store]
"""An empty store for one simulated day (the command line makes a SQLite file per run)."""


@dataclass(frozen=True)
class Changes:
    """What to try against the plan."""

    more_counters: int = 0
    assignment: dict[str, tuple[str, ...]] | None = None
    rule: str = "longest-wait"

    def apply(self, plan: Plan) -> Plan:
        if self.assignment:
            plan = reassign(plan, self.assignment)
        for _ in range(self.more_counters):
            plan = add_counter(plan)
        if self.rule != "longest-wait":
            plan.notes.append(f"calling rule: {self.rule}")
        return plan


async def read_plan(store: Store, config: OfficeConfig, day: date) -> Plan:
    """The plan of a day the office had, from its log (``store`` not yet opened)."""
    store.open()
    store.start()
    try:
        events = [logged.event for logged in await store.events_between(*day_bounds(day, config))]
    finally:
        await store.close()
    if not any(e.kind == "ticket.checked_in" for e in events):
        raise ValueError(f"nobody checked in on {day.isoformat()} in this database")
    return plan_from_events(events, day, config)


def recorded_plan(store: Store, config: OfficeConfig, day: date) -> Plan:
    return asyncio.run(read_plan(store, config, day))


def run(
    plan: Plan, estimators: list[str], rule: str, new_store: StoreFactory
) -> dict[str, dict[str, Any]]:
    """The report of the plan's day for each estimator (the day unfolds alike in each)."""
    return {
        name: measure(simulate(plan, engine_for(name, rule)), new_store(plan.config))
        for name in estimators
    }


def printout(plan: Plan, figures: dict[str, dict[str, Any]]) -> str:
    first = next(iter(figures.values()))
    changed = "; ".join(plan.notes) or "as planned"
    lines = [f"{plan.config.name} · {plan.day.isoformat()} · {changed}", ""]
    lines += summary_lines(first)
    rows = [accuracy_row(name, f) for name, f in figures.items()]
    lines += ["", "estimate accuracy (quotes at check-in against the wait that followed):"]
    return "\n".join(lines) + "\n" + text_table(ACCURACY_HEADER, rows)


ALL_ESTIMATORS = list(ESTIMATORS)
