"""A form with one line of text (a note, a debrief reason) about one visitor."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, Static

from counter.screens.form import FormScreen, error_line
from counter.session import Session
from lobby import protocol as p


class TextFormScreen(FormScreen):
    TITLE_TEXT = ""
    LEAD = ""
    LABEL = ""
    PLACEHOLDER = ""
    SUBMIT = "Save"
    MAX_LENGTH = 500
    EMPTY = "Write something first."

    def __init__(self, session: Session, ticket: p.TicketView) -> None:
        super().__init__(session)
        self.ticket = ticket

    def compose(self) -> ComposeResult:
        with Vertical(classes="form text-form") as form:
            form.border_title = f"{self.TITLE_TEXT} {self.ticket.number}"
            yield Static(self.LEAD, classes="form-lead")
            yield Label(self.LABEL)
            yield Input(placeholder=self.PLACEHOLDER, id="text", max_length=self.MAX_LENGTH)
            with Horizontal(classes="form-buttons"):
                yield Button(self.SUBMIT, id="submit", variant="primary")
                yield Button("Back  [b]esc[/b]", id="back", classes="back")
            yield error_line()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    @on(Button.Pressed, "#back")
    def back(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#text")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.show_error(self.EMPTY)
            return
        self.submit_text(text)

    def submit_text(self, text: str) -> None:
        raise NotImplementedError
