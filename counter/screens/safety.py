"""The silent safety alert: a deliberate second key, then the office's checklist.

Nothing on screen may tell a visitor at the counter that an alert went out: the confirmation
step is one small neutral line at the bottom, the acknowledgement a short neutral toast, and no
colours change. The alert itself goes to supervisors only (the server never sends it to a
display). The checklist follows, and can be put away and reopened with one key.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from counter.screens.form import FormScreen, form_box, form_end
from counter.session import Session
from lobby import protocol as p
from lobby.client import LobbyClient


class AlertConfirmScreen(ModalScreen[bool]):
    """Second step of the alert key: Enter sends, anything else (Esc) does not."""

    BINDINGS = [
        Binding("enter,y", "answer(True)", "Send", show=False),
        Binding("escape,n", "answer(False)", "Cancel", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static("^E  Enter: send · Esc: cancel", id="alert-confirm")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ChecklistScreen(FormScreen):
    BINDINGS = [Binding("escape", "cancel", "Later")]

    def __init__(self, session: Session, alert_id: int, items: list[str], done: list[int]) -> None:
        super().__init__(session)
        self.alert_id = alert_id
        self.items = items
        self.done = set(done)
        self.saved: p.AlertView | None = None

    def compose(self) -> ComposeResult:
        with form_box("Checklist", "checklist-form"):
            yield Static(
                "Your supervisors have been told. Tick each step once it is done.",
                classes="form-lead",
            )
            for index, item in enumerate(self.items):
                yield Checkbox(item, index in self.done, id=f"item-{index}")
            yield Label("What happened (time, description, what was said)")
            yield Input(id="note", max_length=2000)
            yield from form_end(Button("Save", id="save", variant="primary"), back="Later")
        yield Footer()

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        done = [i for i in range(len(self.items)) if self.query_one(f"#item-{i}", Checkbox).value]
        note = self.query_one("#note", Input).value.strip() or None
        self.done = set(done)

        async def record(client: LobbyClient) -> p.AlertView:
            self.saved = await client.checklist(self.alert_id, done, note)
            return self.saved

        total = len(self.items)
        self.send(record, lambda _: f"Checklist saved ({len(done)} of {total} done).")
