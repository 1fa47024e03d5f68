"""Flag a visit for a supervisor debrief (after a difficult or negative situation)."""

from __future__ import annotations

from counter.screens.text_form import TextFormScreen
from lobby import protocol as p


class FlagScreen(TextFormScreen):
    TITLE_TEXT = "Flag for debrief:"
    LEAD = "Your supervisor will see this visit on the debrief list."
    LABEL = "What happened, in a few words"
    PLACEHOLDER = "e.g. visitor became upset about the fee"
    SUBMIT = "Flag"
    MAX_LENGTH = 500
    EMPTY = "Give a short reason so your supervisor knows what to ask about."

    def submit_text(self, text: str) -> None:
        number = self.ticket.number
        self.send(
            lambda client: client.ticket_action(self.ticket.id, "flag", p.FlagRequest(reason=text)),
            lambda _: f"{number} flagged for debrief.",
        )
