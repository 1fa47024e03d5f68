"""Calls said in a language without an espeak-ng voice, from the office's recorded clips, and
the display saying which languages it speaks; the portrait page keeps the office's name whole."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser

from lobby.cli import main as lobby
from server.clips import Clips, joined
from server.config import OfficeConfig, parse_config
from tests.conftest import CONFIG_PATH, RunningServer, running_server
from tests.test_display_page import PORTRAIT, open_display
from tests.test_display_page import browser as browser
from tests.test_display_page import kiosk_browser as kiosk_browser

pytestmark = pytest.mark.asyncio(loop_scope="module")


def tone(path: Path, hz: int, rate: int = 16000) -> None:
    """A short sine clip standing in for a recorded word."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(800)
    )
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(frames)


def record_somali(folder: Path, config: OfficeConfig, skip: str = "") -> None:
    for i, path in enumerate(Clips(folder).needed("so", config)):
        if path.stem != skip:
            tone(path, 200 + 20 * i)


def office_with_clips(folder: Path) -> OfficeConfig:
    text = CONFIG_PATH.read_text().replace(
        'notice = "Test notice"',
        f'notice = "Test notice"\nspeech_clips = "{folder}"',
    )
    text = text.replace(
        'name = "Test City Hall"', 'name = "Test City Hall Permit and Records Office"'
    )
    return parse_config(text, "clips.toml")


@pytest_asyncio.fixture(loop_scope="module")
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    folder = tmp_path / "clips"
    config = office_with_clips(folder)
    record_somali(folder, config)
    async with running_server(tmp_path, config) as running:
        yield running


async def test_somali_calls_are_said_from_the_office_clips(server: RunningServer) -> None:
    config = server.config
    assert config.speech_clips is not None
    headers = {"Authorization": f"Bearer {server.tokens['display']}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.url}/display/settings.json") as response:
            spoken = (await response.json())["speech"]
        assert "so" in spoken, "Somali has no espeak-ng voice: the clips speak it"
        query = {"number": "P-014", "counter": "w2", "lang": "so"}
        async with http.get(f"{server.url}/display/announce.wav", params=query) as response:
            assert response.status == 200 and response.content_type == "audio/wav"
            body = await response.read()
    folder = config.speech_clips / "so"
    words = ["ticket", "letter-P", "digit-1", "digit-4", "go-to", "counter-w2"]
    assert body == joined([folder / f"{word}.wav" for word in words])
    with wave.open(io.BytesIO(body)) as whole:
        assert whole.getnframes() == 800 * len(words)


async def test_the_display_says_which_languages_it_speaks_and_keeps_the_name_whole(
    kiosk_browser: Browser, server: RunningServer
) -> None:
    display = await open_display(kiosk_browser, server, PORTRAIT)
    spoken = await display.js("document.getElementById('spoken').textContent")
    assert spoken == "♪ English · Español · Soomaali", "espeak-ng voices, then the clips"
    assert await display.js("document.getElementById('enable-sound').hidden"), "kiosk mode"
    whole = (
        "(() => { const el = document.getElementById('office');"
        " return el.textContent.length > 0 && el.scrollWidth <= el.clientWidth"
        " && el.scrollHeight <= el.clientHeight + 1; })()"
    )
    assert await display.js(whole), "the office's name fits, whole, in portrait"


async def test_check_config_lists_missing_clips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "clips"
    config = office_with_clips(folder)
    record_somali(folder, config, skip="digit-7")
    path = tmp_path / "office.toml"
    path.write_text(
        CONFIG_PATH.read_text().replace(
            'notice = "Test notice"', f'notice = "Test notice"\nspeech_clips = "{folder}"'
        )
    )
    assert lobby(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"so: missing clip {folder / 'so' / 'digit-7.wav'}" in out
    assert not Clips(folder).speaks("so", config)
