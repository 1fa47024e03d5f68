"""Emergency mode on every screen at once, against a real server on loopback: the display page
in headless Chromium, the kiosk, the counter terminal and the terminal board driven by their
pilots, and a visitor's status page.

``LOBBY_SCREENSHOTS=docs pytest tests/test_emergency_screens.py`` also writes the pictures of
docs/emergency.md (``emergency-*.png``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Response
from textual.app import App

from counter.app import CounterApp
from counter.screens.desk import DeskScreen
from counter.screens.walk_in import WalkInScreen
from display.board import LobbyBoard
from kiosk.app import KioskApp
from kiosk.backend import ServerBackend
from kiosk.screens.confirmation import ConfirmationScreen
from kiosk.screens.emergency import EmergencyScreen
from kiosk.screens.service_choice import ServiceChoiceScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.screenshots import svg_to_png
from kiosk.visit import VisitorDetails
from lobby import protocol as p
from lobby.client import ApiError, StreamMessage, live
from lobby.emergency import EmergencyPanel, acknowledge
from server.config import OfficeConfig, parse_config
from tests.browser import CHROMIUM, screenshot
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.browser import server as server
from tests.conftest import CONFIG_PATH, STAFF, RunningServer, running_server, until, visitor
from tests.test_counter_app import FAST, sign_in
from tests.test_display_board import open_counters
from tests.test_display_page import DisplayPage, open_display
from tests.test_display_page import kiosk_browser as kiosk_browser
from tests.test_emergency import end, start
from tests.test_kiosk_flow import choose_language, kiosk_app, tap_service
from tests.test_pages import token_of


@pytest.fixture
def office_config() -> OfficeConfig:
    """The test office with the server's own emergency texts: long sentences in every
    language (Spanish and Somali the longest), as a real office without its own gets them."""
    own = CONFIG_PATH.read_text().index("\n[emergency.")
    return parse_config(CONFIG_PATH.read_text()[:own], "built-in-emergencies.toml")


pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
    pytest.mark.asyncio(loop_scope="module"),
]
TERMINAL = (80, 24)
"""The smallest terminal each screen must work in."""
PHONE = {"width": 390, "height": 844}


def on_screen(app: App[object]) -> str:
    """What a terminal shows right now, as one line of words (wrapping undone)."""
    svg = app.export_screenshot().replace("&#160;", " ")
    words = re.sub(r"<[^>]+>", " ", svg)
    return " ".join(words.split())


def shows_all(app: App[object], texts: list[str]) -> bool:
    """Every text on the terminal, word for word (the panel wraps it, never cuts it)."""
    shown = on_screen(app)
    return all(" ".join(text.split()) in shown for text in texts)


def panel_shows_all(app: App[object], emergency: p.EmergencyView) -> bool:
    panels = app.screen.query(EmergencyPanel)
    return bool(panels) and panels.first().shown_languages == list(emergency.instruction)


async def page_shows_all(display: DisplayPage, texts: list[str], timeout: float) -> None:
    """Every text visible on the display page (innerText holds only what is shown)."""
    wanted = repr(texts)
    await display.until(
        f"(() => {{ const box = document.getElementById('emergency');"
        f" if (box.hidden) return false; const shown = box.innerText.replace(/\\s+/g, ' ');"
        f" return {wanted}.every(t => shown.includes(t)); }})()",
        timeout=timeout,
    )


def save_terminal(app: App[object], name: str) -> None:
    folder = os.environ.get("LOBBY_SCREENSHOTS")
    if not folder:
        return
    with tempfile.TemporaryDirectory() as scratch:
        svg = Path(scratch) / f"{name}.svg"
        app.save_screenshot(filename=svg.name, path=scratch)
        svg_to_png(svg, Path(folder) / f"{name}.png", app.size)


@contextlib.asynccontextmanager
async def desk(server: RunningServer, counter: str = "w1") -> AsyncIterator[CounterApp]:
    app = CounterApp(server.url, counter, reconnect_delays=FAST)
    async with app.run_test(size=TERMINAL, notifications=True) as pilot:
        await sign_in(app, pilot, "clerk", STAFF["clerk"])
        await until(lambda: isinstance(app.screen, DeskScreen), what="the desk opens")
        await until(lambda: app.model.ready and app.model.connected, what="the stream is live")
        yield app


def board_app(server: RunningServer) -> LobbyBoard:
    token = server.tokens["display"]
    return LobbyBoard(
        server.url,
        token,
        stream=lambda on: live(server.url, token, on_connection=on, reconnect_delays=(0.05,)),
    )


async def acknowledged(server: RunningServer) -> set[str]:
    """The screens the server has seen acknowledge the emergency on now."""
    state = await (await server.staff("super")).state()
    emergency = state.office.emergency
    return {s.screen for s in emergency.screens if s.acknowledged_at} if emergency else set()


async def test_every_screen_shows_the_emergency_at_once_and_the_queue_resumes_in_order(
    browser: Browser, server: RunningServer
) -> None:
    kiosk_client = server.kiosk()
    queue = [await kiosk_client.check_in(visitor(f"queue-{i:04d}")) for i in range(3)]
    display = await open_display(browser, server)
    status = await (await browser.new_context(viewport=PHONE, locale="es-ES")).new_page()
    await status.goto(f"{server.url}/status/{token_of(queue[0])}")
    kiosk = kiosk_app(server)
    board = board_app(server)
    async with (
        kiosk.run_test(size=TERMINAL) as kiosk_pilot,
        board.run_test(size=TERMINAL),
        desk(server) as counter,
    ):
        await until(lambda: kiosk.office is not None and bool(kiosk.query(".language")))
        await until(lambda: board.state.ready)
        await choose_language(kiosk_pilot, "es")  # a visitor mid check-in
        kiosk.details = VisitorDetails("Maria Garcia", "ms", None, [])  # typed before the alarm

        emergency = await start(await server.staff("super"))
        texts = list(emergency.instruction.values())
        assert list(emergency.instruction) == ["en", "es", "so"]

        # within a second of the command, every screen shows it in every language
        await page_shows_all(display, texts, timeout=1.0)
        await until(lambda: isinstance(kiosk.screen, EmergencyScreen), timeout=1.0)
        await until(lambda: panel_shows_all(kiosk, emergency), timeout=1.0)
        await until(lambda: panel_shows_all(counter, emergency), timeout=1.0)
        await until(lambda: panel_shows_all(board, emergency), timeout=1.0)
        for app in (kiosk, counter, board):
            assert shows_all(app, texts), f"{type(app).__name__} at 80x24 shows every language"
        assert "EMERGENCY · EMERGENCIA" in on_screen(kiosk)

        # the visitor was taken back and nothing they chose is kept
        assert [type(s) for s in kiosk.screen_stack] == [WelcomeScreen, EmergencyScreen]
        assert kiosk.details.is_empty()
        # check-in is refused with the contract's 409, and nothing is stored
        with pytest.raises(ApiError) as refused:
            await kiosk_client.check_in(visitor("during-0001"))
        assert (refused.value.status, refused.value.code) == (409, "emergency")
        # the counter cannot call, and says why
        assert not counter.model.allows("call_next")
        assert "calling is paused" in on_screen(counter)
        assert "1. Guide visitors to the nearest exit" in on_screen(counter), "staff checklist"
        await page_shows_all_status(status, emergency)

        await until_async(
            lambda: acknowledged(server),
            lambda screens: {"display:test-display", "kiosk:test-kiosk", "counter:w1"} <= screens,
        )
        assert await display.js("window.lobbyDisplay.acknowledged.length") == 1
        assert kiosk.acknowledgements.answered == [emergency.id]
        assert counter.acknowledgements.answered == [emergency.id]
        assert board.acknowledgements.answered == [emergency.id]

        await screenshot(display.page, "emergency-display.png")
        await screenshot(status, "emergency-status-page.png")
        save_terminal(kiosk, "emergency-kiosk")
        save_terminal(counter, "emergency-counter")
        save_terminal(board, "emergency-board")

        await end(await server.staff("super"))
        await display.until("document.getElementById('emergency').hidden", timeout=2.0)
        await until(lambda: isinstance(kiosk.screen, WelcomeScreen))
        await until(lambda: not counter.screen.query_one("#emergency-box").display)
        await until(lambda: not board.screen.has_class("-emergency"))
        await until(lambda: counter.model.allows("call_next"))

        # calling resumes in the original order, the counter terminal first
        await counter.run_action("call_next", counter.screen)
        await until(lambda: counter.model.current is not None)
        assert counter.model.current is not None
        called = [counter.model.current.number]
        for other in ("clerk2", "clerk3"):
            clerk = await server.staff(other)
            window = "w2" if other == "clerk2" else "w3"
            await clerk.counter_action(window, "open")
            called.append((await clerk.call_next(window)).number)
        assert called == [t.number for t in queue]
        kiosk_tickets = (await (await server.staff("super")).state()).tickets
        assert sorted(t.number for t in kiosk_tickets) == [t.number for t in queue]


async def page_shows_all_status(page: Page, emergency: p.EmergencyView) -> None:
    """The status page shows it above everything, in the visit's page language first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    while True:
        order = await page.evaluate(
            "[...document.querySelectorAll('#emergency .words')].map(p => p.lang)"
        )
        if order:
            break
        if loop.time() > deadline:
            raise AssertionError("the status page does not show the emergency")
        await asyncio.sleep(0.02)
    assert order == ["es", "en", "so"], "the page's language (Spanish here) first"
    first = await page.evaluate("document.querySelector('main').firstElementChild.id")
    assert first == "emergency", "above everything"
    shown = await page.evaluate("document.getElementById('emergency').innerText")
    assert all(
        " ".join(t.split()) in " ".join(shown.split()) for t in emergency.instruction.values()
    )


async def until_async(
    read: Callable[[], Awaitable[set[str]]], holds: Callable[[set[str]], bool], timeout: float = 5.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await read()
        if holds(value):
            return
        if loop.time() > deadline:
            raise AssertionError(f"not met in {timeout} s: {value}")
        await asyncio.sleep(0.05)


class StalledBackend(ServerBackend):
    """A kiosk whose stream heard nothing after its first snapshot (a slow link): it does not
    know of the emergency yet when a visitor taps a service."""

    def follow(self, on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
        return self._first_only(on_connection)

    async def _first_only(
        self, on_connection: Callable[[bool], None]
    ) -> AsyncIterator[StreamMessage]:
        async for message in super().follow(on_connection):
            yield message
            break
        await asyncio.Event().wait()


def stalled_kiosk(server: RunningServer, outage_after: float) -> KioskApp:
    return KioskApp(
        lambda: StalledBackend(server.url, server.tokens["kiosk"], timeout=1.0),
        None,
        retry_delays=(0.05, 0.1, 0.2),
        outage_after=outage_after,
    )


async def test_a_check_in_refused_for_the_emergency_tells_the_visitor_plainly(
    server: RunningServer,
) -> None:
    app = stalled_kiosk(server, outage_after=2.0)
    async with app.run_test(size=TERMINAL) as pilot:
        await until(lambda: app.office is not None and bool(app.query(".language")))
        await choose_language(pilot, "es")
        await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
        await start(await server.staff("super"))
        screen = await tap_service(pilot, "permits")
        await until(lambda: screen.shown == "refused")
        assert isinstance(app.screen, ConfirmationScreen)
        shown = on_screen(app)
        assert "El registro está en pausa" in shown
        assert "Traceback" not in shown
    assert (await (await server.staff("super")).state()).tickets == []


async def test_the_display_sounds_the_alarm_says_the_instruction_and_announces_no_call(
    kiosk_browser: Browser, server: RunningServer
) -> None:
    display = await open_display(kiosk_browser, server)
    spoken: list[Response] = []
    display.page.on(
        "response", lambda r: spoken.append(r) if "/display/emergency.wav" in r.url else None
    )
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    await server.kiosk().check_in(visitor("called-0001"))
    called = await clerk.call_next("w1")
    await display.until("window.lobbyDisplay.announced.length === 1")

    await start(await server.staff("super"))
    await display.until("window.lobbyDisplay.alarms >= 1")
    await display.until("window.lobbyDisplay.spoken.length >= 2", timeout=20)
    assert await display.js("window.lobbyDisplay.spoken.slice(0, 2)") == ["en", "es"]
    await until(lambda: len(spoken) == 3, what="each language asked for once")
    by_lang = {r.url.rsplit("lang=", 1)[-1]: r for r in spoken}
    assert by_lang["so"].status == 404, "no Somali voice: shown, not said"
    for lang in ("en", "es"):
        assert by_lang[lang].headers["content-type"] == "audio/wav"
        assert (await by_lang[lang].body())[:4] == b"RIFF"

    await clerk.ticket_action(called.id, "recall")  # the server lists it to announce
    await asyncio.sleep(0.5)
    assert await display.announced() == [called.number], "no call is announced meanwhile"

    await end(await server.staff("super"))
    await display.until("document.getElementById('emergency').hidden")
    await clerk.ticket_action(called.id, "recall")
    await display.until("window.lobbyDisplay.announced.length === 2")


async def test_the_alarm_is_not_the_chime_and_the_spoken_instruction_is_checked(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    get = display.page.request.get
    alarm = await (await get(f"{server.url}/display/alarm.wav")).body()
    chime = await (await get(f"{server.url}/display/chime.wav")).body()
    assert alarm[:4] == b"RIFF" and alarm != chime
    assert (await get(f"{server.url}/display/emergency.wav?kind=flood&lang=en")).status == 422
    assert (await get(f"{server.url}/display/emergency.wav?kind=drill&lang=xx")).status == 422
    said = await get(f"{server.url}/display/emergency.wav?kind=shelter&lang=es")
    assert said.status == 200 and (await said.body())[:4] == b"RIFF"
    stranger = await (await browser.new_context()).request.get(
        f"{server.url}/display/emergency.wav?kind=shelter&lang=es"
    )
    assert stranger.status == 401, "for display devices only"


async def test_a_drill_says_drill_plainly_on_every_screen(
    browser: Browser, server: RunningServer
) -> None:
    display = await open_display(browser, server)
    board = board_app(server)
    async with board.run_test(size=TERMINAL), desk(server) as counter:
        await until(lambda: board.state.ready)
        drill = await start(await server.staff("super"), kind="drill")
        assert drill.drill and drill.heading["en"] == "DRILL"
        await page_shows_all(display, list(drill.instruction.values()), timeout=1.0)
        assert await display.js("document.getElementById('emergency').classList.contains('drill')")
        heading = await display.js("document.getElementById('emergency-heading').innerText")
        assert heading.startswith("DRILL")
        await until(lambda: "DRILL" in on_screen(board) and "DRILL" in on_screen(counter))
        assert board.screen.query_one(EmergencyPanel).has_class("-drill")
        assert "DRILL · calling is paused" in on_screen(counter)
        await screenshot(display.page, "emergency-drill-display.png")


LONG = {
    "en": "Please leave the building now by the nearest exit and walk, do not run."
    " Leave your belongings where they are. Do not use the lifts. Staff in yellow vests"
    " will guide you to the assembly point in the car park across the street, where we"
    " will count everyone. Help anyone near you who needs it. Do not come back inside"
    " until a member of staff tells you that it is safe to do so. Parents, keep your"
    " children with you; carers, stay with the person you came with.",
    "es": "Por favor, salga del edificio ahora por la salida más cercana y camine, no corra."
    " Deje sus pertenencias donde están. No use los ascensores. El personal con chalecos"
    " amarillos le guiará al punto de reunión en el aparcamiento de enfrente, donde"
    " contaremos a todos. Ayude a quien lo necesite. No vuelva a entrar hasta que un"
    " miembro del personal le diga que es seguro hacerlo. Padres, mantengan a sus hijos"
    " con ustedes; acompañantes, quédense con su persona.",
    "so": "Fadlan hadda ka bax dhismaha adigoo isticmaalaya albaabka kuugu dhow, soco ha"
    " orodin. Alaabtaada meesha ay taal uga tag. Ha isticmaalin wiishka. Shaqaalaha"
    " xiran jaakadaha jaallaha ah ayaa ku geyn doona goobta isu imaatinka ee baarkinka"
    " waddada ka soo horjeedda, halkaas oo aan dadka oo dhan ku tirin doonno. Caawi qof"
    " kasta oo u baahan. Ha soo noqon ilaa shaqaaluhu kuu sheegaan inay ammaan tahay. Waalidiinta,"
    " carruurtiinna la joogo.",
}


def long_instructions() -> OfficeConfig:
    """An office whose evacuation instruction runs to nearly the 500 characters allowed."""
    own = CONFIG_PATH.read_text().index("\n[emergency.")
    texts = ", ".join(f'{lang} = "{text}"' for lang, text in LONG.items())
    return parse_config(
        CONFIG_PATH.read_text()[:own] + f"\n[emergency.evacuate]\ninstruction = {{ {texts} }}\n",
        "long-instructions.toml",
    )


async def test_too_long_to_fit_together_each_language_takes_its_turn(
    browser: Browser, tmp_path: Path
) -> None:
    async with running_server(tmp_path, long_instructions()) as long:
        display = await open_display(browser, long)
        kiosk = kiosk_app(long)
        async with kiosk.run_test(size=TERMINAL):
            await until(lambda: kiosk.office is not None)
            await start(await long.staff("super"))
            await until(lambda: isinstance(kiosk.screen, EmergencyScreen))
            panel = kiosk.screen.query_one(EmergencyPanel)
            await until(lambda: panel.cycling, what="one language at a time at 80x24")
            assert panel.shown_languages == ["en"]
            assert " ".join(LONG["en"].split()[:8]) in on_screen(kiosk)
            assert "1/3" in on_screen(kiosk)
            save_terminal(kiosk, "emergency-kiosk-one-language")

            cycling = "document.getElementById('emergency').classList.contains('cycling')"
            await display.until(cycling)
            visible = "[...document.querySelectorAll('.instruction')].filter(b => !b.hidden)"
            assert await display.js(f"{visible}.map(b => b.lang)") == ["en"]
            words = await display.js(f"{visible}[0].innerText")
            assert "EMERGENCY" in words and LONG["en"][:40] in words, "its own heading with it"
            fits = "(() => { const b = document.querySelector('.instruction:not([hidden])');"
            assert await display.js(f"{fits} return b.scrollHeight <= b.clientHeight + 1; }})()")
            await screenshot(display.page, "emergency-display-one-language.png")
            await display.until(f"{visible}[0].lang === 'es'", timeout=7.0)
            await until(lambda: panel.shown_languages != ["en"], timeout=7.0)
            assert "2/3" in on_screen(kiosk)


async def test_a_check_in_kept_while_the_server_was_away_keeps_its_place_in_an_emergency(
    server: RunningServer,
) -> None:
    """The visitor left the kiosk with their place promised: the server keeps it, and the kiosk
    (which has not heard of the emergency) sends it as it would any kept check-in."""
    app = stalled_kiosk(server, outage_after=0.3)
    async with app.run_test(size=TERMINAL) as pilot:
        await until(lambda: app.office is not None and bool(app.query(".language")))
        await choose_language(pilot, "en")
        await start(await server.staff("super"))
        await server.stop()
        screen = await tap_service(pilot, "permits")
        await until(lambda: screen.shown == "offline", what="your place is kept")
        await server.start()
        await until(lambda: app.outbox.first() is None, what="sent once the server is back")
    [ticket] = (await (await server.staff("super")).state()).tickets
    assert ticket.received_at is not None, "with the visitor's arrival time"


async def test_an_acknowledgement_is_repeated_until_the_server_is_back(
    server: RunningServer,
) -> None:
    emergency = await start(await server.staff("super"))
    display = server.display()
    await server.stop()
    tries: list[float] = []

    async def send() -> object:
        tries.append(asyncio.get_running_loop().time())
        if len(tries) == 3:
            await server.start()
        return await display.emergency_ack(emergency.id)

    assert await acknowledge(send, lambda: True, delays=(0.05, 0.1))
    assert len(tries) == 3, "unanswered twice while the server was down, then answered"
    assert await acknowledged(server) == {"display:test-display"}
    # the emergency is over: a late acknowledgement is refused once, not repeated
    await end(await server.staff("super"))
    assert not await acknowledge(lambda: display.emergency_ack(emergency.id), lambda: True)


async def test_the_kiosk_idle_reset_leaves_the_emergency_on_screen(server: RunningServer) -> None:
    kiosk = kiosk_app(server, idle_timeout=0.2)
    async with kiosk.run_test(size=TERMINAL):
        await until(lambda: kiosk.office is not None)
        await start(await server.staff("super"))
        await until(lambda: isinstance(kiosk.screen, EmergencyScreen))
        await asyncio.sleep(0.6)  # past the idle timeout, twice
        assert isinstance(kiosk.screen, EmergencyScreen)


async def test_an_emergency_closes_the_form_a_clerk_was_filling_in(server: RunningServer) -> None:
    async with desk(server) as counter:
        await counter.run_action("walk_in", counter.screen)
        await until(lambda: isinstance(counter.screen, WalkInScreen))
        emergency = await start(await server.staff("super"))
        await until(lambda: isinstance(counter.screen, DeskScreen))
        await until(lambda: panel_shows_all(counter, emergency))
        await until(lambda: counter.acknowledgements.answered == [emergency.id])
