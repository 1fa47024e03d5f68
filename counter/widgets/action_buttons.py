"""The desk's actions as buttons, for a mouse or a touch screen; the same as the footer keys.

The safety alert has no button: a word on screen in view of the visitor would give it away.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Button

from counter.actions import DESK_ACTIONS


class ActionButtons(Grid):
    def compose(self) -> ComposeResult:
        for item in DESK_ACTIONS:
            yield Button(f"{item.label}  [b]{item.key}[/b]", id=item.action, classes="action")

    def sync(self, shows: Callable[[str], bool], allows: Callable[[str], bool]) -> None:
        for button in self.query(Button):
            action = button.id or ""
            button.display = shows(action)
            button.disabled = not allows(action)
