"""The web pages through a real server restart: ``lobby serve`` killed (SIGKILL) or stopped
(SIGTERM) under the lobby display, the supervisor dashboard and a visitor's status page in
headless Chromium, then started again on the same database. Each page must come back by itself
holding exactly what the server serves (``GET /api/state`` at the same seq), resume from the
seq it held, and the display must announce each call once."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from lobby import protocol as p
from tests.browser import WAIT_MS
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.conftest import visitor
from tests.server_process import ServerProcess, server_process
from tests.test_display_page import DisplayPage
from tests.test_pages import token_of
from tests.test_pages_supervisor import sign_in
from tests.test_restarts import SAME_STATE_SEC, SIGNALS, comparable, counter_open, finish

pytestmark = pytest.mark.asyncio(loop_scope="module")
HELD = "LobbyState.links[LobbyState.links.length - 1].state"


@pytest_asyncio.fixture(loop_scope="module")
async def office(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    async with server_process(tmp_path) as running:
        yield running


async def page_holds_the_servers_state(page: Page, server: ServerProcess, token: str) -> None:
    """Wait until the page's folded state is what the server serves its role at that seq."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SAME_STATE_SEC
    while True:
        served = comparable(await server.state(token))
        held: dict[str, Any] = json.loads(await page.evaluate(f"JSON.stringify({HELD}.plain())"))
        shown = comparable(p.StateSnapshot(**held, now=""))  # type: ignore[arg-type]
        if shown == served:
            return
        if loop.time() > deadline:
            differ = sorted(k for k in served if shown.get(k) != served[k])
            raise AssertionError(f"the page does not hold the server's state: {differ}")
        await asyncio.sleep(0.1)


async def until_true(page: Page, expression: str, timeout: float = 10.0) -> None:
    await DisplayPage(page).until(expression, timeout)


@pytest.mark.parametrize("how", SIGNALS)
async def test_display_page_resumes_from_its_seq_and_announces_each_call_once(
    office: ServerProcess, browser: Browser, how: signal.Signals
) -> None:
    token = office.tokens["display"]
    page = await (await browser.new_context()).new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    kiosk = office.kiosk()
    for i in range(3):
        await kiosk.check_in(visitor(f"page-restart-{i}"))
    clerk = await counter_open(office, "clerk", "w1")
    await page.goto(f"{office.url}/display?token={token}")
    await page.wait_for_selector("#board[data-live]", state="attached")
    first = await clerk.call_next("w1")
    await until_true(page, "window.lobbyDisplay.announced.length === 1")
    await page_holds_the_servers_state(page, office, token)
    held_seq = await page.evaluate(f"{HELD}.seq")

    await office.restart(how)
    clerk = await office.staff("clerk")
    await finish(clerk, first)
    await clerk.call_next("w1")  # before the page is back: announced once it is
    await until_true(page, "!document.getElementById('reconnecting').classList.contains('on')")
    await until_true(page, "window.lobbyDisplay.announced.length === 2")
    assert any(url.endswith(f"/ws?since={held_seq}") for url in sockets), "resumed from its seq"
    await page_holds_the_servers_state(page, office, token)
    second = await counter_open(office, "clerk2", "w2")
    await second.call_next("w2")
    await until_true(page, "window.lobbyDisplay.announced.length === 3")
    await page_holds_the_servers_state(page, office, token)
    await asyncio.sleep(0.5)
    announced = await page.evaluate("window.lobbyDisplay.announced.map(a => a.number)")
    assert announced == ["P-001", "P-002", "P-003"], "no call is announced twice"
    now_serving = await page.evaluate(
        "[...document.querySelectorAll('#now-list .call')].map(li => li.dataset.number)"
    )
    assert now_serving[:2] == ["P-003", "P-002"]


@pytest.mark.parametrize("how", SIGNALS)
async def test_supervisor_page_comes_back_live_with_the_servers_state(
    office: ServerProcess, browser: Browser, how: signal.Signals
) -> None:
    page = await (await browser.new_context()).new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.goto(f"{office.url}/supervisor")
    await sign_in(page)
    await expect(page.locator("#link")).to_have_text("Live", timeout=WAIT_MS)
    boss = await office.staff("super")
    assert boss.token is not None
    kiosk = office.kiosk()
    await kiosk.check_in(visitor("sup-restart-1"))
    await page_holds_the_servers_state(page, office, boss.token)
    held_seq = await page.evaluate(f"{HELD}.seq")

    await office.stop(how)  # what the page says while the server is away
    await expect(page.locator("#link")).to_have_text("Reconnecting…", timeout=WAIT_MS)
    await office.start()
    clerk = await counter_open(office, "clerk", "w1")
    await clerk.call_next("w1")
    await office.kiosk().check_in(visitor("sup-restart-2", "billing"))
    await expect(page.locator("#link")).to_have_text("Live", timeout=WAIT_MS)
    assert any(url.endswith(f"/ws?since={held_seq}") for url in sockets), "resumed from its seq"
    await page_holds_the_servers_state(page, office, boss.token)
    await expect(page.locator("#tickets tbody tr")).to_have_count(2, timeout=WAIT_MS)
    w1 = page.locator('#counters tbody tr[data-key="w1"]')
    await expect(w1.locator("td").nth(1)).to_have_text("Calling", timeout=WAIT_MS)


@pytest.mark.parametrize("how", SIGNALS)
async def test_status_page_comes_back_with_the_visits_place(
    office: ServerProcess, browser: Browser, how: signal.Signals
) -> None:
    kiosk = office.kiosk()
    await kiosk.check_in(visitor("status-restart-1"))
    ticket = await kiosk.check_in(visitor("status-restart-2"))
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto(f"{office.url}/status/{token_of(ticket)}")
    headline = page.locator("#headline")
    await expect(headline).to_have_text("You are number 2 in line", timeout=WAIT_MS)

    await office.stop(how)  # what the page says while the server is away
    await expect(page.locator("#offline")).to_contain_text("No connection", timeout=WAIT_MS)
    await office.start()
    clerk = await counter_open(office, "clerk", "w1")
    await clerk.call_next("w1")  # the visitor ahead, while the page is away
    await expect(page.locator("#offline")).to_be_hidden(timeout=WAIT_MS)
    await expect(headline).to_have_text("You are next in line", timeout=WAIT_MS)
    served = await office.client().request("GET", f"/status/{token_of(ticket)}/json")
    assert served["ticket"]["position"] == 1
    ahead = await clerk.ticket(1)
    await finish(clerk, ahead)
    await clerk.call_next("w1")
    await expect(headline).to_have_text("Please go to Window 1 now", timeout=WAIT_MS)
