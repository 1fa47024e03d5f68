"""The kiosk driven with the pilot against a real server: every visitor leaves acknowledged."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from hardware import TicketPrinter, open_printer
from hardware.escpos_reader import Cut, QrCode, elements_of, iter_text, read_escpos
from hardware.printer import code_pages_of
from kiosk.app import KioskApp, main
from kiosk.backend import ServerBackend
from kiosk.outbox import Outbox
from kiosk.screens.confirmation import ConfirmationScreen
from kiosk.screens.details import DetailsScreen
from kiosk.screens.front_desk import FrontDeskScreen
from kiosk.screens.service_choice import ServiceChoiceScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.widgets.qr_block import QrBlock, matrix_from_lines, qr_matrix
from lobby import protocol as p
from lobby.client import ApiError
from server.config import OfficeConfig, parse_config
from server.keys import OFFICE
from tests import test_storage_failure as storage
from tests.conftest import (
    CONFIG_PATH,
    FakeClock,
    RunningServer,
    records_open,
    running_server,
    until,
    visitor,
)

SIZE = (110, 40)
BROKEN_PRINTER = "file:/nonexistent-dir/x"


def kiosk_app(
    server: RunningServer,
    printer: TicketPrinter | None = None,
    idle_timeout: float = 60.0,
    outbox: Outbox | None = None,
) -> KioskApp:
    return KioskApp(
        lambda: ServerBackend(
            server.url, server.tokens["kiosk"], timeout=2.0, reconnect_delays=(0.05, 0.2)
        ),
        printer if printer is not None else open_printer("dummy"),
        idle_timeout=idle_timeout,
        retry_delays=(0.05, 0.1, 0.2),
        outbox=outbox,
        outage_after=0.5,
    )


@asynccontextmanager
async def running(app: KioskApp) -> AsyncIterator[Pilot[int]]:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(lambda: app.office is not None and app.query(".language"))
        await pilot.pause()
        yield pilot


def text(app: KioskApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def choose_language(pilot: Pilot[int], code: str = "en") -> None:
    await until(lambda: isinstance(pilot.app.screen, WelcomeScreen))
    await pilot.pause()  # let a screen that just came back lay out before clicking on it
    await pilot.click(f"#language-{code}")
    await until(lambda: isinstance(pilot.app.screen, ServiceChoiceScreen))
    await until(lambda: pilot.app.screen.query(".service"))


async def open_details(pilot: Pilot[int]) -> None:
    await pilot.click("#add-details")
    await until(lambda: isinstance(pilot.app.screen, DetailsScreen))


async def give_details(pilot: Pilot[int], name: str, *choices: str) -> None:
    """From the service list: type ``name``, tap each choice ("#address-ms"...), continue."""
    await open_details(pilot)
    pilot.app.screen.query_one("#name", Input).value = name
    for choice in choices:
        await pilot.click(choice)
    await pilot.click("#continue")
    await until(lambda: isinstance(pilot.app.screen, ServiceChoiceScreen))


def service_button(app: KioskApp, service_id: str) -> Button:
    return next(b for b in app.screen.query(".service").results(Button) if b.name == service_id)


async def tap_service(pilot: Pilot[int], service_id: str) -> ConfirmationScreen:
    app = pilot.app
    assert isinstance(app, KioskApp)
    await pilot.pause()
    await pilot.click(service_button(app, service_id))
    await until(lambda: isinstance(app.screen, ConfirmationScreen))
    screen = app.screen
    assert isinstance(screen, ConfirmationScreen)
    return screen


async def finished(screen: ConfirmationScreen) -> None:
    await until(lambda: screen.shown in ("printed", "on_screen", "refused"))


async def supervisor_tickets(server: RunningServer) -> list[p.TicketView]:
    return (await (await server.staff("super")).state()).tickets


async def test_two_taps_print_a_ticket_and_report_it_printed(server: RunningServer) -> None:
    printer = open_printer("dummy")
    app = kiosk_app(server, printer)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        screen = await tap_service(pilot, "permits")
        await finished(screen)
        assert screen.stage == "printed"
        assert text(app, "#greeting") == "Welcome."
        assert text(app, "#your-number") == "Your number is P-001."
        assert text(app, "#wait").startswith("You are next — ")
        assert text(app, "#info") == "Bring a photo ID and proof of address."
        assert text(app, "#print-status") == "Please take your ticket from the printer."

    [ticket] = await supervisor_tickets(server)
    assert (ticket.number, ticket.service, ticket.name) == ("P-001", "permits", None)
    assert ticket.acknowledged == "printed" and ticket.acknowledged_at is not None

    elements = read_escpos(printer.last_output, code_pages_of(printer.profile))
    lines = list(iter_text(elements))
    assert "P-001" in lines
    assert "Permits and Licensing" in lines
    assert "Test City Hall" in lines
    assert "Your name is never shown on the screens" in lines
    [qr] = elements_of(elements, QrCode)
    assert qr.data == ticket.status_url
    assert elements_of(elements, Cut)


async def test_keyboard_alone_reaches_a_ticket(server: RunningServer) -> None:
    app = kiosk_app(server)
    async with running(app) as pilot:
        await pilot.press("enter")  # the first language has the focus
        await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
        await until(lambda: app.screen.query(".service"))
        await pilot.press("down", "enter")  # from "Permits" down to "Utility Billing"
        await until(lambda: isinstance(app.screen, ConfirmationScreen))
        screen = app.screen
        assert isinstance(screen, ConfirmationScreen)
        await finished(screen)
        assert text(app, "#your-number") == "Your number is B-001."
        await pilot.press("enter")  # "Done" has the focus
        await until(lambda: isinstance(app.screen, WelcomeScreen))


async def test_full_path_with_details_greets_by_name_and_keeps_it_off_paper(
    server: RunningServer,
) -> None:
    printer = open_printer("dummy")
    app = kiosk_app(server, printer)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        await open_details(pilot)
        assert "erased after 30 days" in text(app, "#privacy-body")
        await pilot.press(*"Maria Garcia")
        assert app.screen.query_one("#address-hint").visible  # a name, but no form yet
        await pilot.click("#address-ms")
        assert not app.screen.query_one("#address-hint").visible
        await pilot.click("#served-language-es")
        await pilot.click("#needs-wheelchair")
        await pilot.click("#needs-interpreter")
        await pilot.click("#continue")
        await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
        assert app.screen.query_one("#details-summary").display
        screen = await tap_service(pilot, "permits")
        await finished(screen)
        assert text(app, "#greeting") == "Welcome, Ms. Garcia."
        assert app.details.is_empty(), "the name must not outlive the check-in"

    clerk = await server.staff("clerk")
    [listed] = await supervisor_tickets(server)
    ticket = await clerk.ticket(listed.id)
    assert (ticket.name, ticket.address_as, ticket.addressed_as) == (
        "Maria Garcia",
        "ms",
        "Ms. Garcia",
    )
    assert ticket.language == "es"
    assert ticket.needs == ["wheelchair", "interpreter"]
    assert ticket.priority, "wheelchair users get the configured head start"
    printed = " ".join(iter_text(read_escpos(printer.last_output, code_pages_of(printer.profile))))
    assert "Garcia" not in printed and "Maria" not in printed


async def test_no_name_choice_sends_no_name(server: RunningServer) -> None:
    app = kiosk_app(server)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        await give_details(pilot, "Maria Garcia", "#address-number")
        await finished(await tap_service(pilot, "billing"))
        assert text(app, "#greeting") == "Welcome."
    [listed] = await supervisor_tickets(server)
    assert (await (await server.staff("clerk")).ticket(listed.id)).name is None


async def test_spanish_and_somali_visitors_read_their_language(server: RunningServer) -> None:
    printer = open_printer("dummy")
    app = kiosk_app(server, printer)
    async with running(app) as pilot:
        welcome = text(app, "#greetings")
        assert "Welcome" in welcome and "Bienvenidos" in welcome and "Soo dhawoow" in welcome
        await choose_language(pilot, "es")
        assert text(app, "#services-title") == "¿En qué le podemos ayudar hoy?"
        assert "Usted es la próxima persona" in str(service_button(app, "permits").label)
        screen = await tap_service(pilot, "permits")
        await finished(screen)
        assert text(app, "#your-number") == "Su número es P-001."
        assert text(app, "#print-status") == "Por favor, recoja su turno en la impresora."
        elements = read_escpos(printer.last_output, code_pages_of(printer.profile))
        assert "Su nombre nunca aparece en las pantallas" in list(iter_text(elements))
        [qr] = elements_of(elements, QrCode)
        assert qr.data.endswith("?lang=es"), "the status page opens in Spanish too"

        await pilot.click("#done")
        await until(lambda: isinstance(app.screen, WelcomeScreen))
        assert app.language == "en"
        await choose_language(pilot, "so")
        assert text(app, "#services-title") == "Maxaan maanta kaaga caawin karnaa?"
        assert "Qiyaastii 1 qof ayaa kaa horreeya" in str(service_button(app, "permits").label)
        await finished(await tap_service(pilot, "billing"))
        assert text(app, "#your-number") == "Lambarkaagu waa B-001."


async def test_closed_service_is_disabled_with_its_hours(server: RunningServer) -> None:
    supervisor = await server.staff("super")
    app = kiosk_app(server)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        assert not service_button(app, "records").disabled
        await supervisor.request("POST", "/api/services/records/close")
        await until(lambda: service_button(app, "records").disabled)
        label = str(service_button(app, "records").label)
        assert "Vital Records" in label and "Closed now · Hours 00:00-24:00" in label
        await pilot.click(service_button(app, "records"))
        await pilot.pause()
        assert isinstance(app.screen, ServiceChoiceScreen), "a closed service issues nothing"

        app.check_in("records")  # a visitor faster than the update still gets a plain answer
        await until(lambda: isinstance(app.screen, ConfirmationScreen))
        screen = app.screen
        assert isinstance(screen, ConfirmationScreen)
        await finished(screen)
        assert screen.stage == "refused"
        assert text(app, "#progress") == (
            "We could not give you a ticket. Please see the front desk."
        )
        assert "Vital Records is closed" in text(app, "#progress-detail")
    assert await supervisor_tickets(server) == []


async def test_a_service_opening_on_time_is_offered_without_reloading(tmp_path: Path) -> None:
    config = records_open("09:30-12:00")
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=config.tz))
    async with running_server(tmp_path, config, clock) as server:
        office = server.app[OFFICE]
        await office.housekeep()
        app = kiosk_app(server)
        async with running(app) as pilot:
            await choose_language(pilot, "en")
            await until(lambda: "Hours 09:30-12:00" in str(service_button(app, "records").label))
            assert service_button(app, "records").disabled

            clock.advance(minutes=31)
            await office.housekeep()  # the stream's services.hours event is all the kiosk gets
            await until(lambda: not service_button(app, "records").disabled)
            await finished(await tap_service(pilot, "records"))
            assert text(app, "#your-number") == "Your number is R-001."


async def test_a_service_sliding_into_closing_is_shown_on_an_open_list(tmp_path: Path) -> None:
    """Nothing is logged when the clock alone brings a service near its closing time: the
    server's tick is what tells the kiosk, with the list already on screen."""
    config = records_open("09:00-10:00")
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=config.tz))
    async with running_server(tmp_path, config, clock) as server:
        office = server.app[OFFICE]
        await office.housekeep()
        app = kiosk_app(server)
        async with running(app) as pilot:
            await choose_language(pilot, "en")
            before = str(service_button(app, "records").label)
            assert "Closes soon" not in before

            clock.advance(minutes=55)  # the next visitor could not be served before 10:00
            office.tick()
            await until(lambda: "Closes soon" in str(service_button(app, "records").label))
            assert service_button(app, "records").has_class("-closing")
            assert not service_button(app, "records").disabled, "closing still issues tickets"


ONE_WINDOW_FOR_TWO_SERVICES = """
[[counters]]
id = "w1"
name = "Window 1"
services = ["permits", "billing"]

[[counters]]
id = "w3"
name = "Window 3"
services = ["records"]
"""


async def test_the_button_says_what_the_ticket_says_when_services_share_a_counter(
    tmp_path: Path,
) -> None:
    """A billing visitor waits at the only window that also serves permits: the permits button
    must count them, as the permits ticket does."""
    services, _, _ = CONFIG_PATH.read_text().partition("[[counters]]")
    config = parse_config(services + ONE_WINDOW_FOR_TWO_SERVICES, "shared.toml")
    async with running_server(tmp_path, config) as server:
        await server.kiosk().check_in(visitor("billing-visitor", service="billing"))
        printer = open_printer("dummy")
        app = kiosk_app(server, printer)
        async with running(app) as pilot:
            await choose_language(pilot, "en")
            quoted = app.office_state.services["permits"]
            assert (quoted.waiting, quoted.ahead) == (0, 1)
            low, high = quoted.estimate.low_min, quoted.estimate.high_min
            assert low > 0, "the range form is the one both texts share"
            assert str(service_button(app, "permits").label).endswith(
                f"About 1 person ahead · about {low}–{high} min"
            )
            screen = await tap_service(pilot, "permits")
            await finished(screen)
            assert text(app, "#wait") == f"About 1 person ahead — around {low} to {high} minutes."
        printed = list(iter_text(read_escpos(printer.last_output, code_pages_of(printer.profile))))
        assert "About 1 person ahead" in printed
        assert f"Wait: about {low}–{high} minutes" in printed
        assert "We estimate on the long side: you may well be called sooner." in " ".join(printed)


async def test_not_sure_sends_the_visitor_to_the_front_desk(server: RunningServer) -> None:
    app = kiosk_app(server)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        await pilot.click("#not-sure")
        await until(lambda: isinstance(app.screen, FrontDeskScreen))
        assert text(app, "#front-desk-title") == "Please ask at the front desk"
        await pilot.click("#ok")
        await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
    assert await supervisor_tickets(server) == []


async def test_inactivity_returns_to_welcome_and_forgets_the_name(server: RunningServer) -> None:
    app = kiosk_app(server, idle_timeout=2.0)
    async with running(app) as pilot:
        await choose_language(pilot, "es")
        await give_details(pilot, "Maria Garcia", "#address-ms")
        assert app.details.given_name == "Maria Garcia"

        await until(lambda: isinstance(app.screen, WelcomeScreen), timeout=10)
        assert app.details.is_empty() and app.language == "en"
        await choose_language(pilot, "en")
        await open_details(pilot)
        assert app.screen.query_one("#name", Input).value == ""
    assert await supervisor_tickets(server) == []


async def test_going_back_to_welcome_starts_over(server: RunningServer) -> None:
    app = kiosk_app(server)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        await give_details(pilot, "Maria Garcia")
        await pilot.pause()
        await pilot.click("#back")
        await until(lambda: isinstance(app.screen, WelcomeScreen))
        assert app.details.is_empty(), "the next visitor must not inherit a name"


small_disk = storage.small_disk
"""A 4 MiB filesystem of the test's own, which ``storage.fill`` fills (skips without root)."""


async def fill_until_refused(server: RunningServer, disk: Path) -> Path:
    """Fill ``disk`` and check other visitors in until the log has to grow: from then on the
    server answers every command it cannot log with 503 ``storage_full``."""
    filler = storage.fill(disk)
    kiosk = server.kiosk()
    for attempt in range(200):
        try:
            await kiosk.check_in(visitor(f"earlier-{attempt:04d}", service="billing"))
        except ApiError as error:
            assert (error.status, error.code) == (503, "storage_full")
            return filler
    raise AssertionError("the disk never filled")


async def test_a_full_disk_sends_the_visitor_to_the_front_desk_until_the_ticket_is_kept(
    small_disk: Path, office_config: OfficeConfig
) -> None:
    async with storage.server_on(small_disk, office_config) as server:
        printer = open_printer("dummy")
        app = KioskApp(
            lambda: ServerBackend(server.url, server.tokens["kiosk"], timeout=5.0),
            printer,
            retry_delays=(0.05, 0.1, 0.2),
            outage_after=1.0,
        )
        async with running(app) as pilot:
            await choose_language(pilot, "es")
            filler = await fill_until_refused(server, small_disk)
            screen = await tap_service(pilot, "permits")
            # well within the client's 5 s timeout: this is the server's 503, not silence
            await until(lambda: screen.shown == "offline", timeout=2.5)
            assert text(app, "#progress") == "No pudimos imprimir su turno."
            assert text(app, "#progress-detail").startswith(
                "Por favor, muestre esta pantalla en la recepción: conservamos su lugar"
            )
            await asyncio.sleep(0.5)  # refused repeats meanwhile: the visitor reads the same
            assert app.screen is screen and screen.shown == "offline"

            filler.unlink()
            await finished(screen)
            assert screen.stage == "printed"
            [ticket] = [t for t in await supervisor_tickets(server) if t.service == "permits"]
            assert text(app, "#your-number") == f"Su número es {ticket.number}."
            assert ticket.number in list(
                iter_text(read_escpos(printer.last_output, code_pages_of(printer.profile)))
            )

        await server.restart()
        kept = [t for t in await supervisor_tickets(server) if t.service == "permits"]
        assert [(t.number, t.acknowledged) for t in kept] == [(ticket.number, "printed")]


async def test_failed_print_shows_the_ticket_and_tells_supervisors(server: RunningServer) -> None:
    app = kiosk_app(server, open_printer(BROKEN_PRINTER))
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        screen = await tap_service(pilot, "permits")
        await finished(screen)
        assert screen.stage == "on_screen"
        assert text(app, "#print-status") == (
            "We could not print your ticket. Please write down your number: P-001"
        )
        assert app.screen.query_one("#qr-panel").display
        drawn = str(app.screen.query_one("#qr", QrBlock).content).split("\n")
        ticket = screen.ticket
        assert ticket is not None
        expected = qr_matrix(ticket.status_url)
        assert matrix_from_lines(drawn)[: len(expected)] == expected

        supervisor = await server.staff("super")
        await until(lambda: app.health.reported is not None and app.health.reported[0] != "unknown")
        state = await supervisor.state()
        assert list(state.printers) == ["test-kiosk"]
        assert state.printers["test-kiosk"].status == "offline", "the cause, not just an error"
        assert "Cannot reach the ticket printer" in state.printers["test-kiosk"].detail
        [listed] = state.tickets
        assert listed.acknowledged == "screen"


async def test_staff_key_reprints_the_last_ticket(server: RunningServer) -> None:
    printer = open_printer("dummy")
    app = kiosk_app(server, printer)
    async with running(app) as pilot:
        await choose_language(pilot, "en")
        await finished(await tap_service(pilot, "permits"))
        first = printer.last_output
        printer.last_output = b""
        await pilot.press("f9")
        await until(lambda: printer.last_output)
        assert printer.last_output == first
    assert len(await supervisor_tickets(server)) == 1


def test_bad_printer_spec_stops_the_kiosk_with_the_valid_forms(capsys) -> None:  # type: ignore[no-untyped-def]
    args = argparse.Namespace(
        server="http://127.0.0.1:9", token="t", printer="lpt1", idle_timeout=60.0
    )
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "invalid printer spec 'lpt1'" in error and "tcp://HOST[:PORT]" in error


async def test_a_refused_token_is_said_plainly_on_the_welcome_screen(
    server: RunningServer,
) -> None:
    app = KioskApp(
        lambda: ServerBackend(server.url, "not-the-kiosk-token", reconnect_delays=(0.05,)),
        open_printer("dummy"),
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.problem)
        await pilot.pause()
        assert "refused this kiosk" in text(app, "#connection")
        await pilot.click("#language-en")
        await until(lambda: isinstance(app.screen, ServiceChoiceScreen))
        await pilot.pause()
        assert app.screen.query_one("#services-unavailable").display
        assert text(app, "#services-unavailable") == (
            "We cannot show the services right now. Please see the front desk."
        )


def test_a_server_address_without_http_is_refused_before_start(capsys) -> None:  # type: ignore[no-untyped-def]
    args = argparse.Namespace(server="127.0.0.1:8080", token="t", printer="dummy", idle_timeout=60)
    assert main(args) == 2
    assert "--server must be an http:// or https:// URL" in capsys.readouterr().err


OWN_PRACTICES = {
    "en": "Give your name only if you wish. Our records office keeps it for 30 days.",
    "es": "Dé su nombre solo si lo desea. Nuestra oficina lo guarda 30 días.",
}


async def test_the_offices_own_data_practices_notice_is_shown_in_the_visitors_language(
    tmp_path: Path,
) -> None:
    text_of = CONFIG_PATH.read_text(encoding="utf-8")
    en, es = OWN_PRACTICES["en"], OWN_PRACTICES["es"]
    notice = f'data_practices = {{ en = "{en}", es = "{es}" }}\n'
    config = parse_config(text_of.replace("[security]", notice + "\n[security]", 1), "own.toml")
    assert config.data_practices["so"] == OWN_PRACTICES["en"], "a gap falls back to the first"
    assert any("data_practices" in gap for gap in config.gaps)
    async with running_server(tmp_path, config) as server:
        for language in ("es", "en"):
            app = kiosk_app(server)
            async with running(app) as pilot:
                await choose_language(pilot, language)
                await open_details(pilot)
                assert text(app, "#privacy-body") == OWN_PRACTICES[language]
