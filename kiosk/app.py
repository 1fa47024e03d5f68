"""The check-in kiosk: welcome, service choice, optional details, confirmation and ticket.

Acknowledging every visitor is the point, so the app is built around never losing a check-in:
one ``client_request_id`` per visit, retried until the server answers (the server returns the
same ticket for a repeated id, so no duplicate), and a ticket that cannot be printed is shown on
screen instead, with the acknowledgement reported either way.

In emergency mode (the office's state carries ``emergency``) the kiosk takes no check-in and
shows the instruction instead (``kiosk/screens/emergency.py``), and tells the server it does.

Staff keys (not shown to visitors): F9 reprints the last ticket; Ctrl+Q quits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar

import msgspec
from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.logging import TextualHandler
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Button, Input

from hardware import PrinterSpecError, PrintFailed, TicketContent, TicketPrinter, open_printer
from kiosk.backend import KioskBackend, ServerBackend
from kiosk.i18n import Catalogue, Translator
from kiosk.outbox import Outbox, OutboxError
from kiosk.printer_health import PrinterHealth
from kiosk.screens.confirmation import ConfirmationScreen
from kiosk.screens.details import DetailsScreen
from kiosk.screens.emergency import EmergencyScreen
from kiosk.screens.front_desk import FrontDeskScreen
from kiosk.screens.service_choice import ServiceChoiceScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.visit import PendingCheckIn, VisitorDetails, new_request_id
from kiosk.widgets.choice_row import ChoiceRow
from kiosk.wording import greeting, ticket_content
from lobby import protocol as p
from lobby.client import ApiError, ServerUnreachable, StreamMessage
from lobby.emergency import Acknowledgements, EmergencyPanel, acknowledge, showing
from lobby.state import OfficeState, in_language

log = logging.getLogger("lobby.kiosk")

BackendFactory = Callable[[], KioskBackend]
T = TypeVar("T")
Answer = p.TicketView | ApiError
"""The server's answer to one check-in: a ticket, or a refusal."""
EMERGENCY = "emergency"
"""The server's refusal code for a check-in during emergency mode."""
LATE_AFTER = timedelta(seconds=2)
"""A check-in sent later than this after the tap carries the visitor's arrival time (and so
does any sent after the visitor was told to see the front desk)."""


@dataclass(frozen=True)
class IssuedTicket:
    """The last ticket, kept for the staff reprint key. It holds no private data."""

    ticket_id: int
    content: TicketContent


class KioskApp(App[int]):
    CSS_PATH = "kiosk.tcss"
    TITLE = "Lobby kiosk"
    ENABLE_COMMAND_PALETTE = False
    # Screens carry these classes by the terminal's size: 80x24 is the least a kiosk may have
    # and gets the tighter layout (kiosk.tcss, "small terminals").
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "reprint", "Reprint last ticket (staff)", show=False),
        Binding("down", "app.focus_next", show=False),
        Binding("up", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),  # the language row is a row
        Binding("left", "app.focus_previous", show=False),
    ]

    office: var[p.OfficeView | None] = var(None)
    services: var[tuple[p.ServiceView, ...]] = var(())
    connected: var[bool | None] = var(None)
    """None until the first answer; False while the server cannot be reached."""
    problem: var[str] = var("")
    """Why the kiosk cannot work at all (a refused token), for staff; empty when fine."""
    language: var[str] = var("en")

    def __init__(
        self,
        backend: BackendFactory,
        printer: TicketPrinter | None,
        *,
        idle_timeout: float = 60.0,
        catalogue: Catalogue | None = None,
        retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0),
        printer_interval: float = 30.0,
        printer_recheck: float = 5.0,
        clock: Callable[[], datetime] = datetime.now,
        outbox: Outbox | None = None,
        outage_after: float = 4.0,
    ) -> None:
        super().__init__()
        self._backend_factory = backend
        self.backend: KioskBackend | None = None
        self.printer = printer
        self.idle_timeout = idle_timeout
        self.catalogue = catalogue or Catalogue.load()
        self.retry_delays = retry_delays
        self.printer_interval = printer_interval
        self.printer_recheck = printer_recheck
        self.clock = clock
        self.office_state = OfficeState()
        """The office as the stream tells it; ``office`` and ``services`` are drawn from it."""
        self.details = VisitorDetails()
        self.pending: PendingCheckIn | None = None
        self.last_ticket: IssuedTicket | None = None
        self.health = PrinterHealth()
        self.outbox = outbox if outbox is not None else Outbox()
        self.outage_after = outage_after
        self._answers: dict[str, asyncio.Future[Answer]] = {}
        """The answer each visitor on screen waits for, by ``client_request_id``."""
        self._queued = asyncio.Event()
        self.acknowledgements = Acknowledgements()
        self._last_input = time.monotonic()
        self.set_reactive(KioskApp.language, self.catalogue.languages[0])

    # ------------------------------------------------------------------ setup

    def get_default_screen(self) -> Screen[Any]:
        return WelcomeScreen()

    def on_mount(self) -> None:
        self.backend = self._backend_factory()
        self.follow_office()
        self.send_outbox()
        self.set_interval(min(1.0, self.idle_timeout / 4), self.reset_when_idle)
        if self.printer is not None:
            self.poll_printer()
            if self.printer.answers_status:  # the others' answer never changes
                self.set_interval(self.printer_interval, self.poll_printer)

    async def on_unmount(self) -> None:
        if self.backend is not None:
            await self.backend.close()
        self.outbox.close()

    # --------------------------------------------------------------- language

    @property
    def t(self) -> Translator:
        return self.catalogue.bind(self.language)

    @property
    def languages(self) -> list[str]:
        """Languages to offer: the office's, in its order, that have a catalogue file."""
        offered = self.office.languages if self.office else []
        known = [code for code in offered if self.catalogue.has(code)]
        return known or list(self.catalogue.languages)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    # ----------------------------------------------------------- office state

    @work(group="state", exclusive=True, exit_on_error=False)
    async def follow_office(self) -> None:
        assert self.backend is not None
        try:
            async for message in self.backend.follow(self._on_connection):
                self._apply(message)
        except ApiError as error:
            self.connected = False
            self.problem = f"The server refused this kiosk: {error.message}"

    def _on_connection(self, up: bool) -> None:
        self.connected = up

    def _apply(self, message: StreamMessage) -> None:
        """Fold the message, then hand the screens what they draw: a tick that moved an
        estimate or slid a service into "closing" repaints its button like any event."""
        self.office_state.apply(message)
        self.office = self.office_state.office
        self.services = tuple(self.office_state.services.values())
        if not self.screen_stack[1:] and self.language not in self.languages:
            self.language = self.default_language
        self._show_emergency(self.office.emergency if self.office else None)

    # -------------------------------------------------------------- emergency

    @property
    def in_emergency(self) -> bool:
        office = self.office_state.office
        return office is not None and office.emergency is not None

    def _show_emergency(self, emergency: p.EmergencyView | None) -> None:
        """Over everything while it lasts, the visitor's choices forgotten; gone at its end."""
        shown = self.screen if isinstance(self.screen, EmergencyScreen) else None
        if emergency is None:
            if shown is not None:
                self.go_home()
            return
        if shown is not None:
            shown.show(emergency)
        else:
            self.go_home()
            self.push_screen(EmergencyScreen(emergency))

    @on(EmergencyPanel.Shown)
    def _emergency_shown(self, event: EmergencyPanel.Shown) -> None:
        if self.acknowledgements.due(event.emergency):
            self.acknowledge_emergency(event.emergency)

    @work(group="emergency-ack", exit_on_error=False)
    async def acknowledge_emergency(self, emergency_id: int) -> None:
        """Tell the server this kiosk shows it, until the server answers."""
        assert self.backend is not None
        backend = self.backend

        if await acknowledge(
            lambda: backend.emergency_ack(emergency_id),
            lambda: showing(self.office_state.office, emergency_id),
        ):
            self.acknowledgements.answered.append(emergency_id)

    # ------------------------------------------------------------- navigation

    def choose_language(self, language: str) -> None:
        self.language = language
        self.push_screen(ServiceChoiceScreen())

    def open_details(self) -> None:
        self.push_screen(DetailsScreen(self.details))

    def save_details(self, details: VisitorDetails) -> None:
        self.details = details
        self.pop_screen()

    def ask_front_desk(self) -> None:
        self.push_screen(FrontDeskScreen())

    def go_home(self) -> None:
        """Back to the welcome screen, forgetting everything the visitor typed or chose."""
        self.details = VisitorDetails()
        self.language = self.default_language
        while len(self.screen_stack) > 1:
            self.pop_screen()

    # ------------------------------------------------------------------- idle

    def touch(self) -> None:
        self._last_input = time.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown):
            self.touch()
        await super().on_event(event)

    @on(Button.Pressed)
    @on(Input.Changed)
    @on(ChoiceRow.Changed)
    def _visitor_acted(self) -> None:
        self.touch()

    def reset_when_idle(self) -> None:
        if time.monotonic() - self._last_input < self.idle_timeout:
            return
        if self.pending is not None:
            return  # the visitor is waiting, for a few seconds, for a ticket being requested
        if self.in_emergency:
            return  # the emergency stays on screen until it ends
        at_home = len(self.screen_stack) <= 1
        if at_home and self.details.is_empty() and self.language == self.default_language:
            return
        self.go_home()

    # ---------------------------------------------------------------- check-in

    def check_in(self, service_id: str) -> None:
        if self.pending is not None or self.in_emergency:
            return
        request = msgspec.structs.replace(
            self.details.request(service_id, new_request_id(), self.language),
            arrived_at=self._now(),
        )
        self._keep(request)
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._answers[request.client_request_id] = answer
        pending = PendingCheckIn(request, self.language, self.details)
        self.pending = pending
        service = self.office_state.service(service_id)
        screen = ConfirmationScreen(
            in_language(service.names, self.language, service.name) if service else service_id
        )
        self.push_screen(screen)
        self._queued.set()
        self.issue_ticket(pending, screen, answer)

    def _now(self) -> datetime:
        """The kiosk's time with its offset (as the clock gives it, or the local one)."""
        now = self.clock()
        return now if now.tzinfo is not None else now.astimezone()

    def _keep(self, request: p.CheckInRequest) -> None:
        """Write the check-in to the outbox before it is first sent."""
        try:
            self.outbox.add(request)
        except OutboxError as error:
            log.error("%s; check-ins are kept in memory until the kiosk restarts", error)
            self.outbox = Outbox()
            self.outbox.add(request)

    @work(group="check-in", exit_on_error=False)
    async def issue_ticket(
        self,
        pending: PendingCheckIn,
        screen: ConfirmationScreen,
        answer: asyncio.Future[Answer],
    ) -> None:
        """Wait for the server's answer to this visitor's check-in, and issue the ticket.

        After ``outage_after`` seconds without an answer the visitor is told once, in their
        language, to show the screen at the front desk, and may finish: the kiosk is free for
        the next visitor (the idle reset runs again) while the check-in waits in the outbox. A
        ticket that comes back after the visitor left is not printed for nobody: staff see the
        visit as one the kiosk sent late (``received_at``).
        """
        done, _ = await asyncio.wait({answer}, timeout=self.outage_after)
        if not done:
            self.pending = None
            screen.show_offline(pending.request.arrived_at or self._now())
            self.touch()  # the visitor gets the full idle time to read it
        result = await answer
        if self.pending is pending:
            self.pending = None
        if screen not in self.screen_stack:
            if isinstance(result, p.TicketView):
                log.info("%s was kept for a visitor who has left the kiosk", result.number)
            return
        if isinstance(result, ApiError):
            t = self.catalogue.bind(pending.kiosk_language)
            emergency = result.code == EMERGENCY
            screen.show_refused(t("emergency_refused") if emergency else result.message)
            return
        ticket = result
        t = self.catalogue.bind(pending.kiosk_language)
        service = self.office_state.service(ticket.service)
        language = pending.kiosk_language
        content = ticket_content(
            t,
            ticket,
            office_name=self.office.name if self.office else "",
            service_name=in_language(service.names, language, service.name) if service else "",
            info=in_language(service.infos, language, service.info) if service else None,
            now=self.clock(),
        )
        self.last_ticket = IssuedTicket(ticket.id, content)
        self.details = VisitorDetails()
        self.touch()  # the visitor gets the full idle time to read, however long the wait was
        screen.show_ticket(
            ticket,
            greeting(t, pending.details),
            info=content.info_text,
            closing=service is not None and service.state == "closing",
        )
        via = await self._print_ticket(content)
        screen.show_print_result(printed=via == "printed")
        self.touch()
        await self._acknowledge(ticket.id, via)

    @work(group="outbox", exclusive=True, exit_on_error=False)
    async def send_outbox(self) -> None:
        """Send the kept check-ins one at a time, oldest first, each until it is answered."""
        assert self.backend is not None
        backend = self.backend
        while True:
            request = self.outbox.first()
            if request is None:
                self._queued.clear()
                await self._queued.wait()
                continue
            result: Answer
            try:
                result = await self._until_answered(partial(self._send, backend, request))
            except ApiError as refusal:
                log.warning("check-in %s refused: %s", request.client_request_id, refusal)
                result = refusal
            self.outbox.answered(request.client_request_id)
            answer = self._answers.pop(request.client_request_id, None)
            if answer is not None and not answer.done():
                answer.set_result(result)
            elif isinstance(result, p.TicketView):
                log.info("%s was kept from before the kiosk restarted", result.number)

    def _send(self, backend: KioskBackend, request: p.CheckInRequest) -> Awaitable[p.TicketView]:
        """The check-in as sent now: with the visitor's arrival time once it is late, so the
        server orders and measures the wait from it; without it while the server answers at
        once, so a kiosk clock that drifts a little never moves anyone's place."""
        arrived = request.arrived_at
        late_after = min(LATE_AFTER, timedelta(seconds=self.outage_after))
        late = arrived is not None and self._now() - arrived > late_after
        return backend.check_in(
            request if late else msgspec.structs.replace(request, arrived_at=None)
        )

    async def _until_answered(
        self, send: Callable[[], Awaitable[T]], waiting: Callable[[], None] = lambda: None
    ) -> T:
        """Repeat ``send`` while the server is away or failing, calling ``waiting`` each time.

        A refusal (an ``ApiError`` below 500) is raised: repeating would only be refused again.
        Every repeat is the same request, which the server answers once.
        """
        attempt = 0
        while True:
            try:
                return await send()
            except ServerUnreachable:
                pass
            except ApiError as error:
                if error.status < 500:
                    raise
            waiting()
            await asyncio.sleep(self.retry_delays[min(attempt, len(self.retry_delays) - 1)])
            attempt += 1

    async def _acknowledge(self, ticket_id: int, via: str) -> None:
        """Tell the server how the visitor got their number; keep trying while it is away."""
        assert self.backend is not None
        backend = self.backend
        seen_at = datetime.now().astimezone()  # the moment itself, not when the server hears of it
        try:
            await self._until_answered(lambda: backend.acknowledged(ticket_id, via, seen_at))
        except ApiError as error:
            log.warning("acknowledgement of ticket %d refused: %s", ticket_id, error)

    # ---------------------------------------------------------------- printer

    async def _print_ticket(self, content: TicketContent) -> str:
        """Print in a thread: "printed", or "screen" when the visitor must read it there."""
        if self.printer is None:
            return "screen"
        try:
            await asyncio.to_thread(self.printer.print_ticket, content)
        except PrintFailed as failure:
            self.health.failed(str(failure), failure.cause)
            self.report_printer()
            self._recheck_printer()
            return "screen"
        except Exception as error:  # a printer fault must never cost the visitor their ticket
            log.exception("printing %s failed", content.number)
            self.health.failed(f"The printer failed unexpectedly: {error}")
            self.report_printer()
            return "screen"
        self.health.printed()
        self.report_printer()
        return "printed"

    @work(group="printer-poll", exclusive=True, exit_on_error=False)
    async def poll_printer(self) -> None:
        assert self.printer is not None
        status = await asyncio.to_thread(self.printer.status)
        self.health.polled(str(status), self.printer.last_error or "")
        self.report_printer()
        self._recheck_printer()

    def _recheck_printer(self) -> None:
        """While the printer has a problem, ask again soon, so that supervisors see it cleared
        within seconds of someone loading paper or shutting the cover."""
        if self.printer is not None and self.printer.answers_status and not self.health.ok:
            self.set_timer(self.printer_recheck, self.poll_printer)

    @work(group="printer-report", exclusive=True, exit_on_error=False)
    async def report_printer(self) -> None:
        report = self.health.due()
        if report is None or self.backend is None:
            return
        try:
            await self.backend.printer_status(*report)
        except (ServerUnreachable, ApiError):
            return  # the next poll tries again
        self.health.sent(report)

    def action_reprint(self) -> None:
        if self.last_ticket is None:
            self.notify("No ticket has been issued on this kiosk yet.", title="Reprint")
            return
        self.reprint(self.last_ticket)

    @work(group="reprint", exclusive=True, exit_on_error=False)
    async def reprint(self, last: IssuedTicket) -> None:
        via = await self._print_ticket(last.content)
        if via != "printed":
            self.notify(self.health.detail, title="Reprint failed", severity="error")
            return
        self.notify(f"Reprinted {last.content.number}.", title="Reprint")
        await self._acknowledge(last.ticket_id, "printed")


def main(args: argparse.Namespace) -> int:
    """``lobby kiosk``: args has .server .token .printer .idle_timeout .outbox."""
    try:
        printer = open_printer(args.printer)
    except PrinterSpecError as error:
        print(f"lobby kiosk: {error}", file=sys.stderr)
        return 2
    if not args.server.startswith(("http://", "https://")):
        print(
            f"lobby kiosk: --server must be an http:// or https:// URL, not {args.server!r}",
            file=sys.stderr,
        )
        return 2
    if not args.idle_timeout > 0:
        print("lobby kiosk: --idle-timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        outbox = Outbox(args.outbox)
    except OutboxError as error:
        print(f"lobby kiosk: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, handlers=[TextualHandler()])
    app = KioskApp(
        lambda: ServerBackend(args.server, args.token),
        printer,
        idle_timeout=args.idle_timeout,
        outbox=outbox,
    )
    app.run()
    return app.return_code or 0
