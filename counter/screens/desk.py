"""The desk: the main screen a clerk works in all day.

Everything shown comes from the counter's model, redrawn when the app signals that a stream
message changed it; every action is a footer key and a button, enabled only when the counter's
and the visitor's state allow it, so the clerk never meets an error for something the screen
let them try. In emergency mode the instruction and the staff checklist take the panels' place
and calling is paused (the server refuses a call meanwhile, so the queue resumes in order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import Button, Footer

from counter.actions import CHECKLIST_KEY, DESK_ACTIONS
from counter.labels import LANGUAGE, TEXTS, minutes_text
from counter.model import CounterModel
from counter.screens.complete import CompleteScreen
from counter.screens.confirm import ConfirmScreen
from counter.screens.text_form import FLAG, NOTE, TextFormScreen
from counter.screens.transfer import TransferScreen
from counter.screens.walk_in import WalkInScreen
from counter.session import Session
from counter.widgets.action_buttons import ActionButtons
from counter.widgets.banner import Banner
from counter.widgets.counter_status import CounterStatus
from counter.widgets.emergency_box import EmergencyBox
from counter.widgets.service_queues import ServiceQueues
from counter.widgets.visitor_card import VisitorCard
from lobby.client import LobbyClient

T = TypeVar("T")
DESK_ACTION_NAMES = frozenset(a.action for a in DESK_ACTIONS)
LINK_DOWN = "Not connected to the server. Reconnecting by itself; actions are paused."


class DeskScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        *(Binding(a.key, a.action, a.label) for a in DESK_ACTIONS),
        Binding(CHECKLIST_KEY, "checklist", "Checklist"),
    ]

    class ChecklistWanted(Message):
        """The clerk asked for the open safety alert's checklist again."""

    def __init__(self, model: CounterModel, session: Session, changed: Signal[None]) -> None:
        """``changed``: published by the app each time a stream message changed ``model``."""
        super().__init__()
        self.model = model
        self.session = session
        self.changed = changed
        self.busy = False
        self._controls: tuple[tuple[str, bool, bool], ...] = ()

    def compose(self) -> ComposeResult:
        yield CounterStatus(id="status")
        yield Banner(id="connection-banner", classes="banner")
        yield Banner(id="emergency-banner", classes="banner")
        yield Banner(id="idle-banner", classes="banner")
        with Horizontal(id="panels"):
            with VerticalScroll(id="visitor-panel") as visitor:
                visitor.border_title = "Visitor"
                yield VisitorCard(id="visitor")
            with Vertical(id="queue-panel") as queues:
                queues.border_title = "Queues this counter serves"
                yield ServiceQueues(id="queues")
        yield EmergencyBox(id="emergency-box")
        yield ActionButtons(id="actions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.changed.subscribe(self, lambda _: self.refresh_view())
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    # ------------------------------------------------------------ rendering

    def refresh_view(self) -> None:
        model = self.model
        self.query_one(CounterStatus).show(model)
        self.query_one("#connection-banner", Banner).show(None if model.connected else LINK_DOWN)
        emergency = model.emergency
        banner = self.query_one("#emergency-banner", Banner)
        banner.show(
            TEXTS.text(LANGUAGE, "drill_banner" if emergency.drill else "emergency_banner")
            if emergency
            else None
        )
        banner.set_class(emergency is not None and emergency.drill, "-drill")
        self.query_one(EmergencyBox).show(emergency)
        self.query_one("#panels").display = emergency is None
        nudge = model.idle_nudge if model.connected and emergency is None else None
        self.query_one("#idle-banner", Banner).show(
            f"{nudge.waiting} waiting for {minutes_text(nudge.longest_wait_min)}"
            " · press c to call the next visitor"
            if nudge
            else None
        )
        self.query_one(VisitorCard).show(model)
        self.query_one(ServiceQueues).show(model)
        controls = tuple((a, model.shows(a), self.enabled(a)) for a in sorted(DESK_ACTION_NAMES))
        controls += (("checklist", model.alert is not None, True),)
        if controls != self._controls:
            self._controls = controls
            self.query_one(ActionButtons).sync(model.shows, self.enabled)
            self.refresh_bindings()

    def enabled(self, action: str) -> bool:
        return not self.busy and self.model.allows(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "checklist":
            return self.model.alert is not None
        if action in DESK_ACTION_NAMES:
            if not self.model.shows(action):
                return False
            return True if self.enabled(action) else None
        return True

    @on(Button.Pressed, ".action")
    async def button_pressed(self, event: Button.Pressed) -> None:
        action = event.button.id or ""
        if self.enabled(action):
            await self.run_action(action)

    # ------------------------------------------------------------- commands

    def run_command(
        self, call: Callable[[LobbyClient], Awaitable[T]], done: Callable[[T], str]
    ) -> None:
        if self.busy:
            return
        self.busy = True
        self.refresh_view()
        self.run_worker(self._command(call, done), group="command", exit_on_error=False)

    async def _command(
        self, call: Callable[[LobbyClient], Awaitable[T]], done: Callable[[T], str]
    ) -> None:
        outcome = await self.session.attempt(call)
        if not self.is_attached:
            return
        self.busy = False
        if outcome.error is not None:
            self.notify(outcome.error, severity="warning", timeout=6)
        elif outcome.result is not None:
            self.notify(done(outcome.result), timeout=3)
        self.refresh_view()

    def _counter_command(self, action: str, message: str) -> None:
        counter_id = self.model.counter_id
        self.run_command(lambda c: c.counter_action(counter_id, action), lambda _: message)

    def _ticket_command(self, action: str, message: str) -> None:
        ticket = self.model.current
        if ticket is not None:
            self.run_command(
                lambda c: c.ticket_action(ticket.id, action), lambda t: f"{t.number} {message}"
            )

    def _form(self, screen: Screen[bool]) -> None:
        self.app.push_screen(screen, lambda _: self.refresh_view())

    # -------------------------------------------------------------- actions

    def action_call_next(self) -> None:
        counter_id = self.model.counter_id
        self.run_command(lambda c: c.call_next(counter_id), lambda t: f"Calling {t.number}.")

    def action_recall(self) -> None:
        self._ticket_command("recall", "called again.")

    def action_start(self) -> None:
        self._ticket_command("start", "is at the counter.")

    def action_no_show(self) -> None:
        ticket = self.model.current
        if ticket is None:
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._ticket_command("no-show", "marked as a no-show.")

        self.app.push_screen(
            ConfirmScreen(f"Mark {ticket.number} as a no-show? They lose their place.", "No-show"),
            confirmed,
        )

    def action_complete(self) -> None:
        ticket = self.model.current
        if ticket is not None:
            self._form(CompleteScreen(self.session, ticket))

    def action_transfer(self) -> None:
        ticket = self.model.current
        if ticket is not None:
            services = list(self.model.office.services.values())
            self._form(TransferScreen(self.session, ticket, services))

    def action_note(self) -> None:
        ticket = self.model.current
        if ticket is not None:
            self._form(TextFormScreen(self.session, ticket, NOTE))

    def action_flag(self) -> None:
        ticket = self.model.flag_target()
        if ticket is not None:
            self._form(TextFormScreen(self.session, ticket, FLAG))

    def action_walk_in(self) -> None:
        model = self.model
        counter = model.counter
        self._form(
            WalkInScreen(
                self.session,
                [s for s in model.office.services.values() if s.state != "closed"],
                counter.services if counter else [],
                model.languages,
            )
        )

    def action_take_break(self) -> None:
        self._counter_command("break", "On break. Press b to resume.")

    def action_resume(self) -> None:
        self._counter_command("open", "Back from break.")

    def action_open_counter(self) -> None:
        self._counter_command("open", "Counter open.")

    def action_close_counter(self) -> None:
        self._counter_command("close", "Counter closed.")

    def action_checklist(self) -> None:
        self.post_message(self.ChecklistWanted())
