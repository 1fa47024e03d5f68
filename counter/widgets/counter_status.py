"""The top bar: which counter this is, its state, who is signed in, and the link to the server."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from counter.labels import STATE_HINTS, STATE_LABELS
from counter.model import CounterModel

STATE_TONES = {
    "closed": "grey50",
    "open": "green",
    "calling": "yellow",
    "serving": "dodger_blue2",
    "break": "medium_purple1",
}


class CounterStatus(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static(id="counter-state")
        yield Static(id="link")

    def show(self, model: CounterModel) -> None:
        counter = model.counter
        state = model.state
        tone = STATE_TONES.get(state, "white")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{counter.name if counter else model.counter_id}  ", style="bold")
        text.append(f" {STATE_LABELS.get(state, state).upper()} ", style=f"bold black on {tone}")
        text.append(f"  {STATE_HINTS.get(state, '')}", style="italic")
        self.query_one("#counter-state", Static).update(text)
        signed_in = counter.staff if counter and counter.staff else "nobody"
        link = Text(no_wrap=True, justify="right")
        link.append("Signed in: ")
        link.append(signed_in, style="bold")
        link.append("   ")
        if model.connected:
            link.append("● connected", style="green")
        else:
            link.append("○ reconnecting…", style="bold red")
        self.query_one("#link", Static).update(link)
