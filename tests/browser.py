"""Debian's Chromium through Playwright, shared by the tests of the server's web pages.

Starting Chromium is the slow part of a page test, so a test module starts it once and every
test in the module opens its own contexts in it. Playwright objects belong to the event loop
that made them, so such a module runs its tests, its ``server`` and its browser in one
module-wide loop::

    from tests.browser import browser as browser, chromium_process as chromium_process
    from tests.browser import server as server

    pytestmark = pytest.mark.asyncio(loop_scope="module")

Screenshots go to the directory named by ``LOBBY_SCREENSHOTS`` when it is set
(``LOBBY_SCREENSHOTS=docs pytest tests/test_pages_*.py`` refreshes the ones in ``docs/``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from server.config import OfficeConfig
from tests.conftest import RunningServer, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 10_000


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, never a downloaded one; the test is skipped when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def chromium_process() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest_asyncio.fixture(loop_scope="module")
async def browser(chromium_process: Browser) -> AsyncIterator[Browser]:
    """The module's Chromium; the pages a test opened are closed after it."""
    yield chromium_process
    for context in chromium_process.contexts:
        await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def server(tmp_path: Path, office_config: OfficeConfig) -> AsyncIterator[RunningServer]:
    """The shared ``server`` fixture, run in the module's event loop with the browser."""
    async with running_server(tmp_path, office_config) as running:
        yield running


async def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("LOBBY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(folder) / name))
