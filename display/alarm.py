"""The lobby display's emergency alarm: a hard two-tone "hi-lo", written as a small WAV file.

It must never be taken for the call chime (soft, falling, bell-like): this is loud, square-ish
and alternates 960 and 770 Hz four times a second, the pattern people know from sirens. Kept as
code so it can be tuned and made again: ``python -m display.alarm display/web/alarm.wav``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from display.chime import RATE, write_wav

TONES = (960.0, 770.0)
STEP_SEC = 0.25
LENGTH_SEC = 2.5
PARTIALS = ((1, 1.0), (3, 1 / 3), (5, 1 / 5), (7, 1 / 7))  # odd harmonics: a square's edge
EDGE_SEC = 0.008
"""Each tone fades in and out this fast: hard enough to sound urgent, without clicks."""


def samples() -> list[float]:
    count = int(RATE * LENGTH_SEC)
    step = int(RATE * STEP_SEC)
    edge = int(RATE * EDGE_SEC)
    out = []
    for i in range(count):
        freq = TONES[(i // step) % len(TONES)]
        into = i % step
        envelope = min(1.0, into / edge, (step - into) / edge)
        t = i / RATE
        out.append(
            envelope * sum(amp * math.sin(2 * math.pi * freq * k * t) for k, amp in PARTIALS)
        )
    peak = max(abs(s) for s in out)
    return [0.8 * s / peak for s in out]


def write_alarm(path: Path) -> None:
    write_wav(path, samples())


if __name__ == "__main__":
    write_alarm(Path(sys.argv[1] if len(sys.argv) > 1 else "alarm.wav"))
