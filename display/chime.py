"""The lobby display's chime: a soft two-note "ding-dong", written as a small WAV file.

Kept as code so the sound can be tuned and made again:
``python -m display.chime display/web/chime.wav``.
Bell-like partials with an exponential decay; gentle enough to hear a dozen times an hour.
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22050
NOTES = ((659.25, 0.0), (523.25, 0.45))  # E5 then C5, seconds from the start
LENGTH_SEC = 1.6
PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12), (4.2, 0.05))  # (ratio, amplitude)


def samples() -> list[float]:
    count = int(RATE * LENGTH_SEC)
    out = [0.0] * count
    for freq, start in NOTES:
        first = int(start * RATE)
        for i in range(first, count):
            t = (i - first) / RATE
            attack = min(1.0, t / 0.005)
            envelope = attack * math.exp(-t * 3.2)
            out[i] += envelope * sum(
                amp * math.sin(2 * math.pi * freq * ratio * t) * math.exp(-t * ratio)
                for ratio, amp in PARTIALS
            )
    peak = max(abs(s) for s in out)
    fade = int(0.05 * RATE)
    for i in range(fade):
        out[count - 1 - i] *= i / fade
    return [0.6 * s / peak for s in out]


def write_wav(path: Path, sound: list[float]) -> None:
    """Mono 16-bit samples in [-1, 1] as a WAV file (the chime's and the alarm's format)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in sound))


def write_chime(path: Path) -> None:
    write_wav(path, samples())


if __name__ == "__main__":
    write_chime(Path(sys.argv[1] if len(sys.argv) > 1 else "chime.wav"))
