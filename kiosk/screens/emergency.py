"""Emergency mode: the kiosk takes no check-in and shows the office's instruction.

Pushed over everything the moment the office's state carries an emergency (the visitor who was
choosing a service is sent back first, and what they had typed is forgotten: nothing is kept);
taken away when it ends. It has no button: there is nothing to do here but follow the
instruction. The words are the server's, in every office language (:mod:`lobby.emergency`).
"""

from __future__ import annotations

from textual.app import ComposeResult

from kiosk.screens.kiosk_screen import KioskScreen
from lobby import protocol as p
from lobby.emergency import EmergencyPanel


class EmergencyScreen(KioskScreen):
    AUTO_FOCUS = ""

    def __init__(self, emergency: p.EmergencyView) -> None:
        super().__init__()
        self.emergency = emergency

    def compose(self) -> ComposeResult:
        yield EmergencyPanel(self.emergency, id="emergency")

    def show(self, emergency: p.EmergencyView) -> None:
        self.emergency = emergency
        if self.is_mounted:
            self.panel.show(emergency)

    @property
    def panel(self) -> EmergencyPanel:
        return self.query_one(EmergencyPanel)

    def go_back(self) -> None:
        """No way back while it lasts: the end of the emergency takes the screen away."""
