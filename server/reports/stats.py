"""Percentiles and rates, defined once for every report (docs/measures.md).

Percentiles are **nearest rank**: the p-th percentile of n values is the smallest value with at
least p % of the values at or below it, the value at rank ceil(p/100 x n) of the sorted values.
It is always one of the values, never an interpolation, and never reads lower than what p % of
visitors lived (the old rank-rounding read one rank low on small samples).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

RESOLUTION = 100
"""Durations are counted in hundredths of their unit (0.01 min, 0.01 s), rounded half up."""


def rank(p: int, n: int) -> int:
    """The 1-based nearest rank of the p-th percentile (p a whole percent) among n values."""
    if not 0 < p <= 100 or n < 1:
        raise ValueError("a percentile needs 0 < p <= 100 and at least one value")
    return (p * n + 99) // 100


def nearest_rank(values: Sequence[float], p: int) -> float:
    """The p-th percentile of sorted ``values``."""
    return values[rank(p, len(values)) - 1]


def histogram_percentile(buckets: Sequence[tuple[int, int]], p: int) -> float:
    """The p-th percentile of values given as sorted ``(value, count)`` buckets."""
    wanted = rank(p, sum(count for _, count in buckets))
    seen = 0
    for value, count in buckets:
        seen += count
        if seen >= wanted:
            return value / RESOLUTION
    raise AssertionError("unreachable: the rank is within the count")


def distribution(buckets: Sequence[tuple[int, int]], total: float) -> dict[str, Any]:
    """``{count, mean, median, p90}``: the mean from the exact total, percentiles by rank."""
    count = sum(c for _, c in buckets)
    if not count:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    return {
        "count": count,
        "mean": round(total / count, 2),
        "median": histogram_percentile(buckets, 50),
        "p90": histogram_percentile(buckets, 90),
    }


def rate(part: float, whole: float) -> float | None:
    """A share between 0 and 1 (4 decimals); None when there is nobody to count."""
    return round(part / whole, 4) if whole else None


def mean(total: float, count: float, digits: int = 2) -> float | None:
    return round(total / count, digits) if count else None


def merged(histograms: Iterable[dict[int, int]]) -> list[tuple[int, int]]:
    """Buckets of several histograms added up, in value order."""
    sums: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            sums[value] = sums.get(value, 0) + count
    return sorted(sums.items())
