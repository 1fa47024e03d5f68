"""The queue engine driven through random command sequences, checked after every step.

A small reference model (plain dicts, brute force, no bisect) predicts every command: whether it
is allowed, which visitor a counter calls and what each ticket and counter looks like afterwards.
The engine must agree with it, refuse exactly what the model refuses without changing anything,
and keep its own structure consistent. Every emitted event is also applied to a second engine
after a round trip through the log's encoding, the way the server rebuilds after a restart; the
two must never differ. A third engine is restored from its own snapshot after every step and
then carries on with the next events, as the server does when it starts from a snapshot.

The simulated clock counts real seconds in UTC and hands the engine the local office time, as the
server does, on a date far from a daylight-saving change (that case has its own test in
``test_engine_rules.py``). Runs may cross midnight: the first event of a new day makes the
engine forget closed visits of earlier days, and the model forgets the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from server import snapshot
from server.config import KNOWN_NEEDS, OfficeConfig, load_config, parse_config
from server.engine import ACTIVE_STATES, OPEN_STATES, Engine, Event, Refused
from server.store.encoding import decode_event, encode_event

OFFICE = load_config(Path(__file__).parent / "office.toml")
TWO_POOLS = parse_config(
    """
    [office]
    name = "Annex"
    timezone = "America/Chicago"
    [priority]
    head_start_min = 5
    [[services]]
    id = "permits"
    name = "Permits"
    prefix = "P"
    target_wait_min = 10
    max_recalls = 1
    [[services]]
    id = "billing"
    name = "Billing"
    prefix = "B"
    target_wait_min = 4
    [[services]]
    id = "records"
    name = "Records"
    prefix = "R"
    hours = "07:00-19:00"
    [[counters]]
    id = "w1"
    name = "Window 1"
    services = ["permits", "billing"]
    [[counters]]
    id = "w2"
    name = "Window 2"
    services = ["billing"]
    [[counters]]
    id = "w3"
    name = "Window 3"
    services = ["records"]
    """,
    "two-pools.toml",
)
DAY = date(2026, 11, 23)
STAFF = ("ana", "ben")
TICKET_STATES = frozenset(
    {"waiting", "called", "serving", "done", "no_show", "walkaway", "closed_at_end_of_day"}
)
PICK = st.integers(min_value=0, max_value=10_000)
# Both offices use these service ids; "nosuch" exercises the unknown-service refusal.
SERVICE_CHOICES = st.sampled_from(("permits", "billing", "records", "nosuch"))


@dataclass(frozen=True)
class Visitor:
    service: str
    needs: tuple[str, ...] = ()
    appointment: bool = False
    language: str | None = None


VISITORS = st.builds(
    Visitor,
    service=st.sampled_from(("permits", "billing", "records")),
    needs=st.lists(st.sampled_from(KNOWN_NEEDS), max_size=2, unique=True).map(tuple),
    appointment=st.booleans(),
    language=st.sampled_from((None, "en", "es")),
)


@dataclass
class ModelTicket:
    id: int
    number: str
    first_service: str
    service: str
    arrived_at: datetime
    priority: bool
    request_id: str
    state: str = "waiting"
    counter: str | None = None
    recalls: int = 0
    transferred: bool = False
    surveyed: bool = False


@dataclass
class ModelCounter:
    services: tuple[str, ...]
    state: str = "closed"
    ticket: int | None = None
    staff: str | None = None
    idle_sec: float = 0.0


def fingerprint(engine: Engine) -> tuple[Any, ...]:
    """Enough of the engine's state to notice any change a command could make."""
    return (
        tuple(
            (
                t.id,
                t.state,
                t.service,
                t.counter,
                t.recalls,
                t.called_at,
                t.last_called_at,
                t.started_at,
                t.ended_at,
                t.needs_met,
                t.survey,
                len(t.notes),
                len(t.transfers),
            )
            for t in engine.tickets.values()
        ),
        tuple(
            (c.id, c.state, c.ticket, c.staff, c.idle_while_waiting_sec, c.idle_waiting_since)
            for c in engine.counters.values()
        ),
        tuple(tuple(queue) for queue in engine.waiting.values()),
        tuple(sorted(engine.day_sequence.items())),
        len(engine.request_ids),
        len(engine.calls),
        engine.clock,
        tuple(len(minutes) for minutes in engine.recent_minutes.values()),
    )


def through_the_log(event: Event) -> Event:
    """The event as the server reads it back from SQLite after a restart."""
    return decode_event(*encode_event(event))


def events_of(result: Any) -> list[Event]:
    return result[1] if isinstance(result, tuple) else result


SCREENS = ("display:lobby", "kiosk:entrance", "counter:w1")


class QueueMachine(RuleBasedStateMachine):
    config: OfficeConfig = OFFICE

    def __init__(self) -> None:
        super().__init__()
        config = self.config
        self.tz = config.tz
        self.head_start = timedelta(minutes=config.priority.head_start_min)
        self.service_ids = tuple(s.id for s in config.services)
        self.counter_ids = tuple(c.id for c in config.counters)
        self.engine = Engine(config)
        self.replica = Engine(config)
        self.resumed = Engine(config)
        self.log: list[Event] = []
        self.tickets: dict[int, ModelTicket] = {}
        self.counters = {c.id: ModelCounter(c.services) for c in config.counters}
        self.sequences: dict[tuple[str, date], int] = {}
        self.requests = 0
        self.issued = 0
        self.day: date | None = None
        self.turn = 0
        self.started = self.instant = self.accrued_to = datetime(2026, 1, 1, tzinfo=UTC)
        self.idle_seen = dict.fromkeys(self.counter_ids, 0.0)
        self.emergency: int | None = None
        """The emergency mode in force (its id), during which check-in and calling pause."""

    # ------------------------------------------------------------------ model

    @property
    def now(self) -> datetime:
        return self.instant.astimezone(self.tz)

    def key(self, ticket: ModelTicket) -> tuple[datetime, int]:
        head_start = self.head_start if ticket.priority else timedelta(0)
        return (ticket.arrived_at - head_start, ticket.id)

    def waiting(self, service: str) -> list[ModelTicket]:
        queue = [t for t in self.tickets.values() if t.state == "waiting" and t.service == service]
        return sorted(queue, key=self.key)

    def service_closed(self, service: str) -> bool:
        config = next(s for s in self.config.services if s.id == service)
        local = self.now.time()
        return not config.opens <= local < config.closes

    def pool(self, service: str) -> set[str]:
        services = {service}
        for counter in self.counters.values():
            if service in counter.services:
                services.update(counter.services)
        return services

    def expected_call(self, counter_id: str) -> int | None:
        """The ticket this counter must call, by the documented rule, or None if refused."""
        counter = self.counters.get(counter_id)
        if counter is None or counter.ticket is not None or counter.state in ("closed", "break"):
            return None
        best: tuple[float, int, int] | None = None
        for preference, service in enumerate(counter.services):
            queue = self.waiting(service)
            if not queue:
                continue
            waited = (self.now - self.key(queue[0])[0]).total_seconds()
            target = next(s for s in self.config.services if s.id == service).target_wait_min
            candidate = (-waited / (target * 60), preference, queue[0].id)
            best = candidate if best is None else min(best, candidate)
        return None if best is None else best[2]

    def idle(self, counter: ModelCounter) -> bool:
        return counter.state == "open" and any(self.waiting(s) for s in counter.services)

    def accrue(self) -> None:
        """Credit idle-while-waiting time up to now, under the state that held until now."""
        elapsed = (self.instant - self.accrued_to).total_seconds()
        for counter in self.counters.values():
            if self.idle(counter):
                counter.idle_sec += elapsed
        self.accrued_to = self.instant

    def release(self, ticket: ModelTicket) -> None:
        if ticket.counter is None:
            return
        counter = self.counters[ticket.counter]
        if counter.ticket == ticket.id:
            counter.ticket = None
            counter.state = "open"

    def pick_counter(self, pick: int, fits: Callable[[str], bool]) -> str:
        """Mostly a counter the command fits; sometimes any counter, or one that does not exist."""
        fitting = [c for c in self.counter_ids if fits(c)]
        if fitting and pick % 5 != 4:
            return fitting[pick % len(fitting)]
        everything = [*self.counter_ids, "w9"]
        return everything[pick % len(everything)]

    def pick_ticket(self, pick: int, states: set[str]) -> int:
        """Mostly a ticket the command fits; else one in another state, or a missing one."""
        fitting = sorted(t.id for t in self.tickets.values() if t.state in states)
        if fitting and pick % 5 != 4:
            return fitting[pick % len(fitting)]
        latest_per_state = {t.state: t.id for t in self.tickets.values() if t.state not in states}
        others = [*sorted(latest_per_state.values()), self.issued + 1]
        return others[pick % len(others)]

    # --------------------------------------------------------------- running

    def record(self, events: list[Event]) -> None:
        self.log.extend(events)
        for event in events:
            self.replica.apply(through_the_log(event))
            self.resumed.apply(through_the_log(event))
            self.forget_before(event.at.date())

    def forgotten_by_now(self, ticket: ModelTicket) -> bool:
        """A closed visit an event at ``now`` would forget: a command on it is not found."""
        today = self.now.date()
        return (
            self.day is not None
            and today > self.day
            and ticket.state not in OPEN_STATES
            and ticket.arrived_at.date() < today
        )

    def forget_before(self, day: date) -> None:
        """The first event of a new office day: closed visits of earlier days are forgotten."""
        if self.day is not None and day <= self.day:
            return
        self.day = day
        for tid in [
            t.id
            for t in self.tickets.values()
            if t.arrived_at.date() < day and t.state not in OPEN_STATES
        ]:
            del self.tickets[tid]

    def attempt(self, allowed: bool, command: Callable[[], Any]) -> Any:
        """Run a command the model allows, or check that a refused one changes nothing."""
        self.accrue()
        before = fingerprint(self.engine)
        if not allowed:
            with pytest.raises(Refused):
                command()
            assert fingerprint(self.engine) == before, "a refused command changed the state"
            return None
        result = command()
        assert events_of(result), "a command that changes the state must log an event"
        self.record(events_of(result))
        return result

    def no_op(self, command: Callable[[], list[Event]]) -> None:
        self.accrue()
        before = fingerprint(self.engine)
        assert command() == []
        assert fingerprint(self.engine) == before

    # ----------------------------------------------------------------- rules

    @initialize(
        minute=st.one_of(
            st.integers(min_value=0, max_value=24 * 60 - 1),
            st.integers(min_value=23 * 60 + 30, max_value=24 * 60 - 1),  # across midnight
        ),
        staffed=st.lists(st.sampled_from(STAFF), min_size=1, max_size=4),
    )
    def open_doors(self, minute: int, staffed: list[str]) -> None:
        local = datetime.combine(DAY, time(), self.tz) + timedelta(minutes=minute)
        self.started = self.instant = self.accrued_to = local.astimezone(UTC)
        for counter, staff in zip(self.counter_ids, staffed, strict=False):
            self.sign_in(counter, staff)

    @rule(seconds=st.integers(min_value=0, max_value=600))
    def time_passes(self, seconds: int) -> None:
        self.instant += timedelta(seconds=seconds)

    @rule()
    def a_minute_passes(self) -> None:
        self.instant += timedelta(seconds=60)

    @rule()
    def a_counter_moves_on(self) -> None:
        """The next counter in turn takes its ordinary next step: call, start or complete."""
        self.turn += 1
        counter_id = self.counter_ids[self.turn % len(self.counter_ids)]
        counter = self.counters[counter_id]
        if counter.state == "open":
            self.call(counter_id)
        elif counter.state == "calling" and counter.ticket is not None:
            self.begin(counter.ticket)
        elif counter.state == "serving" and counter.ticket is not None:
            self.finish(counter.ticket, True)

    @rule()
    def a_visitor_arrives(self) -> None:
        """A plain check-in, each service in turn (Hypothesis draws argument-free rules most)."""
        self.check_in_one(Visitor(self.service_ids[self.requests % len(self.service_ids)]))

    @rule(visitors=st.lists(VISITORS, min_size=1, max_size=3))
    def check_in(self, visitors: list[Visitor]) -> None:
        """A few visitors reach the kiosk at once (the common case gets the most steps)."""
        for visitor in visitors:
            self.check_in_one(visitor)

    @rule(
        service=st.sampled_from(("permits", "nosuch")),
        language=st.sampled_from(("en", "xx")),
    )
    def check_in_with_bad_input(self, service: str, language: str) -> None:
        self.check_in_one(Visitor(service, (), False, language))

    def check_in_one(self, visitor: Visitor) -> None:
        self.requests += 1
        request_id = f"req-{self.requests:06d}"
        now = self.now
        service = visitor.service
        allowed = (
            service in self.service_ids
            and visitor.language in (None, *self.config.languages)
            and not self.service_closed(service)
            and self.emergency is None
        )
        result = self.attempt(
            allowed,
            lambda: self.engine.check_in(
                now,
                service=service,
                request_id=request_id,
                status_token=f"status-{request_id}",
                needs=visitor.needs,
                appointment=visitor.appointment,
                language=visitor.language,
            ),
        )
        if result is None:
            return
        ticket, _ = result
        key = (service, now.date())
        self.sequences[key] = self.sequences.get(key, 0) + 1
        prefix = next(s.prefix for s in self.config.services if s.id == service)
        rule_ = self.config.priority
        priority = bool(set(visitor.needs) & set(rule_.needs)) or (
            visitor.appointment and rule_.appointment
        )
        assert ticket.number == f"{prefix}-{self.sequences[key]:03d}"
        assert ticket.priority == priority
        self.issued += 1
        assert ticket.id == self.issued, "ids are counted, never reused"
        self.tickets[ticket.id] = ModelTicket(
            ticket.id, ticket.number, service, service, now, priority, request_id
        )

    @rule(pick=PICK, same_service=st.booleans())
    def retry_check_in(self, pick: int, same_service: bool) -> None:
        # Tickets moved by a transfer are left out: see test_engine_rules (retry after transfer).
        candidates = [t for t in self.tickets.values() if not t.transferred]
        if not candidates:
            return
        original = candidates[pick % len(candidates)]
        now = self.now
        if same_service:
            self.accrue()
            before = fingerprint(self.engine)
            ticket, events = self.engine.check_in(
                now,
                service=original.first_service,
                request_id=original.request_id,
                status_token="a-retry-gets-no-new-token",
            )
            assert ticket.id == original.id and events == []
            assert ticket.status_token == f"status-{original.request_id}"
            assert fingerprint(self.engine) == before
            return
        other = next(s for s in self.service_ids if s != original.first_service)
        self.attempt(
            False,
            lambda: self.engine.check_in(
                now, service=other, request_id=original.request_id, status_token="x"
            ),
        )

    @rule(pick=PICK, choice=st.integers(min_value=0, max_value=3), service=SERVICE_CHOICES)
    def clerk_works_the_counter(self, pick: int, choice: int, service: str) -> None:
        """The next sensible step at one counter, so visits run their whole course."""
        counter = self.pick_counter(
            pick, lambda c: self.counters[c].ticket is not None or self.expected_call(c) is not None
        )
        model = self.counters.get(counter)
        if model is None or model.state in ("closed", "break"):
            self.sign_in(counter, STAFF[choice % len(STAFF)])
        elif model.ticket is None:
            self.call(counter)
        elif self.tickets[model.ticket].state == "called":
            actions = (self.begin, self.begin, self.call_again, self.mark_no_show)
            actions[choice](model.ticket)
        elif choice == 3:
            self.refer(model.ticket, service)
        else:
            self.finish(model.ticket, (True, False, None)[choice])

    @rule(pick=PICK)
    def call_next(self, pick: int) -> None:
        self.call(self.pick_counter(pick, lambda c: self.expected_call(c) is not None))

    @precondition(lambda self: any(t.state == "called" for t in self.tickets.values()))
    @rule(pick=PICK)
    def visitor_never_comes(self, pick: int) -> None:
        """Recalled until the service's limit refuses another recall, then a no-show."""
        called = sorted(t.id for t in self.tickets.values() if t.state == "called")
        ticket = self.tickets[called[pick % len(called)]]
        limit = next(s.max_recalls for s in self.config.services if s.id == ticket.service)
        for _ in range(limit + 1):
            self.call_again(ticket.id)
        self.mark_no_show(ticket.id)

    @rule(pick=PICK)
    def recall(self, pick: int) -> None:
        self.call_again(self.pick_ticket(pick, {"called"}))

    @rule(pick=PICK)
    def start(self, pick: int) -> None:
        self.begin(self.pick_ticket(pick, {"called"}))

    @rule(pick=PICK, needs_met=st.sampled_from((True, False, None)))
    def complete(self, pick: int, needs_met: bool | None) -> None:
        self.finish(self.pick_ticket(pick, {"serving"}), needs_met)

    @rule(pick=PICK)
    def no_show(self, pick: int) -> None:
        self.mark_no_show(self.pick_ticket(pick, {"called"}))

    @rule(pick=PICK)
    def cancel(self, pick: int) -> None:
        tid = self.pick_ticket(pick, {"waiting"})
        ticket = self.tickets.get(tid)
        allowed = ticket is not None and ticket.state == "waiting"
        if self.attempt(allowed, lambda: self.engine.cancel(self.now, tid)):
            assert ticket is not None
            ticket.state = "walkaway"

    @rule(pick=PICK, needs_met=st.booleans(), rating=st.sampled_from((None, 1, 5)))
    def visitor_answers_the_survey(self, pick: int, needs_met: bool, rating: int | None) -> None:
        tid = self.pick_ticket(pick, {"done"})
        ticket = self.tickets.get(tid)
        allowed = (
            ticket is not None
            and ticket.state == "done"
            and not ticket.surveyed
            and not self.forgotten_by_now(ticket)
        )
        if self.attempt(
            allowed, lambda: self.engine.answer_survey(self.now, tid, needs_met, rating)
        ):
            assert ticket is not None
            ticket.surveyed = True

    @rule(pick=PICK, service=SERVICE_CHOICES)
    def transfer(self, pick: int, service: str) -> None:
        self.refer(self.pick_ticket(pick, {"called", "serving"}), service)

    @rule(pick=PICK, staff=st.sampled_from(STAFF))
    def open_counter(self, pick: int, staff: str) -> None:
        self.sign_in(self.pick_counter(pick, lambda c: self.counters[c].ticket is None), staff)

    @rule(pick=PICK, action=st.sampled_from(("break", "close")))
    def step_away(self, pick: int, action: str) -> None:
        counter = self.pick_counter(pick, lambda c: self.counters[c].ticket is None)
        model = self.counters.get(counter)
        goal = "break" if action == "break" else "closed"
        if action == "break":
            command = lambda: self.engine.take_break(self.now, counter)  # noqa: E731
        else:
            command = lambda: self.engine.close_counter(self.now, counter)  # noqa: E731
        if model is not None and model.state == goal:
            self.no_op(command)
            return
        allowed = model is not None and model.ticket is None
        if goal == "break":
            allowed = allowed and model is not None and model.state != "closed"
        if self.attempt(allowed, command):
            assert model is not None
            model.state = goal
            if goal == "closed":
                model.staff = None

    # ------------------------------------------------------- one command each

    def call(self, counter: str) -> None:
        now = self.now
        expected = self.expected_call(counter)
        waiting_before = {s: self.waiting(s) for s in self.service_ids}
        allowed = expected is not None and self.emergency is None
        result = self.attempt(allowed, lambda: self.engine.call_next(now, counter))
        if result is None:
            return
        ticket, _ = result
        assert ticket.id == expected
        called = self.tickets[ticket.id]
        for other in waiting_before[called.service]:
            if other is called:
                continue
            if called.priority == other.priority:
                assert (called.arrived_at, called.id) < (other.arrived_at, other.id), "FIFO"
            if other.arrived_at < called.arrived_at:
                assert called.priority and not other.priority, "overtaken without priority"
                assert called.arrived_at - other.arrived_at <= self.head_start
        called.state, called.counter = "called", counter
        model_counter = self.counters[counter]
        model_counter.state, model_counter.ticket = "calling", ticket.id

    def call_again(self, tid: int) -> None:
        ticket = self.tickets.get(tid)
        limit = {s.id: s.max_recalls for s in self.config.services}
        allowed = (
            ticket is not None
            and ticket.state == "called"
            and ticket.recalls < limit[ticket.service]
        )
        if self.attempt(allowed, lambda: self.engine.recall(self.now, tid)):
            assert ticket is not None
            ticket.recalls += 1

    def begin(self, tid: int) -> None:
        ticket = self.tickets.get(tid)
        allowed = ticket is not None and ticket.state == "called"
        if self.attempt(allowed, lambda: self.engine.start(self.now, tid)):
            assert ticket is not None and ticket.counter is not None
            ticket.state = "serving"
            self.counters[ticket.counter].state = "serving"

    def finish(self, tid: int, needs_met: bool | None) -> None:
        ticket = self.tickets.get(tid)
        allowed = ticket is not None and ticket.state == "serving"
        if self.attempt(
            allowed, lambda: self.engine.complete(self.now, tid, needs_met, None, "ana")
        ):
            assert ticket is not None
            self.release(ticket)
            ticket.state = "done"

    def mark_no_show(self, tid: int) -> None:
        ticket = self.tickets.get(tid)
        allowed = ticket is not None and ticket.state == "called"
        if self.attempt(allowed, lambda: self.engine.no_show(self.now, tid)):
            assert ticket is not None
            self.release(ticket)
            ticket.state = "no_show"

    def refer(self, tid: int, service: str) -> None:
        ticket = self.tickets.get(tid)
        allowed = (
            ticket is not None
            and ticket.state in ("called", "serving")
            and service in self.service_ids
            and service != ticket.service
        )
        if self.attempt(
            allowed, lambda: self.engine.transfer(self.now, tid, service, "see desk", "ana")
        ):
            assert ticket is not None
            self.release(ticket)
            ticket.state, ticket.service, ticket.counter = "waiting", service, None
            ticket.transferred = True
            ticket.recalls = 0

    def sign_in(self, counter: str, staff: str) -> None:
        model = self.counters.get(counter)
        command = lambda: self.engine.open_counter(self.now, counter, staff)  # noqa: E731
        signed_in = model is not None and model.state in ("open", "calling", "serving")
        if signed_in and model is not None and model.staff == staff:
            self.no_op(command)
            return
        allowed = model is not None and model.state not in ("calling", "serving")
        if self.attempt(allowed, command):
            assert model is not None
            model.state, model.staff = "open", staff

    @rule(kind=st.sampled_from(("evacuate", "drill", "flood")), screen=st.sampled_from(SCREENS))
    def emergency_starts_is_acknowledged_or_ends(self, kind: str, screen: str) -> None:
        """The emergency mode pauses check-in and calling; the queue waits it out, unchanged."""
        now = self.now
        if self.emergency is None:
            result = self.attempt(
                kind != "flood",
                lambda: self.engine.start_emergency(
                    now,
                    kind=kind,
                    emergency_id=len(self.log) + 1,
                    by="super",
                    screens=[(s, s) for s in SCREENS[:2]],
                ),
            )
            if result is not None:
                self.emergency = result[0].id
            return
        current = self.emergency
        if kind == "flood":
            self.attempt(True, lambda: self.engine.end_emergency(now, "super"))
            self.emergency = None
            return
        acknowledged = self.engine.emergency and self.engine.emergency.screens.get(screen)
        if acknowledged and acknowledged.acknowledged_at is not None:
            self.no_op(lambda: self.engine.acknowledge_emergency(now, current, screen, screen))
            return
        self.attempt(True, lambda: self.engine.acknowledge_emergency(now, current, screen, screen))
        self.attempt(
            False, lambda: self.engine.acknowledge_emergency(now, current + 1, screen, "?")
        )

    @precondition(lambda self: any(t.state in OPEN_STATES for t in self.tickets.values()))
    @rule()
    def close_day(self) -> None:
        still_open = [t for t in self.tickets.values() if t.state in OPEN_STATES]
        self.attempt(True, lambda: self.engine.close_day(self.now))
        for ticket in still_open:
            self.release(ticket)
            ticket.state = "closed_at_end_of_day"
        assert not self.engine.open_tickets(), "every open ticket is closed at the end of the day"
        self.no_op(lambda: self.engine.close_day(self.now))

    # ------------------------------------------------------------ invariants

    @invariant()
    def engine_agrees_with_the_model(self) -> None:
        assert sorted(self.engine.tickets) == sorted(self.tickets)
        for tid, model in self.tickets.items():
            ticket = self.engine.tickets[tid]
            assert (ticket.state, ticket.service, ticket.recalls) == (
                model.state,
                model.service,
                model.recalls,
            ), ticket.number
            assert (ticket.number, ticket.priority, ticket.arrived_at) == (
                model.number,
                model.priority,
                model.arrived_at,
            )
            if model.state in ACTIVE_STATES or model.state == "waiting":
                assert ticket.counter == model.counter
        for cid, model_counter in self.counters.items():
            counter = self.engine.counters[cid]
            assert (counter.state, counter.ticket, counter.staff) == (
                model_counter.state,
                model_counter.ticket,
                model_counter.staff,
            ), cid

    @invariant()
    def one_active_ticket_per_counter_and_counter_per_ticket(self) -> None:
        engine = self.engine
        held = [c.ticket for c in engine.counters.values() if c.ticket is not None]
        assert len(held) == len(set(held)), "a ticket is active at two counters"
        for counter in engine.counters.values():
            if counter.ticket is None:
                assert counter.state not in ("calling", "serving")
                continue
            ticket = engine.tickets[counter.ticket]
            assert ticket.state in ACTIVE_STATES and ticket.counter == counter.id
            assert counter.state == {"called": "calling", "serving": "serving"}[ticket.state]
        for ticket in engine.tickets.values():
            if ticket.state in ACTIVE_STATES:
                assert ticket.counter is not None
                assert engine.counters[ticket.counter].ticket == ticket.id

    @invariant()
    def every_ticket_in_exactly_one_state_and_queue(self) -> None:
        engine = self.engine
        queued: dict[int, str] = {}
        for service, queue in engine.waiting.items():
            assert queue == sorted(queue)
            for _, tid in queue:
                assert tid not in queued, "a ticket waits twice"
                queued[tid] = service
        for ticket in engine.tickets.values():
            assert ticket.state in TICKET_STATES
            if ticket.state == "waiting":
                assert queued.get(ticket.id) == ticket.service
            else:
                assert ticket.id not in queued
            if ticket.state in OPEN_STATES:
                assert ticket.ended_at is None
            else:
                assert ticket.ended_at is not None

    @invariant()
    def times_run_forward(self) -> None:
        for ticket in self.engine.tickets.values():
            if ticket.called_at is not None:
                assert ticket.called_at >= ticket.arrived_at, "negative wait"
                assert ticket.last_called_at is not None
                assert ticket.last_called_at >= ticket.called_at
            if ticket.started_at is not None:
                assert ticket.last_called_at is not None
                assert ticket.started_at >= ticket.last_called_at
            if ticket.ended_at is not None:
                assert ticket.ended_at >= ticket.arrived_at

    @invariant()
    def the_open_index_lists_exactly_the_open_visits(self) -> None:
        open_now = {t.id for t in self.engine.tickets.values() if t.state in OPEN_STATES}
        assert self.engine.open_ids == open_now
        assert self.replica.open_ids == open_now

    @invariant()
    def the_emergency_is_the_models(self) -> None:
        current = self.engine.emergency
        assert (current.id if current else None) == self.emergency
        assert self.replica.emergency == current
        assert self.resumed.emergency == current

    @invariant()
    def numbers_unique_per_day(self) -> None:
        numbers = [(t.day, t.number) for t in self.engine.tickets.values()]
        assert len(numbers) == len(set(numbers))

    @invariant()
    def replaying_the_log_rebuilds_the_same_state(self) -> None:
        engine, replica = self.engine, self.replica
        assert replica.tickets == engine.tickets
        assert replica.counters == engine.counters
        assert replica.waiting == engine.waiting
        assert replica.day_sequence == engine.day_sequence
        assert replica.request_ids == engine.request_ids
        assert list(replica.calls) == list(engine.calls)
        assert {s: list(d) for s, d in replica.recent_minutes.items()} == {
            s: list(d) for s, d in engine.recent_minutes.items()
        }

    @invariant()
    def a_snapshot_restores_the_same_state(self) -> None:
        self.resumed = snapshot.load(self.config, snapshot.dump(self.resumed))
        engine, resumed = self.engine, self.resumed
        assert resumed.tickets == engine.tickets
        assert resumed.counters == engine.counters
        assert resumed.waiting == engine.waiting
        assert resumed.open_ids == engine.open_ids
        assert resumed.day_sequence == engine.day_sequence
        assert resumed.request_ids == engine.request_ids
        assert resumed.status_tokens == engine.status_tokens
        assert resumed.forgotten_private == engine.forgotten_private
        assert (resumed.next_ticket_id, resumed.day) == (engine.next_ticket_id, engine.day)
        assert list(resumed.calls) == list(engine.calls)
        assert resumed.recent_minutes == engine.recent_minutes
        now = self.now
        engine.reforecast()  # the live one may be a forecast joined by later arrivals
        for service in self.service_ids:
            assert resumed.estimate(service, now) == engine.estimate(service, now)

    @invariant()
    def idle_while_waiting_is_what_the_counters_lived(self) -> None:
        now = self.now
        elapsed = (self.instant - self.started).total_seconds()
        pending = (self.instant - self.accrued_to).total_seconds()
        for cid, model in self.counters.items():
            value = self.engine.idle_while_waiting(cid, now)
            assert value >= self.idle_seen[cid] - 1e-6, "idle time went down"
            assert value <= elapsed + 1e-6, "more idle time than time passed"
            expected = model.idle_sec + (pending if self.idle(model) else 0.0)
            assert math.isclose(value, expected, abs_tol=1e-6), cid
            assert math.isclose(self.replica.idle_while_waiting(cid, now), value, abs_tol=1e-6)
            self.idle_seen[cid] = value

    @invariant()
    def positions_count_who_is_ahead_and_estimates_make_sense(self) -> None:
        engine, now = self.engine, self.now
        for service in self.service_ids:
            pool = self.pool(service)
            ahead_of_all = sum(len(self.waiting(s)) for s in pool)
            estimate = engine.estimate(service, now)
            assert 0 <= estimate.low < estimate.high and estimate.point >= 0
            assert engine.people_ahead(service, None) == ahead_of_all
            keys = sorted(self.key(t) for s in pool for t in self.waiting(s))
            for model in self.waiting(service):
                ticket = engine.tickets[model.id]
                assert engine.position(ticket) == keys.index(self.key(model)) + 1
                mine = engine.estimate(service, now, ticket)
                assert 0 <= mine.low < mine.high and mine.point >= 0
            points = [
                engine.estimate(service, now, engine.tickets[t.id]).point
                for t in sorted(self.waiting(service), key=self.key)
            ]
            assert points == sorted(points), "a later place in the same line is called sooner"
            closed_pool = all(self.pool(s) == pool for s in pool)
            if closed_pool:
                positions = sorted(
                    engine.position(engine.tickets[t.id]) or 0
                    for s in pool
                    for t in self.waiting(s)
                )
                assert positions == list(range(1, len(positions) + 1)), "gap in positions"

    def teardown(self) -> None:
        fresh = Engine(self.config)
        for event in self.log:
            fresh.apply(through_the_log(event))
        assert fresh.tickets == self.engine.tickets
        assert fresh.counters == self.engine.counters


class TwoPoolsMachine(QueueMachine):
    """An office whose counters split the services into two pools, so positions run 1..n."""

    config = TWO_POOLS


SETTINGS = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestQueueEngine = QueueMachine.TestCase
TestQueueEngine.settings = SETTINGS
TestQueueEngineTwoPools = TwoPoolsMachine.TestCase
TestQueueEngineTwoPools.settings = settings(SETTINGS, max_examples=60)
