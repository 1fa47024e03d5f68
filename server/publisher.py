"""What every screen holds, per audience, and the patches that move it.

For each audience (public: displays and kiosks; staff: clerks; supervisor) the server keeps two
folds of its own patches, with the same fold the Python screens use (:mod:`lobby.state`):

- ``decided``: every patch computed so far, including those whose events are still being
  committed. New patches are diffs against it, so applying them in order always lands on the
  engine's figures.
- ``published``: only patches whose events are durable. A new client's snapshot is this state,
  so no screen is ever shown a figure the log does not hold, and every screen holds exactly the
  same figures at the same seq.

A patch is computed synchronously right after the engine applied a command (so it shows that
command's moment, not a later one), and published once the commit is done. If a commit fails,
``rollback`` forgets the decided-but-unpublished patches.

Ticks compute every figure the clock alone moves (waits, idle time, service states, estimates)
and send what differs; they run only while no commit is in flight, so they never leak an
uncommitted change.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import msgspec

from lobby import protocol as p
from lobby.state import OfficeState
from server import presenters as present
from server.engine import Counter, Engine, Event, Ticket, WaitEstimate

AUDIENCES = ("public", "staff", "supervisor")
ROLE_OF_AUDIENCE = {"public": "display", "staff": "clerk", "supervisor": "supervisor"}
FRESH_SEC = 90.0
"""A call older than this when a display reconnects is shown but not announced: the visitor
it called has gone to the counter or been marked a no-show by now."""

PRIVATE_KINDS = frozenset({"ticket.noted", "ticket.flagged", "tickets.purged"})
SUPERVISOR_KINDS = frozenset({"alert.raised", "alert.checklist", "printer.status"})
CALL_KINDS = frozenset({"ticket.called", "ticket.recalled"})
EMERGENCY_KINDS = frozenset({"emergency.started", "emergency.acknowledged", "emergency.ended"})
QUIET_KINDS = (
    frozenset({"ticket.acknowledged", "ticket.surveyed", "ticket.noted", "ticket.flagged"})
    | {"office.notice"}
    | SUPERVISOR_KINDS
    | EMERGENCY_KINDS
)
"""Events that move no queue and no counter: only the tickets they name are recomputed."""
EVERYTHING_KINDS = frozenset({"services.hours", "service.override", "day.closed", "tickets.purged"})
"""Rare events that may move any part: everything is recomputed, as on a tick."""

_encoder = msgspec.json.Encoder()
K = TypeVar("K")
V = TypeVar("V")


def audience_of(role: str) -> str:
    if role in present.SUPERVISOR_ROLES:
        return "supervisor"
    if role in present.STAFF_ROLES:
        return "staff"
    return "public"


@dataclass
class Reach:
    """The items of each part that may have changed; ``None``: every item of that part."""

    tickets: set[int] | None = None
    services: set[str] | None = None
    counters: set[str] | None = None


@dataclass
class Outgoing:
    """One patch as each audience sees it, encoded once; ``None`` where it changes nothing."""

    seq: int
    patches: dict[str, p.StreamPatch | None]
    messages: dict[str, str | None]
    announce: list[p.CallView]
    tick: bool = False
    visits: dict[int, str] = field(default_factory=dict)
    """The status of each moved visit whose status page is connected, encoded (the office
    fills it in when it publishes)."""


EARLY = timedelta(milliseconds=1)
"""How much sooner than its figures can move a visitor is looked at again (float rounding)."""


class Publisher:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.decided: dict[str, OfficeState] = {a: OfficeState() for a in AUDIENCES}
        self.published: dict[str, OfficeState] = {a: OfficeState() for a in AUDIENCES}
        self.announced: deque[tuple[int, p.CallView]] = deque(maxlen=64)
        self._due: dict[int, datetime] = {}
        self._due_for: object = None
        self.listeners: list[Callable[[Outgoing], None]] = []
        """Told of every patch once it is published (the metrics count its events)."""

    @property
    def seq(self) -> int:
        return self.published["public"].seq

    # --------------------------------------------------------------- start-up

    def start(self, now: datetime, seq: int) -> None:
        """Take the engine's whole state as published (at start, after a replay)."""
        for audience in AUDIENCES:
            state = present.snapshot(self.engine, ROLE_OF_AUDIENCE[audience], now, seq)
            self.published[audience].load(state)
            self.decided[audience].load(state)

    def remember_calls(self, logged: Iterable[tuple[int, Event]], now: datetime) -> None:
        """At a start: the fresh calls of the log's tail (seq, event), as if just published, so
        a display reconnecting with an older seq is still told of a call it never heard
        because the server went down between publishing it and the display receiving it."""
        fresh = now - timedelta(seconds=FRESH_SEC)
        made = {(call.ticket, call.at): call for call in self.engine.calls}
        for seq, event in logged:
            if event.kind not in CALL_KINDS or event.at <= fresh:
                continue
            call = made.get((event.data["id"], event.at))
            if call is not None:
                self.announced.append((seq, present.call_view(self.engine, call)))

    def rollback(self, engine: Engine) -> None:
        """Forget patches whose commit failed; go on from ``engine`` (rebuilt from the log)."""
        self.engine = engine
        for audience in AUDIENCES:
            self.decided[audience] = copy.deepcopy(self.published[audience])

    # ------------------------------------------------------------------ patches

    def decide(self, events: list[Event], seq: int, now: datetime) -> Outgoing:
        """The patch for events the engine just applied (called before their commit)."""
        return self._for_events(events, seq, now, self._reach(events))

    def resync(self, seq: int, now: datetime, events: list[Event]) -> Outgoing:
        """After a rebuild from the log: every figure recomputed against what was published,
        at the durable ``seq``; ``events`` are those the log holds beyond the last patch
        published (none: a tick). Published at once: it holds only what is durable."""
        tickets = set(self.engine.open_ids) | set(self.decided["staff"].tickets)
        for event in events:
            tickets.update(named_tickets(event))
        return self._for_events(events, seq, now, Reach(tickets, None, None))

    def _for_events(self, events: list[Event], seq: int, now: datetime, reach: Reach) -> Outgoing:
        kinds = [e.kind for e in events] or ["tick"]
        calls = sum(1 for k in kinds if k in CALL_KINDS)
        made = list(self.engine.calls)[-calls:] if calls else []
        announce = [present.call_view(self.engine, c) for c in made]
        alerts = {e.data["alert"] for e in events if e.kind.startswith("alert.")}
        printers = [e.data["device"] for e in events if e.kind == "printer.status"]
        return self._outgoing(seq, now, kinds, reach, announce, alerts, printers)

    def tick(self, now: datetime) -> Outgoing | None:
        """What the clock alone moved since the last patch. Only while nothing is in flight."""
        reach = Reach(tickets=self._moved_by_the_clock(now))
        out = self._outgoing(self.seq, now, ["tick"], reach, [], set(), [])
        if all(m is None for m in out.messages.values()):
            return None
        return out

    def _moved_by_the_clock(self, now: datetime) -> set[int]:
        """The waiting visitors whose figures the clock moved since they were shown: a wait
        that passed a whole minute or a colour threshold, or an estimate that moved (counters
        get closer to free as time passes). Every service and counter is recomputed on a tick
        anyway; a whole ticket view for every open visit every two seconds would cost a busy
        office more than its check-ins do.

        Each visitor shown is given the moment its figures can next move (``_due``), and is
        skipped until then while the forecast stays the same one: a long line costs a tick
        the few visitors whose minute turns, not all of them, and a visitor who just checked
        in costs it nothing."""
        engine = self.engine
        shown = self.decided["staff"].tickets
        due = self._due_for_forecast(now)
        moved: set[int] = set()
        for queue in engine.waiting.values():
            for _, ticket_id in queue:
                if ticket_id in due and due[ticket_id] > now:
                    continue
                ticket = engine.tickets[ticket_id]
                waited, estimate = self._look_again_after(ticket, now, due)
                target = engine.services[ticket.service].target_wait_min
                view = shown.get(ticket_id)
                if (
                    view is None
                    or view.estimate is None
                    or view.waited_min != int(waited)
                    or view.wait_level != present.wait_level(waited, target)
                    or (view.estimate.low_min, view.estimate.high_min)
                    != (estimate.low, estimate.high)
                ):
                    moved.add(ticket_id)
        if len(due) > 2 * len(engine.open_ids) + 64:  # visitors called since: forgotten
            for ticket_id in [i for i in due if i not in engine.open_ids]:
                del due[ticket_id]
        return moved

    def _due_for_forecast(self, now: datetime) -> dict[int, datetime]:
        """The moments visitors' figures can next move, as long as the forecast they came
        from is the engine's; a new forecast can move anyone's, so it starts them afresh."""
        made = self.engine.forecast(now)[0]
        if made is not self._due_for:
            self._due.clear()
            self._due_for = made
        return self._due

    def _look_again_after(
        self, ticket: Ticket, now: datetime, due: dict[int, datetime]
    ) -> tuple[float, WaitEstimate]:
        """A waiting visitor's wait and estimate now; notes in ``due`` (from
        ``_due_for_forecast``) when either can next move."""
        engine = self.engine
        waited = present.waited_min(ticket, now)
        estimate, steady = engine.estimate_and_steady(ticket.service, now, ticket)
        target = engine.services[ticket.service].target_wait_min
        steady = min(steady, present.steady_wait_min(waited, target))
        due[ticket.id] = now + timedelta(minutes=steady) - EARLY
        return waited, estimate

    def publish(self, out: Outgoing) -> None:
        """The patch's events are durable: every new client sees it from now on."""
        for audience, patch in out.patches.items():
            if patch is not None:
                self.published[audience].apply(patch)
        for call in out.announce:
            self.announced.append((out.seq, call))
        for listener in self.listeners:
            listener(out)

    def _outgoing(
        self,
        seq: int,
        now: datetime,
        kinds: list[str],
        reach: Reach,
        announce: list[p.CallView],
        alerts: set[int],
        printers: list[str],
    ) -> Outgoing:
        engine = self.engine
        at = present.iso(now) or ""
        services = present.service_views(engine, now, reach.services)
        counters = [
            engine.counters[c]
            for c in (engine.counters if reach.counters is None else sorted(reach.counters))
        ]
        # Every audience holds the same services and calls, and staff and supervisors the same
        # counters, tickets and office: each difference is worked out once per level.
        public = self.decided["public"]
        services_diff = _differing(public.services, services, lambda s: s.id)
        calls = present.calls_view(engine)
        calls_diff = calls if calls != public.calls else None
        levels: dict[bool, tuple[list[p.CounterView], list[p.TicketView]]] = {}
        patches: dict[str, p.StreamPatch | None] = {}
        messages: dict[str, str | None] = {}
        for audience in AUDIENCES:
            role = ROLE_OF_AUDIENCE[audience]
            state = self.decided[audience]
            private = audience == "public"
            if private not in levels:
                levels[private] = self._level_diff(state, role, counters, reach, now)
            counters_diff, tickets_diff = levels[private]
            # the office part per audience: supervisors alone see which screens acknowledged
            office = present.office_view(engine, role, now)
            office_diff = office if office != state.office else None
            cause = [
                k
                for k in kinds
                if not (private and k in PRIVATE_KINDS)
                and not (audience != "supervisor" and k in SUPERVISOR_KINDS)
            ]
            patch = p.StreamPatch(
                seq=seq,
                at=at,
                cause=cause or ["tick"],  # type: ignore[arg-type]
                office=office_diff,
                services=services_diff,
                counters=counters_diff,
                tickets=tickets_diff,
                calls=calls_diff,
                announce=announce,
            )
            if audience == "supervisor":
                patch.alerts = [
                    present.alert_view(engine, engine.alerts[a]) for a in sorted(alerts)
                ]
                patch.printers = [
                    present.printer_view(d, engine.printers[d]) for d in dict.fromkeys(printers)
                ]
            state.apply(patch)  # moves the decided seq on even when nothing changed here
            patches[audience] = patch
            staff = patches.get("staff")
            if not _has_changes(patch):
                messages[audience] = None
            elif audience == "supervisor" and staff is not None and patch == staff:
                messages[audience] = messages["staff"]  # the same patch: encoded once
            else:
                messages[audience] = _encoder.encode(patch).decode()
        return Outgoing(seq, patches, messages, announce, tick=kinds == ["tick"])

    def _level_diff(
        self,
        state: OfficeState,
        role: str,
        counters: list[Counter],
        reach: Reach,
        now: datetime,
    ) -> tuple[list[p.CounterView], list[p.TicketView]]:
        """What differs for one level of access (public, or staff): counters and tickets."""
        engine = self.engine
        views = [present.counter_view(engine, c, role, now) for c in counters]
        counters_diff = _differing(state.counters, views, lambda c: c.id)
        tickets_diff: list[p.TicketView] = []
        if role in present.STAFF_ROLES:
            ids = sorted(engine.open_ids if reach.tickets is None else reach.tickets)
            due = self._due_for_forecast(now)
            for i in ids:
                ticket = engine.tickets.get(i)
                if ticket is None:
                    continue
                view = present.ticket_view(engine, ticket, role, now)
                if state.tickets.get(i) != view and (
                    i in state.tickets or view.state in p.OPEN_TICKET_STATES
                ):
                    tickets_diff.append(view)
                if ticket.state == "waiting":  # shown as of now: the tick can pass it by
                    self._look_again_after(ticket, now, due)
        return counters_diff, tickets_diff

    def _reach(self, events: Iterable[Event]) -> Reach:
        """What the events can have changed: the tickets they name, and for anything that
        moves a queue or a counter, the services sharing those counters (their waits, people
        ahead and estimates), the counters serving them (eligible visitors, idle nudges) and
        everyone waiting there (places in line)."""
        engine = self.engine
        tickets: set[int] = set()
        services: set[str] = set()
        counters: set[str] = set()
        moved: set[str] = set()
        events = list(events)
        for event in events:
            tickets.update(named_tickets(event))
        if any(event.kind in EVERYTHING_KINDS for event in events):
            return Reach(tickets | engine.open_ids, None, None)
        for event in events:
            named = named_tickets(event)
            if event.kind in QUIET_KINDS:
                continue
            here: set[str] = set()
            counter = event.data.get("counter")
            if isinstance(counter, str) and counter in engine.counters:
                counters.add(counter)
                here.update(engine.counters[counter].services)
            for ticket_id in named:
                ticket = engine.tickets.get(ticket_id)
                if ticket is None:
                    continue
                here.add(ticket.service)
                here.update(t.from_service for t in ticket.transfers)
                counters.update(t.by_counter for t in ticket.transfers if t.by_counter)
                if ticket.counter:
                    counters.add(ticket.counter)
            if event.kind == "ticket.checked_in" and not event.data.get("priority"):
                # a new arrival joins the end of the line: the queue's figures move, nobody's
                # place does
                services.update(*(engine.pool(s) for s in here))
            else:
                moved.update(here)
        pooled = set().union(*(engine.pool(s) for s in moved)) if moved else set()
        services.update(pooled)
        for service_id in services:
            counters.update(c.id for c in engine.serving_counters(service_id))
        for service_id in pooled:
            tickets.update(tid for _, tid in engine.waiting[service_id])
        return Reach(tickets, services, counters)

    # --------------------------------------------------------------- snapshots

    def snapshot_message(self, role: str, now: datetime, since: int | None) -> tuple[int, str]:
        """A new client's first message: the published state, and the fresh calls it missed."""
        state = self.state(role, now)
        announce = []
        if since is not None:
            fresh = now - timedelta(seconds=FRESH_SEC)
            announce = [
                call
                for seq, call in self.announced
                if seq > since and datetime.fromisoformat(call.at) > fresh
            ]
        message = p.StreamSnapshot(seq=state.seq, state=state, announce=announce)
        return state.seq, _encoder.encode(message).decode()

    def state(self, role: str, now: datetime) -> p.StateSnapshot:
        """The published state for ``role``, stamped with the server's time now."""
        state = self.published[audience_of(role)].snapshot(role)
        state.now = present.iso(now) or ""
        return state


def named_tickets(event: Event) -> list[int]:
    named = list(event.data.get("ids", ()))
    if event.kind.startswith("ticket.") and "id" in event.data:
        named.append(event.data["id"])
    return named


def _differing(known: Mapping[K, V], views: list[V], key: Callable[[V], K]) -> list[V]:
    return [v for v in views if known.get(key(v)) != v]


def _has_changes(patch: p.StreamPatch) -> bool:
    return bool(
        patch.services
        or patch.counters
        or patch.tickets
        or patch.calls is not None
        or patch.office is not None
        or patch.announce
        or patch.alerts
        or patch.printers
    )
