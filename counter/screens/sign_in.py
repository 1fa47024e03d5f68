"""Sign-in: name and password, and the counter opens in the same step.

The form also tells the clerk the safety alert key, the one place it is written: the desk shows
it nowhere, since the visitor across the counter can read the desk.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from counter.session import Session

ALERT_HINT = "Silent safety alert, at any time: Ctrl+E, then Enter. The desk does not show it."


class SignInScreen(Screen[None]):
    class SignedIn(Message):
        """The clerk is signed in and the counter is open."""

    def __init__(self, session: Session, counter_name: str, message: str = "") -> None:
        super().__init__()
        self.session = session
        self.counter_name = counter_name
        self.message = message

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="sign-in-form", classes="form") as form:
            form.border_title = f"Sign in to {self.counter_name}"
            yield Static("Signing in opens this counter for visitors.", classes="form-lead")
            yield Label("Name")
            yield Input(id="name", max_length=80)
            yield Label("Password")
            yield Input(id="password", password=True, max_length=200)
            yield Button("Sign in", id="sign-in", variant="primary")
            yield Static(self.message, id="sign-in-error", classes="form-error")
            yield Static(ALERT_HINT, id="alert-hint", classes="form-lead")
            yield Static(f"Server: {self.session.server_url}", id="server-url")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sign-in-error", Static).display = bool(self.message)
        self.query_one("#name", Input).focus()

    @on(Input.Submitted, "#name")
    def name_done(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def submit(self) -> None:
        if self.query_one("#sign-in", Button).disabled:
            return
        name = self.query_one("#name", Input).value
        password = self.query_one("#password", Input).value
        self.sign_in(name, password)

    @work(exclusive=True, exit_on_error=False)
    async def sign_in(self, name: str, password: str) -> None:
        button = self.query_one("#sign-in", Button)
        button.disabled = True
        self.show_error("")
        outcome = await self.session.sign_in(name, password)
        if not self.is_attached:
            return
        button.disabled = False
        if outcome.error is not None:
            self.show_error(outcome.error)
            password_input = self.query_one("#password", Input)
            password_input.value = ""
            password_input.focus()
            return
        self.post_message(self.SignedIn())

    def show_error(self, message: str) -> None:
        error = self.query_one("#sign-in-error", Static)
        error.update(message)
        error.display = bool(message)
