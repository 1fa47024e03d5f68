"""What a benchmark phase measured, and how it is summarised (nearest-rank percentiles)."""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; ``nan`` for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Phase:
    """One measured run: who, how many clients, latencies in seconds, CPU share per process."""

    system: str
    clients: int
    seconds: float = 0.0
    completed: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    expected: int = 0
    slowest_per_round: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    message_bytes: int = 0
    waiting_at_end: int = 0

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else math.nan

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def answer_ms(self, q: float) -> float:
        return percentile(self.answers, q) * 1000

    @property
    def missing(self) -> int:
        return max(0, self.expected - len(self.latencies))

    def busiest(self) -> tuple[str, float]:
        if not self.cpu:
            return ("-", 0.0)
        return max(self.cpu.items(), key=lambda item: item[1])


def note(text: str) -> None:
    """Progress on stderr, so the figures on stdout stay clean."""
    print(f"  .. {text}", file=sys.stderr, flush=True)
