"""Service choice: one big button per service with its queue as a new arrival would meet it.

Touching an open service checks the visitor in at once (the language choice and this touch are
the two taps). Details are optional and offered before, through their own button, so the
fastest path never passes through a form. Closed services stay visible, disabled, with their
hours, so a visitor learns when to come back instead of wondering where the service went.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Static

from kiosk.screens.kiosk_screen import KioskScreen
from kiosk.wording import service_line
from lobby import protocol as p
from lobby.state import in_language


class ServiceChoiceScreen(KioskScreen):
    AUTO_FOCUS = ".service"

    def compose(self) -> ComposeResult:
        t = self.kiosk.t
        with Vertical(id="services-screen"):
            yield Static(id="office-bar", markup=False)
            yield Static(t("services_title"), id="services-title", markup=False)
            yield Static(t("services_hint"), id="services-hint", markup=False)
            yield Static(id="notice", markup=False)
            yield Static(t("services_unavailable"), id="services-unavailable", markup=False)
            yield VerticalScroll(id="service-list", can_focus=False)
            yield Static(t("details_added"), id="details-summary", markup=False)
            with HorizontalGroup(id="services-actions"):
                yield Button(t("add_details"), id="add-details")
                yield Button(t("back"), id="back")

    def on_mount(self) -> None:
        self.watch(self.app, "services", self._show_services)
        self.watch(self.app, "office", self._show_office)
        self.watch(self.app, "connected", self._show_services)

    def on_screen_resume(self) -> None:
        """Coming back from the details form: say whether details will be sent."""
        added = not self.kiosk.details.is_empty()
        self.query_one("#details-summary").display = added
        self.query_one("#add-details", Button).label = self.kiosk.t(
            "edit_details" if added else "add_details"
        )

    def _show_office(self) -> None:
        office = self.kiosk.office
        self.query_one("#office-bar", Static).update(office.name if office else "")
        language = self.kiosk.language
        self.show_text(
            "#notice", in_language(office.notices, language, office.notice) if office else ""
        )

    def _show_services(self) -> None:
        """One button per service, then "Not sure?" (a button with no name), painted afresh."""
        self.query_one("#services-unavailable").display = not self.kiosk.services
        self.rebuild_buttons(
            self.query_one("#service-list", VerticalScroll),
            lambda: [*(s.id for s in self.kiosk.services), None] if self.kiosk.services else [],
            self._buttons,
            then=self._paint_all,
        )

    def _buttons(self, names: Sequence[str | None]) -> list[Widget]:
        """Buttons painted before they are mounted: none is ever seen, or pressed, blank."""
        services = {s.id: s for s in self.kiosk.services}
        buttons: list[Widget] = []
        for i, name in enumerate(names):
            service = services.get(name or "")
            if service is not None:
                button = Button("", id=f"service-{i}", name=name, classes="service")
                self._paint(button, service)
                buttons.append(button)
        return [*buttons, Button(self.kiosk.t("not_sure"), id="not-sure")] if buttons else []

    def _paint_all(self) -> None:
        services = {s.id: s for s in self.kiosk.services}
        for button in self.query(".service").results(Button):
            service = services.get(button.name or "")
            if service is not None:
                self._paint(button, service)
        self.focus_first(".service")

    def _paint(self, button: Button, service: p.ServiceView) -> None:
        t = self.kiosk.t
        parts: list[str | tuple[str, str]] = [
            (in_language(service.names, t.language, service.name), "bold"),
            "\n",
            service_line(t, service),
        ]
        if service.state == "closing":
            parts += ["\n", (t("service_closing"), "italic")]
        button.label = Content.assemble(*parts)
        button.disabled = service.state == "closed"
        button.set_class(service.state == "closing", "-closing")

    @on(Button.Pressed, ".service")
    def _choose(self, event: Button.Pressed) -> None:
        assert event.button.name is not None
        self.kiosk.check_in(event.button.name)

    @on(Button.Pressed, "#not-sure")
    def _not_sure(self) -> None:
        self.kiosk.ask_front_desk()

    @on(Button.Pressed, "#add-details")
    def _details(self) -> None:
        self.kiosk.open_details()

    def go_back(self) -> None:
        """Back to the welcome screen is starting over: nothing typed stays for the next person."""
        self.kiosk.go_home()
