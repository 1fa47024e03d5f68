"""The visitor's status page in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from lobby import protocol as p
from server.keys import OFFICE
from tests.browser import WAIT_MS, screenshot

# Fixtures: one Chromium for the module and a server in the same event loop.
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.browser import server as server
from tests.conftest import FakeClock, RunningServer, visitor
from tests.test_pages import token_of
from tests.test_pages_supervisor import clocked as clocked

PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def open_status(
    browser: Browser,
    ticket: p.TicketView,
    server: RunningServer,
    query: str = "",
    locale: str = "en-US",
    timezone: str | None = None,
) -> Page:
    context = await browser.new_context(viewport=PHONE, locale=locale, timezone_id=timezone)
    page = await context.new_page()
    await page.goto(f"{server.url}/status/{token_of(ticket)}?{query}")
    return page


async def test_visitor_follows_their_place_until_called_to_window_1(
    server: RunningServer, browser: Browser
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("status-0001"))
    await kiosk.check_in(visitor("status-0002"))
    ticket = await kiosk.check_in(
        visitor("status-0003", name="Maria Garcia", needs=["interpreter"])
    )
    assert ticket.estimate is not None
    page = await open_status(browser, ticket, server)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    headline = page.locator("#headline")

    await expect(page.locator("#number")).to_have_text(ticket.number, timeout=WAIT_MS)
    await expect(headline).to_have_text("You are number 3 in line", timeout=WAIT_MS)
    low, high = ticket.estimate.low_min, ticket.estimate.high_min
    await expect(page.locator("#detail")).to_have_text(
        f"Estimated wait: about {low}\u2060–\u2060{high} minutes"  # the range never splits
    )
    await expect(page.locator("#hint")).to_contain_text(
        "We estimate on the long side: you may well be called sooner."
    )
    await expect(page.locator("#service")).to_have_text("Permits and Licensing")
    await expect(page.locator("#info")).to_have_text("Bring a photo ID and proof of address.")
    await expect(page.locator("#notice")).to_have_text("Test notice")
    await expect(page.locator("#privacy")).to_have_text(
        "Your name is never shown on screens or on this page."
    )
    await expect(page.locator("#updated")).to_contain_text("Last updated")
    await screenshot(page, "status-page.png")

    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    for _ in range(2):
        ahead = await clerk.call_next("w1")
        assert ahead.id != ticket.id
        await clerk.ticket_action(ahead.id, "start")
        await clerk.ticket_action(ahead.id, "complete", p.CompleteRequest(needs_met=True))
    await expect(headline).to_have_text("You are next in line", timeout=WAIT_MS)
    called = await clerk.call_next("w1")
    assert called.id == ticket.id

    await expect(headline).to_have_text("Please go to Window 1 now", timeout=WAIT_MS)
    await expect(page.locator("#state")).to_have_class("card state called")
    await expect(page.locator("#detail")).to_be_hidden()
    assert "Window 1" in await page.title()

    await clerk.ticket_action(ticket.id, "start")
    await expect(headline).to_have_text("You are being served at Window 1", timeout=WAIT_MS)
    await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
    await expect(headline).to_have_text("Thank you for visiting", timeout=WAIT_MS)
    await expect(page.locator("#survey-question")).to_have_text("Were your needs met today?")
    await page.click("#survey-yes")
    await expect(page.locator("#survey-thanks")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#survey-buttons")).to_be_hidden()
    supervisor = await server.staff("super")
    report = await supervisor.request("GET", "/api/reports/summary")
    assert report["overall"]["survey"]["answers"] == 1
    assert report["overall"]["survey"]["needs_met_rate"] == 1.0
    html = await page.content()
    assert "Maria" not in html and "Garcia" not in html and "interpreter" not in html
    assert [url for url in fetched if "/json" in url] == [], "the stream moved it: no polling"


async def test_the_page_speaks_the_tickets_language_whatever_the_address_says(
    server: RunningServer, browser: Browser
) -> None:
    kiosk = server.kiosk()
    ticket = await kiosk.check_in(visitor("status-0201", kiosk_language="es"))
    page = await open_status(browser, ticket, server, query="lang=en")
    await expect(page.locator("#headline")).to_have_text(
        "Usted es el siguiente en la fila", timeout=WAIT_MS
    )
    await expect(page.locator("#privacy")).to_have_text(
        "Su nombre nunca se muestra en las pantallas ni en esta página."
    )
    assert await page.get_attribute("html", "lang") == "es"
    await expect(page.locator('#languages button[data-lang="es"]')).to_have_attribute(
        "aria-pressed", "true"
    )

    # The visitor's own pick on the page wins, and a reload keeps it.
    await page.locator('#languages button[data-lang="so"]').click()
    await expect(page.locator("#headline")).to_have_text("Adiga ayaa xiga safka")
    await expect(page.locator('#languages button[data-lang="so"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    await page.reload()
    await expect(page.locator("#headline")).to_have_text("Adiga ayaa xiga safka", timeout=WAIT_MS)

    # A language chosen at the kiosk counts over the kiosk's own.
    chosen = await kiosk.check_in(visitor("status-0202", kiosk_language="es", language="so"))
    somali = await open_status(browser, chosen, server, query="lang=es")
    await expect(somali.locator("#headline")).to_have_text(
        "Waxaad tahay lambarka 2 ee safka", timeout=WAIT_MS
    )


async def test_language_follows_the_phone_and_falls_back_to_english(
    server: RunningServer, browser: Browser
) -> None:
    ticket = await server.kiosk().check_in(visitor("status-0301"))  # no language at the kiosk
    somali = await open_status(browser, ticket, server, locale="so-SO")
    await expect(somali.locator("#headline")).to_have_text("Adiga ayaa xiga safka", timeout=WAIT_MS)
    french = await open_status(browser, ticket, server, query="lang=xx", locale="fr-FR")
    await expect(french.locator("#headline")).to_have_text("You are next in line", timeout=WAIT_MS)


async def test_lost_connection_is_marked_and_clears_when_back(
    server: RunningServer, browser: Browser
) -> None:
    ticket = await server.kiosk().check_in(visitor("status-0401"))
    page = await open_status(browser, ticket, server)
    await expect(page.locator("#number")).to_have_text(ticket.number, timeout=WAIT_MS)
    await expect(page.locator("#offline")).to_be_hidden()

    await server.stop()
    await expect(page.locator("#offline")).to_contain_text("No connection", timeout=WAIT_MS)
    await expect(page.locator("#number")).to_have_text(ticket.number)
    await server.start()
    await expect(page.locator("#offline")).to_be_hidden(timeout=WAIT_MS)


async def test_visit_closed_at_end_of_day_sends_the_visitor_to_the_front_desk(
    server: RunningServer, browser: Browser
) -> None:
    ticket = await server.kiosk().check_in(visitor("status-0501"))
    page = await open_status(browser, ticket, server)
    await expect(page.locator("#headline")).to_have_text("You are next in line", timeout=WAIT_MS)
    supervisor = await server.staff("super")
    await supervisor.request("POST", "/api/day/close")
    await expect(page.locator("#headline")).to_have_text(
        "The office closed before your number was called.", timeout=WAIT_MS
    )
    await expect(page.locator("#ask")).to_have_text(
        "If you still need help, please ask at the front desk."
    )


async def test_times_are_the_offices_clock_not_the_phones(
    clocked: tuple[RunningServer, FakeClock], browser: Browser
) -> None:
    server, clock = clocked  # 9:00 at the office (Chicago)
    ticket = await server.kiosk().check_in(visitor("status-0601"))
    page = await open_status(browser, ticket, server, timezone="Asia/Tokyo")
    await expect(page.locator("#updated")).to_have_text("Last updated 9:00 AM", timeout=WAIT_MS)
    clock.advance(minutes=5)
    server.app[OFFICE].tick()  # the server's clock moved: the page is told, it never asks
    await expect(page.locator("#updated")).to_have_text("Last updated 9:05 AM", timeout=WAIT_MS)
    await server.stop()
    await expect(page.locator("#offline")).to_have_text(
        "No connection. Showing what we knew at 9:05 AM. Trying again…", timeout=WAIT_MS
    )
