"""The lobby display page in real headless Chromium against a real server.

Debian's chromium is driven by Playwright (never a downloaded browser). Set
``LOBBY_SCREENSHOT_DIR=docs`` to write the page's screenshots there (docs/display-*.png).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Response, WebSocket, async_playwright

from lobby import protocol as p
from server.config import OfficeConfig
from server.keys import OFFICE
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import FakeClock, RunningServer, running_server, until, visitor
from tests.test_display_board import (
    drop_display_connections,
    finish,
    open_counters,
    serve_three_and_miss_one,
)

KIOSK_SOUND = "--autoplay-policy=no-user-gesture-required"
ORDINARY_SOUND = "--autoplay-policy=document-user-activation-required"  # Chromium's default
LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)
SECRET_NAME = "Zelda Marchetti"
SECRET_NOTE = "Asked about the Qx7 permit appeal"

# One browser for the module (starting Chromium is the slow part), so every test, its server
# and the browser share the module's event loop.
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium is not installed at /usr/bin/chromium (make system-deps)",
    ),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(loop_scope="module")
async def server(tmp_path: Path, office_config: OfficeConfig) -> AsyncIterator[RunningServer]:
    """The shared ``server`` fixture, run in this module's event loop."""
    async with running_server(tmp_path, office_config) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def clocked(tmp_path: Path, office_config: OfficeConfig) -> AsyncIterator[RunningServer]:
    """A server whose clock stands at 9:20 on a Monday morning, whatever the machine's says."""
    clock = FakeClock(datetime(2026, 11, 23, 9, 20, tzinfo=office_config.tz))
    async with running_server(tmp_path, office_config, clock) as running:
        yield running


async def _launch(args: list[str]) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    """An ordinary browser: sound waits for a click on "Enable sound"."""
    async for chromium in _launch([*CHROMIUM_ARGS, ORDINARY_SOUND]):
        yield chromium


@pytest_asyncio.fixture(loop_scope="module")
async def kiosk_browser() -> AsyncIterator[Browser]:
    """Started with the kiosk flag of docs/display.md that lets the page play sound by itself."""
    async for chromium in _launch([*CHROMIUM_ARGS, KIOSK_SOUND]):
        yield chromium


@dataclass
class DisplayPage:
    """One open display page, with every WebSocket it opened, every frame and announcement
    it received."""

    page: Page
    sockets: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    speech: list[Response] = field(default_factory=list)

    async def js(self, expression: str) -> Any:
        return await self.page.evaluate(expression)

    async def until(self, expression: str, timeout: float = 5.0) -> None:
        """Poll a page expression (the page's CSP forbids Playwright's own waiting helpers)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await self.js(expression):
            if loop.time() > deadline:
                raise AssertionError(f"not true within {timeout}s: {expression}")
            await asyncio.sleep(0.02)

    async def lines(self, which: str = ".calls") -> list[str]:
        """The numbers on show (``#now-list`` or ``#earlier-list``), "" for an empty slot."""
        return await self.js(  # type: ignore[no-any-return]
            f"[...document.querySelectorAll('{which} .call')].map(li => li.dataset.number)"
        )

    async def live(self) -> None:
        # Waiting on the DOM, not by evaluating script: Playwright's evaluate counts as a user
        # gesture, which would let the page's sound start without the "Enable sound" click.
        await self.page.wait_for_selector("#board[data-live]", state="attached")

    async def announced(self) -> list[str]:
        return await self.js("window.lobbyDisplay.announced.map(a => a.number)")  # type: ignore[no-any-return]


async def open_display(
    browser: Browser,
    server: RunningServer,
    viewport: tuple[int, int] = LANDSCAPE,
    query: str = "",
    timezone_id: str | None = None,
) -> DisplayPage:
    context = await browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, timezone_id=timezone_id
    )
    page = await context.new_page()
    display = DisplayPage(page)

    def on_socket(ws: WebSocket) -> None:
        display.sockets.append(ws.url)
        ws.on(
            "framereceived",
            lambda payload: display.frames.append(
                payload if isinstance(payload, str) else payload.decode(errors="replace")
            ),
        )

    def on_response(response: Response) -> None:
        if "/display/announce.wav" in response.url:
            display.speech.append(response)

    page.on("websocket", on_socket)
    page.on("response", on_response)
    await page.goto(f"{server.url}/display?token={server.tokens['display']}{query}")
    await display.live()
    return display


async def test_a_call_appears_on_the_page_within_a_second(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    await server.kiosk().check_in(visitor("first-0001"))
    assert (await display.lines())[0] == ""

    await clerk.call_next("w1")
    await display.until(
        "document.querySelector('#now-list .call').dataset.number === 'P-001'", timeout=1.0
    )
    text = await display.js("document.querySelector('#now-list .call').innerText")
    assert "P-001" in text and "Window 1" in text
    await display.until("window.lobbyDisplay.announced.length === 1")
    assert await display.announced() == ["P-001"]


async def test_clock_shows_the_servers_office_time_as_soon_as_the_board_is_live(
    browser: Browser, clocked: RunningServer
) -> None:
    display = await open_display(browser, clocked, timezone_id="Asia/Tokyo")
    shown = await display.js("document.querySelector('#clock').innerText")
    assert " ".join(shown.split()) == "9:20 AM Monday, November 23"


async def test_kiosk_page_chimes_and_speaks_each_language_with_a_voice(
    kiosk_browser: Browser, server: RunningServer
) -> None:
    display = await open_display(kiosk_browser, server)
    assert await display.js("document.getElementById('enable-sound').hidden")
    (clerk,) = await open_counters(server, ("clerk", "w3"))
    await server.kiosk().check_in(visitor("voice-0001"))
    await clerk.call_next("w3")
    deadline = asyncio.get_running_loop().time() + 10
    while len(display.speech) < 2 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    langs = sorted(r.url.rsplit("lang=", 1)[-1] for r in display.speech)
    assert langs == ["en", "es"], "Somali has no espeak-ng voice and must be skipped"
    for response in display.speech:
        assert response.status == 200
        assert response.headers["content-type"] == "audio/wav"
        body = await response.body()
        assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"


async def test_a_second_screen_can_stay_silent(
    kiosk_browser: Browser, server: RunningServer
) -> None:
    display = await open_display(kiosk_browser, server, query="&sound=off")
    assert display.page.url.endswith("/display?sound=off")
    assert not await display.page.is_visible("#enable-sound")
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    await server.kiosk().check_in(visitor("quiet-0001"))
    await clerk.call_next("w1")
    await display.until("window.lobbyDisplay.announced.length === 1")
    await asyncio.sleep(0.3)
    assert display.speech == [], "a silent screen fetches no speech"


async def test_enable_sound_button_turns_sound_on_in_an_ordinary_browser(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    assert await display.page.is_visible("#enable-sound")
    await display.page.click("#enable-sound")
    await display.until("document.getElementById('enable-sound').hidden")


async def test_announcement_url_answers_a_wav_to_the_display_cookie(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    assert "token=" not in display.page.url, "the token must leave the address bar"
    answer = await display.page.request.get(
        f"{server.url}/display/announce.wav?number=P-014&counter=w3&lang=es"
    )
    assert answer.status == 200
    assert answer.headers["content-type"] == "audio/wav"
    body = await answer.body()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) > 10_000


async def test_two_simultaneous_calls_each_get_a_line_and_an_announcement(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("pair-0001"))
    await kiosk.check_in(visitor("pair-0002", "billing"))
    one, two = await open_counters(server, ("clerk", "w3"), ("clerk2", "w4"))

    first, second = await asyncio.gather(one.call_next("w3"), two.call_next("w4"))
    await display.until(
        "[...document.querySelectorAll('#now-list .call')].filter(li => li.dataset.number)"
        ".length === 2"
    )
    lines = await display.lines("#now-list")
    assert sorted(lines[:2]) == ["B-001", "P-001"]
    await display.until("window.lobbyDisplay.announced.length === 2", timeout=20)
    announced = await display.announced()
    assert sorted(announced) == ["B-001", "P-001"]
    assert lines[:2] == announced[::-1], "newest on top, announced oldest first"
    assert {first.number, second.number} == {"P-001", "B-001"}


async def test_reconnect_shows_the_mark_and_never_repeats_old_calls(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("again-0001"))
    await kiosk.check_in(visitor("again-0002"))
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    await clerk.call_next("w1")
    await display.until("window.lobbyDisplay.announced.length === 1")
    assert not await display.page.is_visible("#reconnecting")

    await server.restart()
    await display.until("document.getElementById('reconnecting').classList.contains('on')")
    assert await display.page.is_visible("#reconnecting")
    await display.until("!document.getElementById('reconnecting').classList.contains('on')")
    assert "/ws?since=" in display.sockets[-1], "the page resumes from its last sequence number"
    await asyncio.sleep(0.3)
    assert await display.announced() == ["P-001"], "the restart's snapshot announces nothing"

    clerk = await server.staff("clerk")
    await finish(clerk, await clerk.ticket(1))
    await clerk.call_next("w1")
    await display.until("window.lobbyDisplay.announced.length === 2")
    await asyncio.sleep(0.3)
    assert await display.announced() == ["P-001", "P-002"]
    assert (await display.lines("#now-list"))[0] == "P-002"
    assert (await display.lines("#earlier-list"))[0] == "P-001"


async def test_a_call_missed_during_a_blip_is_announced_once_after_reconnecting(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("blip-0001"))
    await kiosk.check_in(visitor("blip-0002"))
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    first = await clerk.call_next("w1")
    await display.until("window.lobbyDisplay.announced.length === 1")
    reconnecting = "document.getElementById('reconnecting').classList.contains('on')"

    await drop_display_connections(server)
    await display.until(reconnecting)
    await finish(clerk, first)
    await clerk.call_next("w1")  # while the page waits to reconnect
    await display.until(f"!{reconnecting}")
    await display.until("window.lobbyDisplay.announced.length === 2")
    assert await display.announced() == ["P-001", "P-002"]

    await drop_display_connections(server)
    await display.until(reconnecting)
    await display.until(f"!{reconnecting}")
    await asyncio.sleep(0.5)
    assert await display.announced() == ["P-001", "P-002"], "heard calls are not repeated"
    assert await display.js("window.lobbyDisplay.connections") == 3


async def test_a_page_whose_sign_in_is_gone_says_so_instead_of_reconnecting(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    assert await display.js("document.getElementById('signed-out').hidden")
    await display.page.context.clear_cookies()  # as when the display's token is withdrawn
    await drop_display_connections(server)
    await display.until("!document.getElementById('signed-out').hidden")
    assert await display.page.is_visible("#signed-out")


async def test_calls_on_show_when_the_page_opens_are_never_announced(
    browser: Browser, server: RunningServer
) -> None:
    await server.kiosk().check_in(visitor("opened-0001"))
    (clerk,) = await open_counters(server, ("clerk", "w2"))
    await clerk.call_next("w2")
    display = await open_display(browser, server)
    assert (await display.lines("#now-list"))[0] == "P-001"
    await asyncio.sleep(0.5)
    assert await display.announced() == []


async def test_a_reload_does_not_announce_a_call_again(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    await server.kiosk().check_in(visitor("reload-0001"))
    (clerk,) = await open_counters(server, ("clerk", "w2"))
    await clerk.call_next("w2")
    await display.until("window.lobbyDisplay.announced.length === 1")
    await display.page.reload()
    await display.live()
    assert (await display.lines("#now-list"))[0] == "P-001"
    await asyncio.sleep(0.5)
    assert await display.announced() == []


async def test_finished_visits_leave_now_serving_for_earlier_calls(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)

    async def three_in_progress(numbers: list[str]) -> None:
        await display.until(
            f"[...document.querySelectorAll('#now-list .call')].map(li => li.dataset.number)"
            f".join() === '{','.join([*numbers, ''])}'"
        )
        assert await display.lines("#earlier-list") == ["", "", "", ""]

    numbers = await serve_three_and_miss_one(server, three_in_progress)
    await display.until(
        f"[...document.querySelectorAll('#earlier-list .call')].map(li => li.dataset.number)"
        f".join() === '{','.join(numbers)}'"
    )
    assert await display.lines("#now-list") == ["", "", "", ""]


async def test_each_service_shows_what_a_new_arrival_would_be_told(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    for i in range(2):
        await server.kiosk().check_in(visitor(f"count-{i:04d}"))
    told = {s.id: s.ahead for s in server.app[OFFICE].state("display").services}
    assert told["billing"] > 0, "billing shares its counters with permits"
    await display.until(
        "[...document.querySelectorAll('#service-list .service')]"
        f".map(li => li.dataset.service + '=' + li.querySelector('.n').textContent).join()"
        f" === '{','.join(f'{k}={v}' for k, v in told.items())}'"
    )


async def test_display_never_receives_a_visitor_name(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    ticket = await server.kiosk().check_in(
        visitor("private-0001", name=SECRET_NAME, address_as="ms", language="so", needs=["hearing"])
    )
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    await clerk.ticket_action(ticket.id, "notes", p.NoteRequest(text=SECRET_NOTE))
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "recall")
    await clerk.ticket_action(ticket.id, "start")
    await display.until("document.querySelector('#now-list .call').classList.contains('recall')")
    await until(lambda: any('"ticket.started"' in frame for frame in display.frames))

    html = await display.page.content()
    for secret in ("Zelda", "Marchetti", "Qx7", "hearing", "Ms. "):
        assert secret not in html
        for frame in display.frames:
            assert secret not in frame, f"{secret!r} reached the display's stream"


async def test_layout_does_not_move_when_calls_arrive(
    browser: Browser, clocked: RunningServer, tmp_path: Path
) -> None:
    server = clocked  # a fixed time for the pictures in docs/
    kiosk = server.kiosk()
    for i in range(6):
        await kiosk.check_in(visitor(f"shape-{i:04d}", ("permits", "billing")[i % 2]))
    clerks = await open_counters(server, ("clerk", "w1"), ("clerk2", "w2"), ("clerk3", "w4"))
    pages = {
        "landscape": await open_display(browser, server, LANDSCAPE),
        "portrait": await open_display(browser, server, PORTRAIT),
    }
    boxes = (
        "[...document.querySelectorAll('#head, #now, #earlier, #services, #notice, .call')]"
        ".map(el => el.getBoundingClientRect())"
        ".map(r => [r.x, r.y, r.width, r.height])"
    )
    before = {name: await page.js(boxes) for name, page in pages.items()}
    counters = ("w1", "w2", "w4")
    called = [await clerk.call_next(c) for clerk, c in zip(clerks, counters, strict=True)]
    await finish(clerks[1], called[1])  # one visit over: its call moves to "Earlier calls"
    await clerks[1].call_next("w2")
    await clerks[0].ticket_action(called[0].id, "recall")
    shots = Path(os.environ.get("LOBBY_SCREENSHOT_DIR") or tmp_path)
    for name, page in pages.items():
        await page.until(
            "document.querySelector('#now-list .call').classList.contains('recall') && "
            "document.querySelector('#earlier-list .call').dataset.number && "
            "document.querySelectorAll('.call.announcing').length === 1"
        )
        assert await page.js(boxes) == before[name], f"{name}: something moved"
        overflow = "document.documentElement.scrollHeight > innerHeight"
        assert not await page.js(overflow), f"{name}: the page does not fit the screen"
        await page.page.screenshot(path=shots / f"display-{name}.png", animations="disabled")
        assert (shots / f"display-{name}.png").stat().st_size > 10_000
