"""Spoken announcements made offline with espeak-ng, one WAV per phrase and language, on disk.

The lobby display plays "Ticket P 14, please go to Window 3" in each office language that has a
voice. Speech is made here, on the server, by the Debian ``espeak-ng`` program: no online speech
service is ever involved, and a lobby without network still talks. Only validated pieces reach
espeak-ng (a ticket number matching a strict pattern, a counter name from the configuration,
phrases from the catalogue in ``phrases/``), passed as one argument to an exec'd process, never
a shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from lobby.i18n import Catalogues
from server.config import PHRASES as PHRASES  # the catalogue folder, read here too

log = logging.getLogger("lobby.speech")

NUMBER_RE = re.compile(r"^([A-Z]{1,3})-(\d{1,4})$")
COUNTER_KIND_RE = re.compile(r"^(window|counter|desk)\s+([A-Za-z0-9]{1,4})$", re.IGNORECASE)
SPEED_WPM = 140
CACHE_LIMIT = 3000
TIMEOUT_SEC = 15.0


@dataclass(frozen=True)
class Phrasing:
    """How one language announces a call. ``to_counter`` covers "Window 3"-style names."""

    voice: str
    template: str  # {number} and {counter} are filled in
    to_counter: dict[str, str]  # counter kind -> "to the window" (the number is appended)
    to_named: str  # any other counter name: {name}


VOICES = {"en": "en-us", "es": "es-419", "fr": "fr-fr", "pt": "pt-br"}
"""The espeak-ng voice each language with phrases is said in."""


def load_catalogue(folder: Path = PHRASES) -> dict[str, Phrasing]:
    phrases = Catalogues.load(folder)
    return {
        lang: Phrasing(
            VOICES[lang],
            phrases.text(lang, "call"),
            {kind: phrases.text(lang, f"to_{kind}") for kind in ("window", "counter", "desk")},
            phrases.text(lang, "to_named"),
        )
        for lang in phrases.languages
        if lang in VOICES
    }


CATALOGUE = load_catalogue()


class SpeechUnavailable(Exception):
    """espeak-ng is missing or failed; the display still chimes."""


def valid_number(number: str) -> bool:
    return NUMBER_RE.match(number) is not None


def spoken_number(number: str) -> str:
    """``P-014`` -> SSML that spells the letters and says the number: "P, 14"."""
    match = NUMBER_RE.match(number)
    if match is None:
        raise ValueError(f"not a ticket number: {number!r}")
    letters, digits = match.groups()
    return f'<say-as interpret-as="characters">{letters}</say-as> {int(digits)}'


def spoken_counter(phrasing: Phrasing, counter_name: str) -> str:
    match = COUNTER_KIND_RE.match(counter_name.strip())
    if match is not None:
        kind, label = match.groups()
        return f"{phrasing.to_counter[kind.lower()]} {escape(label)}"
    return phrasing.to_named.format(name=escape(counter_name.strip()))


def phrase_ssml(lang: str, number: str, counter_name: str) -> str:
    """The whole announcement as SSML, built only from the catalogue and validated parts."""
    phrasing = CATALOGUE[lang]
    text = phrasing.template.format(
        number=spoken_number(number), counter=spoken_counter(phrasing, counter_name)
    )
    return f"<speak>{text}</speak>"


def parse_voices(listing: str) -> set[str]:
    """Language codes with an installed espeak-ng voice, from ``espeak-ng --voices``.

    mbrola voices (file ``mb/...``) are skipped: they need separate data files.
    """
    codes: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5 or fields[4].startswith("mb/"):
            continue
        language = fields[1].lower()
        codes.add(language)
        codes.add(language.split("-")[0])
        for other in re.findall(r"\(([a-z-]+)", " ".join(fields[5:])):
            codes.add(other)
            codes.add(other.split("-")[0])
    return codes


class Speech:
    """Makes and caches announcement WAVs. One instance per running app.

    Files are keyed by (voice, phrase): the same call said twice is made once. At most
    ``concurrency`` espeak-ng processes run at a time, and two requests for the same phrase
    share one run.
    """

    def __init__(self, cache_dir: Path, program: str = "espeak-ng", concurrency: int = 2) -> None:
        self.cache_dir = cache_dir
        self.program = shutil.which(program)
        self._slots = asyncio.Semaphore(concurrency)
        self._listing = asyncio.Lock()
        self._voices: set[str] | None = None
        self._running: dict[Path, asyncio.Future[Path]] = {}

    @property
    def available(self) -> bool:
        return self.program is not None

    async def languages(self, wanted: tuple[str, ...]) -> list[str]:
        """Which of ``wanted`` can be spoken: a catalogue phrase and an installed voice."""
        voices = await self._installed_voices()
        return [
            lang
            for lang in wanted
            if lang in CATALOGUE and CATALOGUE[lang].voice.split("-")[0] in voices
        ]

    async def announcement(self, lang: str, number: str, counter_name: str) -> Path:
        """The WAV file for this call in ``lang``; made on first use, then served from disk."""
        if lang not in CATALOGUE:
            raise SpeechUnavailable(f"no phrases for language {lang!r}")
        if not valid_number(number):
            raise ValueError(f"not a ticket number: {number!r}")
        return await self._spoken(lang, phrase_ssml(lang, number, counter_name))

    async def sentence(self, lang: str, text: str) -> Path:
        """The WAV of one configured office text said in ``lang`` (an emergency's instruction),
        made and cached like a call. The text is the office's own, escaped into the SSML."""
        if lang not in CATALOGUE:
            raise SpeechUnavailable(f"no voice for language {lang!r}")
        return await self._spoken(lang, f"<speak>{escape(text)}</speak>")

    async def _spoken(self, lang: str, ssml: str) -> Path:
        voice = CATALOGUE[lang].voice
        digest = hashlib.sha256(f"{voice}\n{SPEED_WPM}\n{ssml}".encode()).hexdigest()[:24]
        path = self.cache_dir / f"{lang}-{digest}.wav"
        if path.exists():
            return path
        task = self._running.get(path)
        if task is None:
            task = asyncio.ensure_future(self._make(voice, ssml, path))
            self._running[path] = task
            task.add_done_callback(lambda done: self._finished(path, done))
        # shielded: a display that hangs up mid-request does not waste the work for the others
        return await asyncio.shield(task)

    def _finished(self, path: Path, task: asyncio.Future[Path]) -> None:
        self._running.pop(path, None)
        if not task.cancelled() and task.exception() is not None:
            log.warning("announcement not made: %s", task.exception())

    async def _make(self, voice: str, ssml: str, path: Path) -> Path:
        await self._synthesize(voice, ssml, path)
        self._prune()
        return path

    async def _installed_voices(self) -> set[str]:
        """Listed once per app (displays ask together at start-up); a failed listing is retried."""
        if self.program is None:
            return set()
        async with self._listing:
            if self._voices is None:
                try:
                    out = await self._run(self.program, "--voices")
                except SpeechUnavailable as exc:
                    log.warning("cannot list espeak-ng voices: %s", exc)
                    return set()
                self._voices = parse_voices(out.decode(errors="replace"))
        return self._voices

    async def _synthesize(self, voice: str, ssml: str, path: Path) -> None:
        if self.program is None:
            raise SpeechUnavailable("espeak-ng is not installed on the server")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        try:
            await self._run(
                self.program, "-m", "-v", voice, "-s", str(SPEED_WPM), "-w", str(partial), ssml
            )
            if not partial.exists() or partial.stat().st_size <= 44:
                raise SpeechUnavailable("espeak-ng produced no audio")
            partial.replace(path)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()

    async def _run(self, *argv: str) -> bytes:
        async with self._slots:
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise SpeechUnavailable(f"cannot start espeak-ng: {exc.strerror}") from None
            try:
                out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_SEC)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise SpeechUnavailable("espeak-ng took too long") from None
            if process.returncode != 0:
                message = err.decode(errors="replace").strip()[:200]
                raise SpeechUnavailable(f"espeak-ng failed ({process.returncode}): {message}")
            return out

    def _prune(self) -> None:
        """Keep the cache bounded: a busy year of numbers must not fill the disk."""
        try:
            files = sorted(self.cache_dir.glob("*.wav"), key=lambda f: f.stat().st_mtime)
        except OSError:
            return
        for stale in files[: max(0, len(files) - CACHE_LIMIT)]:
            with contextlib.suppress(OSError):
                stale.unlink()
