"""How report figures are written for people, on the charts and the printed report: one place,
so a share reads "87.5%" and "nobody to count" reads "–" wherever it is printed. These only
write a figure the report holds; none computes one.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NOBODY = "–"


def pct(rate: float | None) -> str:
    """A share between 0 and 1 as a percentage with at most one decimal, rounded as the
    dashboard rounds it (``Math.round(rate * 1000) / 10``), so both pages print the same."""
    if rate is None:
        return NOBODY
    return f"{math.floor(rate * 1000 + 0.5) / 10:g}%"


def num(value: float | None, digits: int = 1) -> str:
    """``digits`` decimals, halves rounded up as the dashboard's ``toFixed`` does (22.25 reads
    22.3 on both pages; Python's own formatting would say 22.2)."""
    if value is None:
        return NOBODY
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{exact:.{digits}f}"


def minutes(value: float | None, digits: int = 1) -> str:
    return NOBODY if value is None else f"{num(value, digits)} min"


def signed(value: float | None) -> str:
    """A bias: "+1.5", "−0.5" (a true minus sign), "0.0"."""
    if value is None:
        return NOBODY
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{num(abs(value))}"


def seconds(value: float | None) -> str:
    """A duration in seconds as the dashboard writes it: "45 s", "3 min 05 s", "1 h 02 min"."""
    if value is None:
        return NOBODY
    s = max(0, round(value))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min {s % 60:02d} s"
    return f"{m // 60} h {m % 60:02d} min"


def bin_label(from_min: float, to_min: float | None) -> str:
    """A wait bin's span: "0–2", "8–10", "30+"."""
    return f"{from_min:g}+" if to_min is None else f"{from_min:g}–{to_min:g}"
