"""The supervisor page's emergency controls in a real browser: start with a kind and a
confirmation, the screens listed as they acknowledge, a late one marked, the end."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from lobby import protocol as p
from server.keys import OFFICE
from tests.browser import WAIT_MS, screenshot

# Fixtures: one Chromium for the module and a server in the same event loop.
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.conftest import FakeClock, RunningServer
from tests.test_pages_supervisor import clocked as clocked
from tests.test_pages_supervisor import signed_in_desk

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_supervisor_starts_an_emergency_sees_late_screens_and_ends_it(
    clocked: tuple[RunningServer, FakeClock], browser: Browser
) -> None:
    server, clock = clocked
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    page = await signed_in_desk(browser, server)
    await expect(page.locator("#emergency-kind option")).to_have_count(3, timeout=WAIT_MS)
    await page.select_option("#emergency-kind", "shelter")
    await page.click("#emergency-start")
    await expect(page.locator("#emergency-question")).to_contain_text(
        "Test: stay inside, away from the windows."
    )
    await screenshot(page, "supervisor-emergency-start.png")
    await page.click("#emergency-confirm-yes")
    band = page.locator("#emergency")
    await expect(band).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#emergency-title")).to_have_text("EMERGENCY · shelter")
    await expect(page.locator("#emergency-card")).to_be_hidden()
    screens = page.locator("#emergency-screens li")
    await expect(screens).to_have_count(3)
    state = await clerk.state()
    assert state.office.emergency is not None
    emergency = state.office.emergency.id
    await server.display().request(
        "POST", "/api/emergency/ack", p.EmergencyAckRequest(emergency=emergency)
    )
    shown = page.locator('#emergency-screens li[data-screen="display:test-display"]')
    await expect(shown).to_have_class("shown", timeout=WAIT_MS)
    clock.advance(seconds=p.EMERGENCY_ACK_SEC + 1)
    server.app[OFFICE].tick()
    late = page.locator('#emergency-screens li[data-screen="kiosk:test-kiosk"]')
    await expect(late).to_have_class("late", timeout=WAIT_MS)
    await expect(late).to_contain_text("LATE: not showing it")
    await expect(page.locator("#emergency-count")).to_have_text("(1 of 3 showing it, 2 late)")
    await screenshot(page, "supervisor-emergency.png")
    await page.click("#emergency-end")
    await page.click("#emergency-end-yes")
    await expect(band).to_be_hidden(timeout=WAIT_MS)
    await expect(page.locator("#emergency-card")).to_be_visible()
    assert (await clerk.state()).office.emergency is None
    await page.click("#report-today")
    listed = page.locator("#report-emergencies")
    await expect(listed).to_contain_text("Emergency · shelter", timeout=WAIT_MS)
    await expect(listed).to_contain_text(
        "1 of 3 screens acknowledged (not: kiosk:test-kiosk, counter:w1)"
    )
    await listed.scroll_into_view_if_needed()
    await screenshot(page, "supervisor-emergency-report.png")
