"""Estimate accuracy on simulated days: the engine's forecast against the naive rule and the
interval rule it replaced, each day played through the real engine (``lobby simulate``).

The days are the example scenarios (examples/scenarios: a lunch peak with breaks and shared
counters, a short-staffed day with an hour-long absence, a steady day), each drawn with seeds
101-110: not the seeds the forecast's constants were chosen on (1-5). Every figure is the
supervisor report's own (docs/measures.md, "Estimate accuracy"), averaged over the seeds.

Run as ``python -m benchmarks.estimates`` for this part of ``make bench`` alone.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.figures import note
from server.config import OfficeConfig
from server.reports.records import counter_layout
from server.simulation.run import ALL_ESTIMATORS, run
from server.simulation.scenario import draw, load_scenario
from server.store.sqlite import SqliteStore

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
SEEDS = range(101, 111)
TARGET_MAE_RATIO = 0.85
TARGET_INSIDE = 0.80


@dataclass
class Accuracy:
    scenario: str
    estimator: str
    quotes: int
    mae: float
    bias: float
    inside: float
    width: float
    wait_mean: float


def measure_estimates(workdir: Path) -> tuple[list[Accuracy], float]:
    began = time.perf_counter()
    made = iter(range(1_000_000))

    def new_store(config: OfficeConfig) -> SqliteStore:
        return SqliteStore(workdir / f"estimates-{next(made)}.db", counter_layout(config))

    results = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        note(f"estimates: {path.stem}, {len(SEEDS)} seeds, {len(ALL_ESTIMATORS)} estimators")
        scenario, config = load_scenario(path)
        runs: dict[str, list[dict]] = {name: [] for name in ALL_ESTIMATORS}
        for seed in SEEDS:
            figures = run(draw(scenario, config, seed), ALL_ESTIMATORS, "longest-wait", new_store)
            for name, report in figures.items():
                runs[name].append(report["overall"])
        for name, days in runs.items():
            errors = [d["estimate_error"] for d in days]
            results.append(
                Accuracy(
                    path.stem,
                    name,
                    sum(e["count"] for e in errors),
                    statistics.fmean(e["mean_abs_error_min"] for e in errors),
                    statistics.fmean(e["bias_min"] for e in errors),
                    statistics.fmean(e["range_inside"] for e in errors),
                    statistics.fmean(e["mean_range_width_min"] for e in errors),
                    statistics.fmean(d["wait_min"]["mean"] for d in days),
                )
            )
    return results, time.perf_counter() - began


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_estimates(results: list[Accuracy], seconds: float, section: int = 7) -> None:
    print(
        f"\n{section}. Estimate accuracy on simulated days ({len(SEEDS)} seeds each,"
        f" {seconds:.0f} s; quotes at check-in against the wait that followed; the naive rule"
        " is the baseline)"
    )
    print("   scenario        estimator  quotes  MAE min  bias min  inside  width min  mean wait")
    for r in results:
        print(
            f"   {r.scenario:<15} {r.estimator:<10} {r.quotes:>6} {r.mae:>8.2f} {r.bias:>9.2f}"
            f" {100 * r.inside:>6.0f}% {r.width:>10.1f} {r.wait_mean:>10.1f}"
        )
    for scenario in dict.fromkeys(r.scenario for r in results):
        mine = next(r for r in results if r.scenario == scenario and r.estimator == "forecast")
        naive = next(r for r in results if r.scenario == scenario and r.estimator == "naive")
        ratio = mine.mae / naive.mae if naive.mae else float("inf")
        print(
            f"   {scenario}: MAE {ratio:.2f}x the naive rule's (target <= {TARGET_MAE_RATIO}:"
            f" {verdict(ratio <= TARGET_MAE_RATIO)}); bias {mine.bias:+.2f} (target >= 0:"
            f" {verdict(mine.bias >= 0)}); inside {100 * mine.inside:.0f}% (target >= 80%:"
            f" {verdict(mine.inside >= TARGET_INSIDE)})"
        )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lobby-bench-") as tmp:
        results, seconds = measure_estimates(Path(tmp))
    print_estimates(results, seconds, section=1)


if __name__ == "__main__":
    main()
