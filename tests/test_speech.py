"""Offline announcements with the real espeak-ng: phrases, voices, the disk cache."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from server.speech import (
    Speech,
    SpeechUnavailable,
    parse_voices,
    phrase_ssml,
    spoken_number,
    valid_number,
)

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (make system-deps)"
)

VOICES = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  es              --/M      Spanish_(Spain)    roa/es
 5  es-419          --/M      Spanish_(Latin_America) roa/es-419           (es-mx 6)(es 6)
 3  de              --/F      german-mbrola-5    mb/mb-de5
"""


def test_the_number_is_spelled_then_said_without_leading_zeros() -> None:
    assert spoken_number("P-014") == '<say-as interpret-as="characters">P</say-as> 14'
    assert spoken_number("AB-0007").endswith("</say-as> 7")


@pytest.mark.parametrize("bad", ["P014", "p-014", "P-", "P-12345", "ABCD-1", "P-1 <x>", ""])
def test_only_ticket_numbers_are_accepted(bad: str) -> None:
    assert not valid_number(bad)
    with pytest.raises(ValueError):
        spoken_number(bad)


def test_phrases_follow_the_catalogue() -> None:
    assert phrase_ssml("en", "P-014", "Window 3") == (
        '<speak>Ticket <say-as interpret-as="characters">P</say-as> 14, '
        "please go to window 3.</speak>"
    )
    assert "pase a la ventanilla 3" in phrase_ssml("es", "P-014", "Window 3")
    assert "pase al mostrador 2" in phrase_ssml("es", "P-014", "Counter 2")
    assert "pase a Caja rápida." in phrase_ssml("es", "P-014", "Caja rápida")


def test_counter_names_cannot_inject_markup() -> None:
    ssml = phrase_ssml("en", "P-014", 'Desk <audio src="x"/> & co')
    assert "<audio" not in ssml and "&lt;audio" in ssml and "&amp; co" in ssml


def test_voice_listing_skips_mbrola_voices() -> None:
    voices = parse_voices(VOICES)
    assert {"en", "en-us", "es", "es-419", "es-mx"} <= voices
    assert "de" not in voices


@needs_espeak
async def test_languages_without_a_voice_are_skipped(tmp_path: Path) -> None:
    speech = Speech(tmp_path)
    assert await speech.languages(("en", "es", "so", "xx")) == ["en", "es"]


@needs_espeak
async def test_voices_are_listed_once_for_callers_asking_together(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    program = tmp_path / "counting-espeak-ng"
    program.write_text(f'#!/bin/sh\necho run >> "{runs}"\nexec espeak-ng "$@"\n')
    program.chmod(0o755)
    speech = Speech(tmp_path / "cache", program=str(program))
    answers = await asyncio.gather(*(speech.languages(("en", "es", "so")) for _ in range(4)))
    assert answers == [["en", "es"]] * 4
    assert await speech.languages(("es",)) == ["es"]
    assert runs.read_text().splitlines() == ["run"]


@needs_espeak
async def test_announcement_is_made_once_and_then_served_from_disk(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache")
    first, same = await asyncio.gather(
        speech.announcement("es", "P-014", "Window 3"),
        speech.announcement("es", "P-014", "Window 3"),
    )
    assert first == same
    data = first.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 20_000
    made = first.stat().st_mtime_ns
    again = await speech.announcement("es", "P-014", "Window 3")
    assert again == first and again.stat().st_mtime_ns == made
    other = await speech.announcement("en", "P-014", "Window 3")
    assert other != first
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".wav", ".wav"]


async def test_missing_espeak_is_reported_not_crashed(tmp_path: Path) -> None:
    speech = Speech(tmp_path, program="espeak-ng-is-not-installed-here")
    assert not speech.available
    assert await speech.languages(("en", "es")) == []
    with pytest.raises(SpeechUnavailable):
        await speech.announcement("en", "P-014", "Window 3")


async def test_a_failing_espeak_is_reported(tmp_path: Path) -> None:
    speech = Speech(tmp_path, program="false")
    with pytest.raises(SpeechUnavailable, match="failed"):
        await speech.announcement("en", "P-014", "Window 3")
    assert list(tmp_path.iterdir()) == [], "no partial file is left behind"
