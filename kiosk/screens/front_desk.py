"""The "Not sure?" answer: a person, not a guess. No ticket is issued."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from kiosk.app import KioskApp


class FrontDeskScreen(Screen[None]):
    AUTO_FOCUS = "#ok"

    def compose(self) -> ComposeResult:
        t = cast("KioskApp", self.app).t
        with Vertical(id="front-desk"):
            yield Static(t("front_desk_title"), id="front-desk-title", markup=False)
            yield Static(t("front_desk_body"), id="front-desk-body", markup=False)
            with Center():
                yield Button(t("ok"), id="ok")

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.app.pop_screen()
