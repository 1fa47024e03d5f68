"""Optional details: name and form of address, the language to be served in, needs.

The data-practices notice comes first, before the name field, because consent means knowing what
happens to a name before typing it. Every field can be left alone; "Continue" with nothing filled
in is the same as never opening this screen.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kiosk.screens.kiosk_screen import KioskScreen
from kiosk.visit import ADDRESS_FORMS, NAME_MAX, NEEDS, VisitorDetails
from kiosk.widgets.choice_row import ChoiceRow


class DetailsScreen(KioskScreen):
    AUTO_FOCUS = "#name"

    def __init__(self, details: VisitorDetails) -> None:
        super().__init__()
        self.details = details

    def compose(self) -> ComposeResult:
        kiosk = self.kiosk
        t = kiosk.t
        days = kiosk.office.retention_days if kiosk.office else 30
        office_languages = kiosk.office.languages if kiosk.office else kiosk.languages
        with VerticalScroll(id="details", can_focus=False):
            yield Static(t("details_title"), id="details-title", markup=False)
            with Vertical(id="privacy") as privacy:
                privacy.border_title = t("privacy_title")
                own = kiosk.office.data_practices.get(kiosk.language) if kiosk.office else None
                body = own or t("privacy_body", days=days)  # the office's words, if it gave any
                yield Static(body, id="privacy-body", markup=False)
            yield Label(t("name_label"), classes="field-label", markup=False)
            yield Input(
                self.details.name,
                placeholder=t("name_placeholder"),
                max_length=NAME_MAX,
                id="name",
            )
            yield Label(t("address_label"), classes="field-label", markup=False)
            yield ChoiceRow(
                [(form, t(f"address_{form}")) for form in ADDRESS_FORMS],
                selected=(self.details.address_as,) if self.details.address_as else (),
                id="address",
            )
            yield Static(t("address_hint"), id="address-hint", markup=False)
            yield Label(t("served_language_label"), classes="field-label", markup=False)
            yield ChoiceRow(
                [(code, kiosk.catalogue.name(code)) for code in office_languages],
                selected=(self.details.language,) if self.details.language else (),
                id="served-language",
            )
            yield Label(t("needs_label"), classes="field-label", markup=False)
            yield ChoiceRow(
                [(need, t(f"need_{need}")) for need in NEEDS],
                multiple=True,
                selected=tuple(self.details.needs),
                id="needs",
            )
            with HorizontalGroup(id="details-actions"):
                yield Button(t("continue"), id="continue", classes="primary")
                yield Button(t("clear"), id="clear")
                yield Button(t("back"), id="back")

    def on_mount(self) -> None:
        self._update_hint()

    @on(Input.Changed, "#name")
    @on(ChoiceRow.Changed, "#address")
    def _update_hint(self) -> None:
        """Say, while it matters, that a name without a form of address means "by number"."""
        named = bool(self.query_one("#name", Input).value.strip())
        chosen = bool(self.query_one("#address", ChoiceRow).selected)
        self.query_one("#address-hint").visible = named and not chosen  # keeps its line: no jump

    def collected(self) -> VisitorDetails:
        address = self.query_one("#address", ChoiceRow).selected
        language = self.query_one("#served-language", ChoiceRow).selected
        return VisitorDetails(
            name=self.query_one("#name", Input).value,
            address_as=address[0] if address else None,
            language=language[0] if language else None,
            needs=list(self.query_one("#needs", ChoiceRow).selected),
        )

    @on(Input.Submitted, "#name")
    def _name_entered(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self.kiosk.save_details(self.collected())

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.query_one("#name", Input).value = ""
        for row in self.query(ChoiceRow):
            row.select(())
        self._update_hint()
        self.query_one("#name", Input).focus()
