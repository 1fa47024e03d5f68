"""What the counter terminal knows about the office, rebuilt from the live stream.

The server is the only source of truth: this model is a projection of the stream's snapshot and
events and never guesses at queue rules. Every event that moves a ticket also carries the counters
it changed (a transfer, the counter it freed; a closed day, every counter it emptied).
It holds no Textual objects, so its rules (which actions are allowed, when the idle banner
shows) are tested without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from lobby import protocol as p

ACTIVE = ("called", "serving")


@dataclass(frozen=True)
class IdleNotice:
    """Visitors this counter could serve are waiting while it stands open and idle."""

    waiting: int
    longest_min: float


class CounterModel:
    def __init__(self, counter_id: str) -> None:
        self.counter_id = counter_id
        self.seq = -1
        self.office: p.OfficeView | None = None
        self.counters: dict[str, p.CounterView] = {}
        self.services: dict[str, p.ServiceView] = {}
        self.services_received = 0.0
        self.tickets: dict[int, p.TicketView] = {}
        self.last_visitor: p.TicketView | None = None

    # ------------------------------------------------------------- updates

    def apply(self, message: p.StreamSnapshot | p.StreamEvent, received: float) -> None:
        """Fold one stream message in. ``received`` is the app's clock when it arrived."""
        if isinstance(message, p.StreamSnapshot):
            self._apply_snapshot(message.state, received)
        elif message.seq > self.seq:
            self._apply_event(message, received)

    def _apply_snapshot(self, state: p.StateSnapshot, received: float) -> None:
        self.seq = state.seq
        self.office = state.office
        self.counters = {c.id: c for c in state.counters}
        self.services = {s.id: s for s in state.services}
        self.services_received = received
        self.tickets = {t.id: t for t in state.tickets}
        current = self.current
        if current is not None:
            self.last_visitor = current

    def _apply_event(self, event: p.StreamEvent, received: float) -> None:
        self.seq = event.seq
        self.services = {s.id: s for s in event.services}
        self.services_received = received
        held = self.counter.ticket if self.counter else None
        for counter in (event.counter, *event.counters):
            if counter is not None:
                self.counters[counter.id] = counter
        for ticket in (event.ticket, *event.tickets):
            if ticket is not None:
                self._apply_ticket(ticket, held)

    def _apply_ticket(self, ticket: p.TicketView, held: int | None) -> None:
        """``held``: the ticket this counter held before the event (a transfer clears its own)."""
        if ticket.state in p.OPEN_TICKET_STATES:
            self.tickets[ticket.id] = ticket
        else:
            self.tickets.pop(ticket.id, None)
        if ticket.counter == self.counter_id or ticket.id == held:
            self.last_visitor = ticket

    # ------------------------------------------------------------- queries

    @property
    def ready(self) -> bool:
        """A first snapshot has arrived: until then nothing is shown as allowed."""
        return self.office is not None

    @property
    def counter(self) -> p.CounterView | None:
        return self.counters.get(self.counter_id)

    @property
    def state(self) -> str:
        counter = self.counter
        return counter.state if counter else "closed"

    @property
    def current(self) -> p.TicketView | None:
        counter = self.counter
        if counter is None or counter.ticket is None:
            return None
        return self.tickets.get(counter.ticket)

    @property
    def checklist(self) -> list[str]:
        return list(self.office.safety_checklist) if self.office else []

    @property
    def languages(self) -> list[str]:
        return list(self.office.languages) if self.office else ["en"]

    def my_services(self) -> list[p.ServiceView]:
        """The services this counter serves, in its order of preference."""
        counter = self.counter
        if counter is None:
            return []
        return [self.services[s] for s in counter.services if s in self.services]

    def service_name(self, service_id: str) -> str:
        service = self.services.get(service_id)
        return service.name if service else service_id

    def counter_name(self, counter_id: str | None) -> str:
        if counter_id is None:
            return ""
        counter = self.counters.get(counter_id)
        return counter.name if counter else counter_id

    def eligible_waiting(self) -> int:
        return sum(s.waiting for s in self.my_services())

    def longest_wait_min(self, service: p.ServiceView, now: float) -> float:
        """The server's figure, moved on by the time since it arrived."""
        if service.waiting == 0:
            return 0.0
        return service.longest_wait_min + max(0.0, now - self.services_received) / 60

    def idle_notice(self, now: float) -> IdleNotice | None:
        """Only an open, idle counter is nudged: never one on break, closed or busy."""
        if self.state != "open" or self.current is not None:
            return None
        waiting = self.eligible_waiting()
        if waiting == 0:
            return None
        longest = max(self.longest_wait_min(s, now) for s in self.my_services() if s.waiting)
        return IdleNotice(waiting, longest)

    def allows(self, action: str) -> bool:
        """Whether the counter's and the visitor's state allow ``action`` right now."""
        if not self.ready:
            return False
        state = self.state
        ticket = self.current
        ticket_state = ticket.state if ticket else None
        idle = self.counter is not None and self.counter.ticket is None
        rules = {
            "call_next": state == "open" and idle and self.eligible_waiting() > 0,
            "recall": ticket_state == "called",
            "start": ticket_state == "called",
            "no_show": ticket_state == "called",
            "complete": ticket_state == "serving",
            "transfer": ticket_state in ACTIVE,
            "note": ticket is not None,
            "flag": ticket is not None or self.last_visitor is not None,
            "walk_in": True,
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
