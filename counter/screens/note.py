"""Add a note to the visitor's ticket; notes travel with it across transfers."""

from __future__ import annotations

from counter.screens.text_form import TextFormScreen
from lobby import protocol as p


class NoteScreen(TextFormScreen):
    TITLE_TEXT = "Note on"
    LEAD = "Staff only. The note stays with the ticket, also after a transfer."
    LABEL = "Note"
    PLACEHOLDER = "What the next person should know"
    SUBMIT = "Save note"
    MAX_LENGTH = 2000
    EMPTY = "Write the note first."

    def submit_text(self, text: str) -> None:
        number = self.ticket.number
        self.send(
            lambda client: client.ticket_action(self.ticket.id, "notes", p.NoteRequest(text=text)),
            lambda _: f"Note added to {number}.",
        )
