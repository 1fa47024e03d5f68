"""One line of text about one visitor: a note on the ticket, or a flag for a supervisor debrief.

The two differ only in their words and the command they send, so each is a :class:`TextForm`
shown by the same screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Footer, Input, Label, Static

from counter.screens.form import FormScreen, form_box, form_end
from counter.session import Session
from lobby import protocol as p


@dataclass(frozen=True)
class TextForm:
    title: str
    lead: str
    label: str
    placeholder: str
    submit: str
    empty: str
    done: str
    """The acknowledgement, with ``{number}`` for the ticket number."""
    action: str
    """The ticket command the text is sent with."""
    body: Callable[[str], msgspec.Struct]
    max_length: int


NOTE = TextForm(
    title="Note on",
    lead="Staff only. The note stays with the ticket, also after a transfer.",
    label="Note",
    placeholder="What the next person should know",
    submit="Save note",
    empty="Write the note first.",
    done="Note added to {number}.",
    action="notes",
    body=lambda text: p.NoteRequest(text=text),
    max_length=2000,
)
FLAG = TextForm(
    title="Flag for debrief:",
    lead="Your supervisor will see this visit on the debrief list.",
    label="What happened, in a few words",
    placeholder="e.g. visitor became upset about the fee",
    submit="Flag",
    empty="Give a short reason so your supervisor knows what to ask about.",
    done="{number} flagged for debrief.",
    action="flag",
    body=lambda text: p.FlagRequest(reason=text),
    max_length=500,
)


class TextFormScreen(FormScreen):
    def __init__(self, session: Session, ticket: p.TicketView, form: TextForm) -> None:
        super().__init__(session)
        self.ticket = ticket
        self.form = form

    def compose(self) -> ComposeResult:
        form = self.form
        with form_box(f"{form.title} {self.ticket.number}"):
            yield Static(form.lead, classes="form-lead")
            yield Label(form.label)
            yield Input(placeholder=form.placeholder, id="text", max_length=form.max_length)
            yield from form_end(Button(form.submit, id="submit", variant="primary"))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    @on(Input.Submitted, "#text")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.show_error(self.form.empty)
            return
        form, ticket = self.form, self.ticket
        self.send(
            lambda client: client.ticket_action(ticket.id, form.action, form.body(text)),
            lambda _: form.done.format(number=ticket.number),
        )
