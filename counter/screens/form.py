"""Base of the desk's forms: send one command, close only once the server has accepted it.

If the server refuses or cannot be reached, the reason shows inside the form and everything the
clerk typed stays, so a note is never lost to a network hiccup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from counter.session import Session
from lobby.client import LobbyClient

T = TypeVar("T")


class FormScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._accepted = False

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#back")
    def back(self) -> None:
        self.dismiss(False)

    def show_error(self, message: str) -> None:
        error = self.query_one(".form-error", Static)
        error.update(message)
        error.display = bool(message)

    def send(
        self, call: Callable[[LobbyClient], Awaitable[T]], done: Callable[[T], str] | None = None
    ) -> None:
        self.run_worker(self._send(call, done), group="send", exclusive=True, exit_on_error=False)

    async def _send(
        self, call: Callable[[LobbyClient], Awaitable[T]], done: Callable[[T], str] | None
    ) -> None:
        self._busy(True)
        outcome = await self.session.attempt(call)
        if not self.is_attached:
            return
        if outcome.error is not None:
            self._busy(False)
            self.show_error(outcome.error)
            return
        if done is not None and outcome.result is not None:
            self.app.notify(done(outcome.result), timeout=4)
        self._accepted = True
        if self.app.screen is self:
            self.dismiss(True)

    def on_screen_resume(self) -> None:
        """Another screen (the alert key) opened over this form while it was sending."""
        if self._accepted:
            self.dismiss(True)

    def _busy(self, busy: bool) -> None:
        for button in self.query(Button):
            button.disabled = busy
        if busy:
            self.show_error("")


def form_box(title: str, box_id: str | None = None) -> Vertical:
    """The bordered box every form sits in, titled in its border."""
    box = Vertical(classes="form", id=box_id)
    box.border_title = title
    return box


def form_end(*buttons: Button, back: str = "Back") -> ComposeResult:
    """The form's buttons, its way back (Esc) on the right, and the line its errors show on."""
    yield Horizontal(
        *buttons, Button(f"{back}  [b]esc[/b]", id="back", classes="back"), classes="form-buttons"
    )
    error = Static("", classes="form-error")
    error.display = False
    yield error
