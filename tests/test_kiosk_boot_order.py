"""The kiosk started before the server, and a server that comes and goes: the screens rebuild
from whatever answer comes last, so every office language stays offered and a check-in works."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Button

from kiosk.app import KioskApp
from kiosk.screens.service_choice import ServiceChoiceScreen
from kiosk.screens.welcome import WelcomeScreen
from server.config import OfficeConfig, parse_config
from tests.conftest import CONFIG_PATH, running_server, until, without_emergencies
from tests.test_kiosk_flow import SIZE, finished, kiosk_app, tap_service


def office_in(*languages: str) -> OfficeConfig:
    """The test office offering ``languages``, in that order, instead of the kiosk's own."""
    listed = ", ".join(f'"{code}"' for code in languages)
    toml = without_emergencies(CONFIG_PATH.read_text()).replace(
        'languages = ["en", "es", "so"]', f"languages = [{listed}]"
    )
    return parse_config(toml, "office-languages.toml")


def offered(app: KioskApp) -> list[str | None]:
    return [button.name for button in app.screen.query(".language").results(Button)]


async def test_a_kiosk_booted_before_a_flapping_server_offers_every_office_language(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path, office_in("so", "es")) as server:
        await server.stop()  # the morning boot: the kiosk is up first
        app = kiosk_app(server)
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: app.connected is False)
            await pilot.pause()
            assert offered(app) == ["en", "es", "so"], "before any answer: the kiosk's own"
            for _ in range(4):  # the server restarts while the kiosk keeps reconnecting
                await server.start()
                await asyncio.sleep(0.15)
                await server.stop()
                await asyncio.sleep(0.1)
            await server.start()
            await until(lambda: app.connected and app.office is not None)
            await until(lambda: offered(app) == ["so", "es"], what="the office's languages")
            await pilot.pause()
            assert app.language == "so"
            assert app.focused is not None and app.focused.name == "so"
            await pilot.press("right", "enter")  # the keyboard alone picks Spanish
            await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
            await until(lambda: app.screen.query(".service"))
            screen = await tap_service(pilot, "permits")
            await finished(screen)
            assert screen.stage == "printed"
            assert str(screen.query_one("#your-number").content) == "Su número es P-001."
            await pilot.click("#done")
            await until(lambda: isinstance(app.screen, WelcomeScreen))
            await pilot.pause()
            assert offered(app) == ["so", "es"]


async def test_a_kiosk_started_with_the_server_up_offers_exactly_the_office_languages(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path, office_in("en", "es")) as server:
        for _ in range(3):  # the answers race the first paint differently each start
            await start_and_choose_english(kiosk_app(server))


async def start_and_choose_english(app: KioskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.office is not None)
        await until(lambda: offered(app) == ["en", "es"], what="English and Spanish")
        await pilot.pause()
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
        assert app.language == "en"
