"""Completing a visit: "Were the visitor's needs met?" and the notes that go with the ticket."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Footer, Input, Label, Static

from counter.screens.form import FormScreen, form_box, form_end
from counter.session import Session
from lobby import protocol as p

ANSWERS = {"needs-yes": True, "needs-no": False, "needs-skip": None}


class CompleteScreen(FormScreen):
    BINDINGS = [
        Binding("y", "answer('needs-yes')", "Yes"),
        Binding("n", "answer('needs-no')", "No"),
        Binding("s", "answer('needs-skip')", "Skip"),
    ]

    def __init__(self, session: Session, ticket: p.TicketView) -> None:
        super().__init__(session)
        self.ticket = ticket

    def compose(self) -> ComposeResult:
        who = self.ticket.addressed_as or self.ticket.number
        with form_box(f"Complete {self.ticket.number}", "complete-form"):
            yield Static(f"Finishing the visit with [b]{who}[/b].", classes="form-lead")
            yield Label("Notes for the record (optional)")
            yield Input(placeholder="What was done, what to follow up", id="notes", max_length=2000)
            yield Static("Were the visitor's needs met?", classes="form-question")
            yield from form_end(
                Button("Yes  [b]y[/b]", id="needs-yes", variant="success"),
                Button("No  [b]n[/b]", id="needs-no", variant="error"),
                Button("Skip  [b]s[/b]", id="needs-skip"),
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#needs-yes", Button).focus()

    @on(Input.Submitted, "#notes")
    def notes_done(self) -> None:
        self.query_one("#needs-yes", Button).focus()

    @on(Button.Pressed, "#needs-yes, #needs-no, #needs-skip")
    def pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id or "needs-skip")

    def action_answer(self, answer: str) -> None:
        if self.query_one("#needs-yes", Button).disabled:
            return
        notes = self.query_one("#notes", Input).value.strip() or None
        request = p.CompleteRequest(needs_met=ANSWERS[answer], notes=notes)
        number = self.ticket.number
        self.send(
            lambda client: client.ticket_action(self.ticket.id, "complete", request),
            lambda _: f"{number} completed.",
        )
