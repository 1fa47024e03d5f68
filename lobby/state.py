"""The office state as a screen holds it: a snapshot, then patches, folded in order.

This is the one fold for every Python screen (kiosk, counter terminal, terminal board), and the
server runs the same fold to keep, per audience, the state it has published: a snapshot sent to
a new client is that state, so every screen holds exactly the same figures at the same seq.
(The pages use ``server/web/office_state.js``, the same rules in JavaScript.)

It decides nothing: every figure (positions, estimates, waits, idle time, service states, which
calls are now serving, which to announce) arrives computed by the server. The only rules here
are the fold's own: items are replaced whole, by id; a ticket that leaves the open states
leaves the open list; a resolved alert leaves the alerts; a message older than the state is
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lobby import protocol as p

OPEN_TICKET_STATES = frozenset(p.OPEN_TICKET_STATES)


@dataclass(frozen=True)
class Applied:
    """What one message changed, for screens that react to more than a redraw.

    ``announce``: calls to announce now, oldest first. ``tickets``: every ticket the message
    carried (also those that left the open list, with their final state).
    """

    announce: tuple[p.CallView, ...] = ()
    tickets: tuple[p.TicketView, ...] = ()
    snapshot: bool = False


NOTHING = Applied()


def in_language(texts: dict[str, str], language: str, plain: str) -> str:
    """An office text in ``language``. The server sends it in every office language, the
    fallback already applied; ``plain`` (the first language's) is for a language the office
    does not offer at all, and for a server that sends no translations."""
    return texts.get(language) or plain


@dataclass
class OfficeState:
    seq: int = -1
    role: str = ""
    now: str = ""
    office: p.OfficeView | None = None
    services: dict[str, p.ServiceView] = field(default_factory=dict)
    counters: dict[str, p.CounterView] = field(default_factory=dict)
    tickets: dict[int, p.TicketView] = field(default_factory=dict)
    calls: p.CallsView = field(default_factory=p.CallsView)
    alerts: dict[int, p.AlertView] = field(default_factory=dict)
    printers: dict[str, p.PrinterView] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """A first snapshot has arrived."""
        return self.office is not None

    # ---------------------------------------------------------------- folding

    def apply(self, message: p.StreamMessage) -> Applied:
        if isinstance(message, p.StreamSnapshot):
            self.load(message.state)
            return Applied(tuple(message.announce), tuple(message.state.tickets), snapshot=True)
        if not self._is_current(message):
            return NOTHING
        self.seq = message.seq
        self.now = message.at
        if message.office is not None:
            self.office = message.office
        for service in message.services:
            self.services[service.id] = service
        for counter in message.counters:
            self.counters[counter.id] = counter
        for ticket in message.tickets:
            self._put_ticket(ticket)
        if message.calls is not None:
            self.calls = message.calls
        for alert in message.alerts:
            self._put_alert(alert)
        for printer in message.printers:
            self.printers[printer.device] = printer
        return Applied(tuple(message.announce), tuple(message.tickets))

    def load(self, state: p.StateSnapshot) -> None:
        self.seq = state.seq
        self.role = state.role
        self.now = state.now
        self.office = state.office
        self.services = {s.id: s for s in state.services}
        self.counters = {c.id: c for c in state.counters}
        self.tickets = {}
        for ticket in state.tickets:
            self._put_ticket(ticket)
        self.calls = state.calls
        self.alerts = {}
        for alert in state.alerts:
            self._put_alert(alert)
        self.printers = dict(state.printers)

    def _is_current(self, patch: p.StreamPatch) -> bool:
        """An event patch moves the seq on; a tick applies to the seq it was computed at."""
        if self.office is None:
            return False  # nothing to patch before the first snapshot
        return patch.seq > self.seq or (patch.is_tick and patch.seq == self.seq)

    def _put_ticket(self, ticket: p.TicketView) -> None:
        if ticket.state in OPEN_TICKET_STATES:
            self.tickets[ticket.id] = ticket
        else:
            self.tickets.pop(ticket.id, None)

    def _put_alert(self, alert: p.AlertView) -> None:
        if alert.resolved:
            self.alerts.pop(alert.id, None)
        else:
            self.alerts[alert.id] = alert

    # ---------------------------------------------------------------- reading

    def snapshot(self, role: str | None = None) -> p.StateSnapshot:
        """The state as a snapshot message carries it (the server sends exactly this)."""
        assert self.office is not None, "no state yet"
        return p.StateSnapshot(
            seq=self.seq,
            now=self.now,
            role=role if role is not None else self.role,
            office=self.office,
            services=list(self.services.values()),
            counters=list(self.counters.values()),
            tickets=list(self.tickets.values()),
            calls=self.calls,
            alerts=list(self.alerts.values()),
            printers=dict(self.printers),
        )

    def service(self, service_id: str) -> p.ServiceView | None:
        return self.services.get(service_id)

    def service_name(self, service_id: str) -> str:
        service = self.services.get(service_id)
        return service.name if service else service_id

    def counter_name(self, counter_id: str | None) -> str:
        if counter_id is None:
            return ""
        counter = self.counters.get(counter_id)
        return counter.name if counter else counter_id

    @property
    def languages(self) -> list[str]:
        return list(self.office.languages) if self.office else []
