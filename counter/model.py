"""This counter's reading of the office: which counter is mine, who is at it, who was served
here last, and what the clerk may do now.

The office itself is the shared fold (:class:`lobby.state.OfficeState`) of the server's stream,
and every figure shown (waits, queue lengths, the idle nudge) is the server's. What is decided
here is the terminal's own: which actions its keys allow, which of a key pair shows, and the
visitor a debrief flag is about once they have left (the server keeps no "last visitor" per
counter). It holds no Textual objects, so these rules are tested without a screen.
"""

from __future__ import annotations

from lobby import protocol as p
from lobby.state import Applied, OfficeState

ACTIVE = ("called", "serving")


class CounterModel:
    def __init__(self, counter_id: str) -> None:
        self.counter_id = counter_id
        self.office = OfficeState()
        self.connected = False
        """The stream is live: while it is down every action waits, since the clerk could not
        see what a command did."""
        self.last_visitor: p.TicketView | None = None
        self.alert: p.AlertView | None = None
        """The safety alert raised here whose checklist is not finished (a clerk's stream
        carries no alerts, so the terminal keeps the server's reply)."""
        self.alert_done: list[int] = []

    def apply(self, message: p.StreamMessage) -> Applied:
        """Fold one stream message in, and remember the visitor who was last at this counter:
        the one it held before the message (a completion or a transfer frees the counter),
        the one it holds after, or a later state of the one remembered (a flag just added)."""
        held = self.counter.ticket if self.counter else None
        applied = self.office.apply(message)
        current = self.current
        remembered = self.last_visitor.id if self.last_visitor else None
        for ticket in applied.tickets:
            if ticket.id in (held, remembered):
                self.last_visitor = ticket
        if current is not None:
            self.last_visitor = current
        return applied

    # ------------------------------------------------------------- queries

    @property
    def ready(self) -> bool:
        return self.office.ready

    @property
    def counter(self) -> p.CounterView | None:
        return self.office.counters.get(self.counter_id)

    @property
    def state(self) -> str:
        counter = self.counter
        return counter.state if counter else "closed"

    @property
    def current(self) -> p.TicketView | None:
        counter = self.counter
        if counter is None or counter.ticket is None:
            return None
        return self.office.tickets.get(counter.ticket)

    @property
    def eligible_waiting(self) -> int:
        counter = self.counter
        return counter.eligible_waiting if counter else 0

    @property
    def idle_nudge(self) -> p.IdleNudge | None:
        counter = self.counter
        return counter.idle_nudge if counter else None

    @property
    def emergency(self) -> p.EmergencyView | None:
        """The office's emergency mode while it lasts: calling is paused, the desk shows it."""
        office = self.office.office
        return office.emergency if office else None

    @property
    def checklist(self) -> list[str]:
        office = self.office.office
        return list(office.safety_checklist) if office else []

    @property
    def languages(self) -> list[str]:
        return self.office.languages or ["en"]

    def my_services(self) -> list[p.ServiceView]:
        """The services this counter serves, in its order of preference."""
        counter = self.counter
        if counter is None:
            return []
        services = self.office.services
        return [services[s] for s in counter.services if s in services]

    def allows(self, action: str) -> bool:
        """Whether the counter's and the visitor's state allow ``action`` right now."""
        counter = self.counter
        if not (self.connected and self.ready) or counter is None:
            return False
        state = counter.state
        ticket = self.current
        ticket_state = ticket.state if ticket else None
        idle = counter.ticket is None
        rules = {
            "call_next": state == "open"
            and idle
            and counter.eligible_waiting > 0
            and self.emergency is None,
            "recall": ticket_state == "called",
            "start": ticket_state == "called",
            "no_show": ticket_state == "called",
            "complete": ticket_state == "serving",
            "transfer": ticket_state in ACTIVE,
            "note": ticket is not None,
            "flag": self.flag_target() is not None,
            "walk_in": self.emergency is None,
            "take_break": state == "open" and idle,
            "resume": state == "break",
            "open_counter": state == "closed",
            "close_counter": state in ("open", "break") and idle,
        }
        return rules.get(action, False)

    def shows(self, action: str) -> bool:
        """Of each pair sharing a key (break/resume, open/close) only the one that applies shows."""
        state = self.state
        return {
            "take_break": state != "break",
            "resume": state == "break",
            "open_counter": state == "closed",
            "close_counter": state != "closed",
        }.get(action, True)

    def flag_target(self) -> p.TicketView | None:
        """The visitor a debrief flag is about: the current one, else the last one served here."""
        return self.current or self.last_visitor
