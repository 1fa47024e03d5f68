"""The "Not sure?" answer: a person, not a guess. No ticket is issued."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Static

from kiosk.screens.kiosk_screen import KioskScreen


class FrontDeskScreen(KioskScreen):
    AUTO_FOCUS = "#ok"

    def compose(self) -> ComposeResult:
        t = self.kiosk.t
        with Vertical(id="front-desk"):
            yield Static(t("front_desk_title"), id="front-desk-title", markup=False)
            yield Static(t("front_desk_body"), id="front-desk-body", markup=False)
            with Center():
                yield Button(t("ok"), id="ok")

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.go_back()
