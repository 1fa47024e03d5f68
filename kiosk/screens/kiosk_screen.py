"""What every kiosk screen shares: the typed app, the "Back" button, optional text lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.screen import Screen
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from kiosk.app import KioskApp


class KioskScreen(Screen[None]):
    @property
    def kiosk(self) -> KioskApp:
        return cast("KioskApp", self.app)

    def show_text(self, selector: str, text: str) -> None:
        """Fill a line, or take it out of the layout while it has nothing to say."""
        widget = self.query_one(selector, Static)
        widget.update(text)
        widget.display = bool(text)

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.go_back()

    def go_back(self) -> None:
        """Where "Back" leads: the screen underneath, unless a screen says otherwise."""
        self.app.pop_screen()
