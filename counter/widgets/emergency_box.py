"""The desk in emergency mode: the visitors' instruction, as every screen shows it, and the
staff checklist under it, in place of the visitor and queue panels.

Both come from the server (``office.emergency``): the instruction in every office language (the
visitor across the counter reads it too), the checklist in the office's first language. The
checklist is a reminder, not a form: the clerk's job now is the building, not the terminal.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from counter.labels import LANGUAGE, TEXTS
from lobby import protocol as p
from lobby.emergency import EmergencyPanel


class EmergencyBox(Vertical):
    def compose(self) -> ComposeResult:
        yield EmergencyPanel(id="emergency-panel")
        yield Static(id="emergency-checklist")

    def show(self, emergency: p.EmergencyView | None) -> None:
        self.display = emergency is not None
        self.query_one(EmergencyPanel).show(emergency)
        checklist = self.query_one("#emergency-checklist", Static)
        items = emergency.checklist if emergency else []
        checklist.display = bool(items)
        text = Text(TEXTS.text(LANGUAGE, "emergency_checklist"), style="bold")
        for i, item in enumerate(items, 1):
            text.append(f"\n {i}. {item}", style="not bold")
        checklist.update(text)
