"""Announcements put together from recordings, for office languages espeak-ng has no voice for.

Somali, for one, has no espeak-ng voice. An office can record (or have made elsewhere) a few
short WAV clips per language and name their folder in ``[office] speech_clips``; a call is then
said as the clips in a row: "ticket", the prefix letter, the number digit by digit, "please go
to", the counter. The folder holds, per language code::

    so/ticket.wav         the words before the number ("Lambarka")
    so/letter-P.wav       one per ticket prefix letter the office uses
    so/digit-0.wav ...    digit-9.wav
    so/go-to.wav          the words before the counter ("fadlan u tag")
    so/counter-w1.wav     one per counter id, its name said in that language
    so/emergency-evacuate.wav   optional: an emergency kind's instruction, said whole

Every clip of a language must share one WAV format (channels, sample width, rate); a language
is spoken only once all its clips are there, and ``lobby check-config`` lists the missing ones.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

from server.config import OfficeConfig
from server.speech import NUMBER_RE


class ClipError(ValueError):
    """A clip cannot be used (missing, unreadable, or of another format); names the file."""


@dataclass(frozen=True)
class Clips:
    folder: Path

    def needed(self, lang: str, config: OfficeConfig) -> list[Path]:
        """Every clip ``lang`` needs for this office's prefixes and counters."""
        letters = sorted({letter for s in config.services for letter in s.prefix})
        names = [
            "ticket",
            *(f"letter-{letter}" for letter in letters),
            *(f"digit-{digit}" for digit in range(10)),
            "go-to",
            *(f"counter-{c.id}" for c in config.counters),
        ]
        return [self.folder / lang / f"{name}.wav" for name in names]

    def missing(self, lang: str, config: OfficeConfig) -> list[Path]:
        return [path for path in self.needed(lang, config) if not path.is_file()]

    def speaks(self, lang: str, config: OfficeConfig) -> bool:
        return (self.folder / lang).is_dir() and not self.missing(lang, config)

    def emergency(self, lang: str, kind: str) -> Path | None:
        """The recorded instruction of emergency ``kind`` in ``lang``, if the office made one."""
        path = self.folder / lang / f"emergency-{kind}.wav"
        return path if path.is_file() else None

    def announcement(self, lang: str, number: str, counter_id: str) -> bytes:
        """The call as one WAV: the clips of its words, one after the other."""
        match = NUMBER_RE.match(number)
        if match is None:
            raise ValueError(f"not a ticket number: {number!r}")
        letters, digits = match.groups()
        names = [
            "ticket",
            *(f"letter-{letter}" for letter in letters),
            *(f"digit-{digit}" for digit in str(int(digits))),
            "go-to",
            f"counter-{counter_id}",
        ]
        return joined([self.folder / lang / f"{name}.wav" for name in names])


def joined(paths: list[Path]) -> bytes:
    """The WAVs' sound one after the other, in one WAV of their shared format."""
    out = io.BytesIO()
    params: tuple[int, int, int] | None = None
    with wave.open(out, "wb") as whole:
        for path in paths:
            try:
                with wave.open(str(path), "rb") as clip:
                    shape = (clip.getnchannels(), clip.getsampwidth(), clip.getframerate())
                    frames = clip.readframes(clip.getnframes())
            except (OSError, EOFError, wave.Error) as error:
                raise ClipError(f"{path}: cannot be read as a WAV file ({error})") from None
            if params is None:
                params = shape
                whole.setnchannels(shape[0])
                whole.setsampwidth(shape[1])
                whole.setframerate(shape[2])
            elif shape != params:
                raise ClipError(
                    f"{path}: {shape[0]} channel(s), {shape[1] * 8}-bit, {shape[2]} Hz; the "
                    f"other clips are {params[0]} channel(s), {params[1] * 8}-bit, {params[2]} Hz"
                )
            whole.writeframes(frames)
    return out.getvalue()
