"""A simulated day measured exactly as a real one: its events go into a store of their own and
the supervisor's report (:func:`server.reports.figures.report`) is computed from it, so every
figure means what docs/measures.md says it means."""

from __future__ import annotations

import asyncio
from typing import Any

from server.reports.figures import report
from server.simulation.day import SimulatedDay
from server.store.port import Store

CHUNK = 500


async def _write(store: Store, day: SimulatedDay) -> None:
    store.open()
    store.start()
    try:
        writes = [
            store.append(day.events[i : i + CHUNK])[1] for i in range(0, len(day.events), CHUNK)
        ]
        await asyncio.gather(*writes)
    finally:
        await store.close()


def measure(day: SimulatedDay, store: Store) -> dict[str, Any]:
    """The day's report, from ``store`` (an empty one: the day is written into it)."""
    asyncio.run(_write(store, day))
    return report(store, day.plan.config, day.plan.day, day.plan.day, day.end)


def accuracy_row(name: str, figures: dict[str, Any]) -> list[str]:
    """One estimator's line of the comparison table."""
    err = figures["overall"]["estimate_error"]

    def share(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.0f}%"

    def minutes(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    return [
        name,
        str(err["count"]),
        minutes(err["mean_abs_error_min"]),
        minutes(err["bias_min"]),
        share(err["range_inside"]),
        share(err["range_below"]),
        share(err["range_above"]),
        minutes(err["mean_range_width_min"]),
    ]


ACCURACY_HEADER = [
    "estimator",
    "quotes",
    "MAE min",
    "bias min",
    "inside",
    "below",
    "above",
    "width min",
]


def summary_lines(figures: dict[str, Any]) -> list[str]:
    """The day's measures in a few lines, as the reports define them."""
    overall = figures["overall"]
    wait = overall["wait_min"]
    level = overall["service_level"]
    lines = [
        f"visitors {overall['check_ins']}, called {wait['count']}",
        f"wait (of {wait['count']} called): mean {wait['mean']} min, median {wait['median']},"
        f" p90 {wait['p90']}",
        f"service level: {level['met']} of {level['counted']} within target"
        + (f" ({100 * level['rate']:.0f}%)" if level["rate"] is not None else ""),
    ]
    idle = figures.get("counters", {})
    if idle:
        parts = [f"{c['name']} {c['idle_while_waiting_sec'] / 60:.1f}" for c in idle.values()]
        lines.append("idle while someone waited (min): " + ", ".join(parts))
    return lines
