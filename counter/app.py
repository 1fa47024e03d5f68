"""The counter-staff terminal: ``lobby counter --server URL --counter ID``.

The app signs the clerk in (which opens the counter), then follows the live stream for the whole
shift: the stream reconnects and resumes by itself, and the session token outlives a server
restart, so a dropped link shows as a banner and heals without the clerk doing anything.
Each stream message is applied here and only here, then :attr:`CounterApp.changed` tells the
screens to redraw: they render the model and never fold anything themselves. When a message
brings an emergency the desk shows it, and the app tells the server this counter does.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from counter.actions import ALERT_KEY
from counter.model import CounterModel
from counter.screens.confirm import ConfirmScreen
from counter.screens.desk import DeskScreen
from counter.screens.form import FormScreen
from counter.screens.safety import AlertConfirmScreen, ChecklistScreen
from counter.screens.sign_in import SignInScreen
from counter.session import SIGNED_OUT, UNREACHABLE, Session
from lobby import protocol as p
from lobby.client import ApiError, live
from lobby.emergency import Acknowledgements, EmergencyPanel, acknowledge, showing

ALERT_ATTEMPTS = 3


class CounterApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Lobby counter"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        # Not in the footer: the visitor across the counter must not read that it exists.
        Binding(ALERT_KEY, "safety_alert", "Alert", priority=True, show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        server_url: str,
        counter_id: str,
        *,
        preview: p.StateSnapshot | None = None,
        reconnect_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0),
    ) -> None:
        """``preview`` shows that state without a server (screenshots, snapshot tests)."""
        super().__init__()
        self.counter_id = counter_id
        self.preview = preview is not None
        self._preview_state = preview
        self.reconnect_delays = reconnect_delays
        self.session = Session(server_url, counter_id)
        self.session.on_signed_out = self.signed_out
        self.model = CounterModel(counter_id)
        self.changed: Signal[None] = Signal(self, "changed")
        self._linked_before = False
        self.acknowledgements = Acknowledgements()
        self._emergency_seen: int | None = None

    def on_mount(self) -> None:
        if self._preview_state is not None:
            state = self._preview_state
            self.model.apply(p.StreamSnapshot(seq=state.seq, state=state))
            self.model.connected = True
            self.push_screen(self._desk())
        else:
            self.push_screen(self._sign_in_screen())

    async def on_unmount(self) -> None:
        await self.session.close()

    def _sign_in_screen(self, message: str = "") -> SignInScreen:
        return SignInScreen(self.session, f"counter {self.counter_id}", message)

    def _desk(self) -> DeskScreen:
        return DeskScreen(self.model, self.session, self.changed)

    # ------------------------------------------------------------- session

    async def on_sign_in_screen_signed_in(self, _: SignInScreen.SignedIn) -> None:
        self.model = CounterModel(self.counter_id)
        self._linked_before = False
        await self._replace_screens(self._desk())
        self.follow_stream()

    def signed_out(self) -> None:
        """The server no longer knows this session: back to sign-in, with a plain reason."""
        self.workers.cancel_group(self, "stream")
        self.model.connected = False
        self.run_worker(self._replace_screens(self._sign_in_screen(SIGNED_OUT)), group="screens")

    async def _replace_screens(self, screen: Screen[None]) -> None:
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(screen)

    # -------------------------------------------------------------- stream

    @work(exclusive=True, group="stream", exit_on_error=False)
    async def follow_stream(self) -> None:
        token = self.session.token
        if token is None:
            return
        try:
            async for message in live(
                self.session.server_url,
                token,
                on_connection=self._connection_changed,
                reconnect_delays=self.reconnect_delays,
            ):
                self.model.apply(message)
                self.changed.publish(None)
                await self._close_forms_for(self.model.emergency)
        except ApiError:
            self.signed_out()

    async def _close_forms_for(self, emergency: p.EmergencyView | None) -> None:
        """A new emergency closes the form the clerk was filling in (a half-typed note is
        lost), so the desk with the instruction is what they see. A safety alert's screens
        stay: that alert is an emergency of its own."""
        if emergency is None or emergency.id == self._emergency_seen:
            return
        self._emergency_seen = emergency.id
        while isinstance(self.screen, FormScreen | ConfirmScreen) and not isinstance(
            self.screen, ChecklistScreen
        ):
            await self.pop_screen()
        self.changed.publish(None)

    def on_emergency_panel_shown(self, event: EmergencyPanel.Shown) -> None:
        if self.session.signed_in and self.acknowledgements.due(event.emergency):
            self.acknowledge_emergency(event.emergency)

    @work(group="emergency-ack", exit_on_error=False)
    async def acknowledge_emergency(self, emergency_id: int) -> None:
        """Tell the server this counter shows the emergency, until it answers."""
        counter_id = self.counter_id
        model = self.model

        if await acknowledge(
            lambda: self.session.client.emergency_ack(emergency_id, counter_id),
            lambda: showing(model.office.office, emergency_id),
        ):
            self.acknowledgements.answered.append(emergency_id)

    def _connection_changed(self, connected: bool) -> None:
        """Only a link that was up and came back is a reconnection worth a word."""
        model = self.model
        if connected == model.connected:
            return
        model.connected = connected
        if connected and self._linked_before:
            self.notify("Connected to the server again.", timeout=3)
        elif not connected:
            self.notify(
                "Lost the connection to the server. Reconnecting…", severity="warning", timeout=5
            )
        self._linked_before |= connected
        self.changed.publish(None)

    # ---------------------------------------------------------------- quit

    async def action_quit(self) -> None:
        """Leaving closes the counter and ends the session.

        An open counter nobody sits at would be counted as idle while visitors wait, and its
        session would stay valid on a shared terminal. A counter still with a visitor asks first.
        """
        if self.preview or not self.session.signed_in:
            self.exit()
            return
        current = self.model.current
        if current is None:
            self.leave(close_counter=True)
            return
        question = (
            f"{self.model.office.counter_name(self.counter_id)} is still with {current.number}. "
            "Quit and leave the counter open?"
        )

        def answered(leave: bool | None) -> None:
            if leave:
                self.leave(close_counter=False)

        self.push_screen(ConfirmScreen(question, yes="Quit"), answered)

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def leave(self, close_counter: bool) -> None:
        if close_counter and self.model.state != "closed":
            await self.session.attempt(lambda c: c.counter_action(self.counter_id, "close"))
        await self.session.attempt(lambda c: c.request("POST", "/api/logout"))
        self.exit()

    # -------------------------------------------------------- safety alert

    @property
    def can_alert(self) -> bool:
        return self.session.signed_in or self.preview

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_alert if action == "safety_alert" else True

    def action_safety_alert(self) -> None:
        if isinstance(self.screen, AlertConfirmScreen) or not self.can_alert:
            return
        self.push_screen(AlertConfirmScreen(), self._alert_confirmed)

    def _alert_confirmed(self, send: bool | None) -> None:
        if send:
            self.send_alert()

    @work(group="alert", exit_on_error=False)
    async def send_alert(self) -> None:
        """Retried with the same request id: the server records one alert however many arrive."""
        request_id = f"alert-{secrets.token_hex(8)}"
        counter_id = self.counter_id
        error = UNREACHABLE
        for _ in range(ALERT_ATTEMPTS):
            outcome = await self.session.attempt(lambda c: c.safety_alert(counter_id, request_id))
            if outcome.result is not None:
                self.model.alert = outcome.result
                self.model.alert_done = []
                self.notify("Sent.", timeout=3)
                self.open_checklist()
                return
            error = outcome.error or error
            if error != UNREACHABLE:
                break
        self.notify(f"^E not sent. {error} Use the phone.", timeout=12)

    def on_desk_screen_checklist_wanted(self, _: DeskScreen.ChecklistWanted) -> None:
        self.open_checklist()

    def open_checklist(self) -> None:
        model = self.model
        alert = model.alert
        if alert is None or isinstance(self.screen, ChecklistScreen):
            return
        screen = ChecklistScreen(self.session, alert.id, model.checklist, model.alert_done)

        def closed(_: bool | None) -> None:
            model.alert_done = sorted(screen.done)
            if screen.saved is not None and screen.saved.resolved:
                model.alert = None
            self.changed.publish(None)

        self.push_screen(screen, closed)


def main(args: argparse.Namespace) -> int:
    server = str(args.server)
    if not server.startswith(("http://", "https://")):
        print(
            f"lobby counter: --server must be a URL like http://host:8080, not {server!r}",
            file=sys.stderr,
        )
        return 2
    CounterApp(server, str(args.counter)).run()
    return 0
