"""A walk-in: a ticket created at the counter for someone who came straight to it.

The ticket joins the queue like any other (first come, first served). The request id is made
once per form, so pressing "Create" again after a network failure never makes a second ticket.
"""

from __future__ import annotations

import secrets

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static

from counter.labels import ADDRESS_CHOICES, NEED_LABELS, language_name
from counter.screens.form import FormScreen, form_box, form_end
from counter.session import Session
from lobby import protocol as p


class WalkInScreen(FormScreen):
    def __init__(
        self,
        session: Session,
        services: list[p.ServiceView],
        preferred: list[str],
        languages: list[str],
    ) -> None:
        super().__init__(session)
        order = {service_id: i for i, service_id in enumerate(preferred)}
        self.services = sorted(services, key=lambda s: order.get(s.id, len(order)))
        self.languages = languages or ["en"]
        self.request_id = f"walkin-{secrets.token_hex(8)}"

    def compose(self) -> ComposeResult:
        with form_box("Walk-in", "walk-in-form"):
            yield Static(
                "Creates a ticket that joins the queue. Name and needs are optional.",
                classes="form-lead",
            )
            yield Label("Service")
            yield Select(
                [(s.name, s.id) for s in self.services],
                value=self.services[0].id if self.services else Select.NULL,
                allow_blank=False,
                id="service",
            )
            yield Label("Name (optional)")
            yield Input(placeholder="As the visitor gives it", id="name", max_length=80)
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label("Address them as")
                    yield Select(ADDRESS_CHOICES, value="number", allow_blank=False, id="address")
                with Vertical():
                    yield Label("Language")
                    yield Select(
                        [(language_name(code), code) for code in self.languages],
                        value=self.languages[0],
                        allow_blank=False,
                        id="language",
                    )
            yield Label("Accessibility needs")
            yield SelectionList[str](
                *((label, need) for need, label in NEED_LABELS.items()), id="needs"
            )
            yield from form_end(Button("Create ticket", id="create", variant="primary"))
        yield Footer()

    COMPACT_BELOW = 32
    """Rows under which the form drops its borders and spacing: at 80x24 every field and
    button must still be on screen, each reachable with Tab."""

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        compact = self.app.size.height < self.COMPACT_BELOW
        self.query_one("#walk-in-form").set_class(compact, "-compact")
        for widget in self.query("Input, Select, SelectionList, Button"):
            widget.compact = compact  # type: ignore[attr-defined]

    @on(Button.Pressed, "#create")
    def create(self) -> None:
        service = self.query_one("#service", Select).value
        if not isinstance(service, str):
            self.show_error("Choose a service.")
            return
        name = self.query_one("#name", Input).value.strip() or None
        address = self.query_one("#address", Select).value
        language = self.query_one("#language", Select).value
        needs = list(self.query_one("#needs", SelectionList).selected)
        request = p.CheckInRequest(
            service=service,
            client_request_id=self.request_id,
            name=name,
            address_as=address if name and isinstance(address, str) else None,  # type: ignore[arg-type]
            language=language if isinstance(language, str) else None,
            needs=needs,
        )
        self.send(
            lambda client: client.check_in(request),
            lambda ticket: (
                f"Walk-in ticket {ticket.number} created"
                + (f", position {ticket.position}." if ticket.position else ".")
            ),
        )
