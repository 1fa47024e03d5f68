"""A Spanish and a Somali visit, on every surface, in real apps against a real server: the
kiosk, the printed ticket, the visitor's status page and the lobby display show no English but
names the office gave in one language only.

``LOBBY_SCREENSHOTS=docs pytest tests/test_screens_in_each_language.py`` writes the pictures
in ``docs/`` (``kiosk-services-es.png``, ``ticket-printed-so.png``, ``status-page-es.png``,
``display-so.png``...).
"""

from __future__ import annotations

import calendar as calendar_module
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect
from textual.widgets import Button, Static

from display.labels import catalogues as label_catalogues
from hardware import open_printer
from hardware.escpos_reader import iter_text, read_escpos
from hardware.preview import render_ticket
from hardware.printer import code_pages_of, paper_of
from kiosk import screenshots
from kiosk.app import KioskApp
from kiosk.i18n import Catalogue
from server.config import parse_config
from tests.browser import WAIT_MS, screenshot
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.conftest import RunningServer, running_server, visitor
from tests.test_display_page import open_display
from tests.test_kiosk_flow import choose_language, finished, kiosk_app, running, tap_service
from tests.test_pages_status import open_status

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).parent.parent
DEMO = (ROOT / "examples" / "demo.toml").read_text()
ENGLISH_OFFICE_TEXTS = ("Permits and Licensing", "Utility Billing", "Window 1", "Bring a photo")
"""The demo office gives these in Spanish and Somali too: none may show in English."""
KIOSK_SIZE = (110, 40)


def english_texts() -> set[str]:
    """Every fixed English text of the kiosk and the display, without its placeholders."""
    kiosk = Catalogue.load().catalogues.table("en")
    display = label_catalogues().table("en")
    texts = list(kiosk.values())
    parts = {
        part.strip(" .,:—·")
        for text in [*texts, *display.values()]
        for part in re.split(r"\{[a-z_]+\}", text)
    }
    calendar = {*calendar_module.day_name, *calendar_module.month_name[1:]}
    return {part for part in parts if len(part) > 4} | set(ENGLISH_OFFICE_TEXTS) | calendar


ENGLISH = english_texts()


def english_in(text: str) -> list[str]:
    return sorted(phrase for phrase in ENGLISH if phrase in text)


@pytest_asyncio.fixture(loop_scope="module", params=["es", "so"])
async def office_in(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, RunningServer]]:
    """The demo office with ``es`` or ``so`` first: the display starts in that language."""
    language = request.param
    languages = ", ".join(f'"{code}"' for code in dict.fromkeys([language, "en", "es", "so"]))
    config = parse_config(
        DEMO.replace('languages = ["en", "es", "so"]', f"languages = [{languages}]"),
        f"demo-{language}.toml",
    )
    async with running_server(tmp_path_factory.mktemp(language), config) as server:
        yield language, server


def shown(app: KioskApp) -> str:
    """Every text on the kiosk's screen: its lines and its buttons."""
    statics = [str(w.content) for w in app.screen.query(Static) if w.display]
    buttons = [str(b.label) for b in app.screen.query(Button) if b.display]
    return "\n".join(statics + buttons)


def save_kiosk(app: KioskApp, name: str) -> None:
    folder = os.environ.get("LOBBY_SCREENSHOTS")
    if not folder:
        return
    svg = Path(folder) / f"{name}.svg"
    app.save_screenshot(filename=svg.name, path=folder)
    screenshots.svg_to_png(svg, svg.with_suffix(".png"), KIOSK_SIZE)
    svg.unlink()


async def test_a_visit_shows_no_english_on_any_surface(
    office_in: tuple[str, RunningServer], browser: Browser
) -> None:
    language, server = office_in
    for rid in ("earlier-0001", "earlier-0002"):
        await server.kiosk().check_in(visitor(rid, service="billing"))

    printer = open_printer("dummy")
    app = kiosk_app(server, printer)
    async with running(app) as pilot:
        await choose_language(pilot, language)
        assert english_in(shown(app)) == []
        save_kiosk(app, f"kiosk-services-{language}")
        screen = await tap_service(pilot, "permits")
        await finished(screen)
        await pilot.pause(0.3)
        assert screen.stage == "printed"
        assert english_in(shown(app)) == []
        save_kiosk(app, f"kiosk-ticket-{language}")
        ticket = screen.ticket
        assert ticket is not None

    printed = "\n".join(iter_text(read_escpos(printer.last_output, code_pages_of(printer.profile))))
    assert english_in(printed) == []
    folder = os.environ.get("LOBBY_SCREENSHOTS")
    if folder:
        picture = render_ticket(
            printer.last_output,
            paper=paper_of(printer.profile),
            code_pages=code_pages_of(printer.profile),
        )
        picture.save(Path(folder) / f"ticket-printed-{language}.png")

    status = await open_status(browser, ticket, server, query=f"lang={language}")
    await expect(status.locator("#number")).to_have_text(ticket.number, timeout=WAIT_MS)
    await expect(status.locator("#info")).not_to_be_empty(timeout=WAIT_MS)
    body = await status.inner_text("body")
    assert english_in(body) == [], body
    await screenshot(status, f"status-page-{language}.png")

    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    display = await open_display(browser, server)
    await display.until("document.querySelector('#now-list .call').dataset.number !== ''")
    text = await display.js("document.body.innerText")
    assert english_in(text) == [], text
    await screenshot(display.page, f"display-{language}.png")
