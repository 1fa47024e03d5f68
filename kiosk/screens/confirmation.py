"""Confirmation: the greeting, the number in block letters, the wait, what to bring.

The screen is pushed the moment the visitor touches a service and fills in as the check-in
progresses: waiting for the server, then the ticket, then whether it printed. When it did not,
the ticket stays on screen with its QR code so nothing is lost. When the server does not answer
within a few seconds the visitor reads one thing: show this screen at the front desk, your place
is kept (from the time shown); "Finish" ends the visit while the check-in waits to be sent.
"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, HorizontalGroup, Vertical
from textual.widgets import Button, Static

from kiosk.screens.kiosk_screen import KioskScreen
from kiosk.widgets.big_number import BigNumber
from kiosk.widgets.qr_block import QrBlock
from kiosk.wording import wait_sentence
from lobby import protocol as p


class ConfirmationScreen(KioskScreen):
    AUTO_FOCUS = ""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name
        self.stage = "pending"
        """pending, offline, refused, printing, printed or on_screen."""
        self.arrived = ""
        """The arrival time shown while the server cannot be reached ("09:12")."""
        self.ticket: p.TicketView | None = None
        self.greeting = ""
        self.info: str | None = None
        self.closing = False
        self.refusal = ""
        self._ready = False
        self.shown = ""
        """The stage as last drawn on screen (``stage`` can run ahead of the first paint)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirmation"):
            yield Static(self.service_name, id="progress-service", markup=False)
            yield Static(id="progress", markup=False)
            yield Static(id="progress-detail", markup=False)
            with Horizontal(id="ticket"):
                with Vertical(id="ticket-text"):
                    yield Static(id="greeting", markup=False)
                    yield Static(id="your-number", markup=False)
                    yield BigNumber(id="number")
                    yield Static(id="service-name", markup=False)
                    yield Static(id="wait", markup=False)
                    yield Static(id="estimate-note", markup=False)
                    yield Static(id="closing-note", markup=False)
                    yield Static(id="info", markup=False)
                with Vertical(id="qr-panel"):
                    with Center():
                        yield QrBlock(id="qr")
                    yield Static(id="qr-caption", markup=False)
            yield Static(id="print-status", markup=False)
            with Center(), HorizontalGroup(id="confirmation-actions"):
                yield Button(id="done", classes="primary")
                yield Button(id="back")

    def on_mount(self) -> None:
        self._ready = True
        self._paint()

    # -- called by the app's check-in worker, in whatever order the network allows

    def show_offline(self, arrived_at: datetime) -> None:
        self.stage, self.arrived = "offline", f"{arrived_at:%H:%M}"
        self._paint()

    def show_refused(self, reason: str) -> None:
        self.stage, self.refusal = "refused", reason
        self._paint()

    def show_ticket(
        self, ticket: p.TicketView, greeting: str, *, info: str | None, closing: bool
    ) -> None:
        self.stage = "printing"
        self.ticket, self.greeting, self.info, self.closing = ticket, greeting, info, closing
        self._paint()

    def show_print_result(self, *, printed: bool) -> None:
        self.stage = "printed" if printed else "on_screen"
        self._paint()

    # -- drawing

    def _paint(self) -> None:
        if not self._ready or self not in self.app.screen_stack:
            return  # not drawn yet (on_mount paints), or the visitor has already left
        t = self.kiosk.t
        stage, ticket = self.stage, self.ticket
        progress = {
            "pending": t("getting_ticket"),
            "offline": t("offline"),
            "refused": t("refused"),
        }.get(stage, "")
        detail = {
            "offline": t("offline_detail", time=self.arrived),
            "refused": self.refusal,
        }.get(stage, "")
        self.show_text("#progress", progress)
        self.show_text("#progress-detail", detail)
        self.query_one("#progress").set_class(stage in ("offline", "refused"), "-alert")
        self.set_class(ticket is None, "-waiting")
        self.query_one("#progress-service").display = ticket is None
        self.query_one("#ticket").display = ticket is not None
        if ticket is not None:
            self._paint_ticket(ticket)
        self.show_text(
            "#print-status",
            {
                "printing": t("printing"),
                "printed": t("printed"),
                "on_screen": t("print_failed", number=ticket.number if ticket else ""),
            }.get(stage, ""),
        )
        self.query_one("#print-status").set_class(stage == "on_screen", "-alert")
        self.query_one("#qr-panel").display = stage == "on_screen"
        done = self.query_one("#done", Button)
        done.label = t("finish" if stage == "offline" else "done")
        done.display = stage != "pending"
        back = self.query_one("#back", Button)
        back.label = t("back")
        back.display = stage == "refused"
        if done.display and self.focused is None:
            done.focus()
        self.shown = stage

    def _paint_ticket(self, ticket: p.TicketView) -> None:
        t = self.kiosk.t
        self.show_text("#greeting", self.greeting)
        self.show_text("#your-number", t("your_number", number=ticket.number))
        self.query_one("#number", BigNumber).show(ticket.number)
        self.show_text("#service-name", self.service_name)
        self.show_text("#wait", wait_sentence(t, ticket))
        self.show_text("#estimate-note", t("estimate_note") if ticket.estimate else "")
        self.show_text("#closing-note", t("closing_note") if self.closing else "")
        self.show_text("#info", self.info or "")
        qr = self.query_one("#qr", QrBlock)
        if qr.data != ticket.status_url:
            qr.show(ticket.status_url)
        self.show_text("#qr-caption", t("scan_hint"))

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.kiosk.go_home()
