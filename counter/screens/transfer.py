"""Referring a visitor to another service. The visitor keeps their original arrival time."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from counter.screens.form import FormScreen, form_box, form_end
from counter.session import Session
from lobby import protocol as p


class TransferScreen(FormScreen):
    def __init__(
        self, session: Session, ticket: p.TicketView, services: list[p.ServiceView]
    ) -> None:
        super().__init__(session)
        self.ticket = ticket
        self.services = [s for s in services if s.id != ticket.service]

    def compose(self) -> ComposeResult:
        with form_box(f"Transfer {self.ticket.number}", "transfer-form"):
            yield Static(
                f"From [b]{self.ticket.service_name or self.ticket.service}[/b]. "
                "The visitor keeps their place by arrival time.",
                classes="form-lead",
            )
            yield Label("To which service?")
            yield OptionList(
                *(Option(_service_line(s), id=s.id) for s in self.services), id="services"
            )
            yield Label("Note for the next clerk (optional)")
            yield Input(placeholder="Why, and what was already done", id="note", max_length=2000)
            yield from form_end(Button("Transfer", id="transfer", variant="primary"))
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#services", OptionList)
        if self.services:
            options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#services")
    def service_chosen(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    @on(Button.Pressed, "#transfer")
    def submit(self) -> None:
        options = self.query_one("#services", OptionList)
        index = options.highlighted
        if index is None or not self.services:
            self.show_error("Choose the service to transfer to.")
            return
        service = self.services[index]
        note = self.query_one("#note", Input).value.strip() or None
        request = p.TransferRequest(service=service.id, note=note)
        number = self.ticket.number
        self.send(
            lambda client: client.ticket_action(self.ticket.id, "transfer", request),
            lambda _: f"{number} transferred to {service.name}.",
        )


def _service_line(service: p.ServiceView) -> str:
    closed = "  (closed)" if service.state == "closed" else ""
    return f"{service.name}  ·  {service.waiting} waiting{closed}"
