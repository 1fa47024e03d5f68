"""The queue engine: every rule about who is called, when, and by whom.

The engine is pure on purpose: no IO and no clock reads (the caller passes ``now``, an aware
datetime in the office's time zone). That lets property-based tests drive it through millions of
random command sequences, and lets the server rebuild its exact state after a restart by replaying
the event log through :meth:`Engine.apply`.

Every command follows the same shape: check the current state (raising :class:`Refused` without
changing anything), build the events that describe the change, apply them, return the result.
State changes only in :meth:`Engine.apply`, so a live command and a replayed event can never
disagree.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from server.config import OfficeConfig, ServiceConfig
from server.forecast import (
    Desk,
    Forecast,
    KeptRange,
    Line,
    Range,
    StandingRange,
    first_to_call,
    forecast,
    typical_minutes,
    wait_range,
)

OPEN_STATES = frozenset({"waiting", "called", "serving"})
ACTIVE_STATES = frozenset({"called", "serving"})
STAFFED_STATES = frozenset({"open", "calling", "serving"})
RECENT_VISITS = 30
"""Visits per service its typical time at a counter is learned from (the latest ones)."""
BREAK_MIN = 15.0
"""A usual break: the forecast expects a counter on one back this long after it began."""
LONG_BREAK_SHARE = 0.5
"""A break already longer than usual is expected to last this share of its length again."""
LONG_VISIT_SHARE = 0.25
"""A visit that has run past its service's typical time is expected to go on for at least
this share of that time again."""
ARRIVAL_WINDOW = timedelta(minutes=30)
"""How far back the forecast looks to learn how often each service's visitors check in."""
REFORECAST_SEC = 30.0
"""A forecast is played again from scratch at least this often; in between, visitors who
check in join it at the end of their line (what a full one would give them too)."""
ARRIVAL_CLOCK_DRIFT = timedelta(minutes=2)
"""How far ahead of the server a kiosk clock may run: an arrival time within it is now."""


class Refused(Exception):
    """A command the current state does not allow. ``kind`` is not_found, conflict or invalid,
    or one of the emergency mode's own refusals (see :data:`server.errors.STATUS_BY_KIND`)."""

    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


_OFFSETS: dict[timedelta, timezone] = {}


def fixed_offset(moment: datetime) -> datetime:
    """The same instant with a fixed UTC offset.

    Python subtracts two datetimes that share a zoneinfo on the wall clock, which is wrong for
    the hour when clocks fall back. Times the engine keeps carry fixed offsets instead, exactly
    as they come back from the log after a restart. Each offset is one shared tzinfo: comparing
    or subtracting two datetimes with the very same tzinfo skips asking each for its offset,
    and the queues compare arrival times on every check-in.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("the engine needs aware datetimes")
    zone = _OFFSETS.get(offset)
    if zone is None:
        zone = _OFFSETS.setdefault(offset, timezone(offset))
    if moment.tzinfo is zone:
        return moment
    if type(moment.tzinfo) is timezone:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


@dataclass(frozen=True)
class Event:
    """One entry of the append-only log. ``data`` holds plain JSON values only."""

    kind: str
    at: datetime
    data: dict[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", fixed_offset(self.at))


@dataclass(frozen=True)
class Note:
    at: datetime
    text: str
    by: str


@dataclass(frozen=True)
class TransferRecord:
    at: datetime
    from_service: str
    to_service: str
    by_counter: str | None


@dataclass(frozen=True)
class WaitEstimate:
    """Minutes. Visitors see ``low``..``high``; the range errs high on purpose."""

    low: int
    high: int
    point: float


@dataclass
class Ticket:
    id: int
    number: str
    service: str
    day: date
    arrived_at: datetime
    status_token: str
    state: str = "waiting"
    called_at: datetime | None = None
    last_called_at: datetime | None = None
    counter: str | None = None
    recalls: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    needs_met: bool | None = None
    name: str | None = None
    address_as: str | None = None
    language: str | None = None
    needs: tuple[str, ...] = ()
    appointment: bool = False
    priority: bool = False
    notes: list[Note] = field(default_factory=list)
    transfers: list[TransferRecord] = field(default_factory=list)
    quoted: WaitEstimate | None = None
    acknowledged_via: str | None = None
    acknowledged_at: datetime | None = None
    flagged: str | None = None
    request_id: str | None = None
    ui_language: str | None = None
    survey: tuple[bool, int | None] | None = None
    received_at: datetime | None = None
    """When the server heard of a check-in a kiosk queued while it could not reach it (the
    visitor arrived at ``arrived_at``); None for every check-in heard at once."""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def queue_key(self, head_start: timedelta) -> tuple[datetime, int]:
        """Order within a service: arrival (minus any priority head start), then ticket id."""
        return (self.arrived_at - (head_start if self.priority else timedelta(0)), self.id)


@dataclass
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    state: str = "closed"
    ticket: int | None = None
    staff: str | None = None
    idle_while_waiting_sec: float = 0.0
    idle_waiting_since: datetime | None = None
    idle_stretch_from: datetime | None = None
    """When the current unbroken stretch of idling while someone waits began."""
    idle_before_today: float = 0.0
    """``idle_while_waiting_sec`` as it stood when today began: screens show today's share."""
    break_from: datetime | None = None
    """When its current break began: the forecast expects it back after a usual break."""


@dataclass
class Alert:
    id: int
    kind: str
    at: datetime
    counter: str | None
    staff: str | None
    detail: str = ""
    done: tuple[int, ...] = ()
    note: str = ""
    resolved: bool = False


@dataclass(frozen=True)
class Call:
    """A number called to a counter, as the lobby display shows it."""

    at: datetime
    ticket: int
    number: str
    service: str
    counter: str
    recall: int


EMERGENCY_CHECK_IN = "Check-in is paused: the office is in emergency mode."
EMERGENCY_CALL = "Calling is paused: the office is in emergency mode; the queue is kept."
KEPT_EMERGENCIES = 8
"""Ended emergencies kept for a retried start (the same request id gets the same answer)."""


@dataclass
class ScreenAck:
    """A screen expected to show an emergency, and when it said it does."""

    name: str
    acknowledged_at: datetime | None = None


@dataclass
class Emergency:
    """The office's emergency mode (or a drill) while it lasts, and after, for a retried start.

    Its texts are copied into the start event from the configuration, so the log alone says
    what every screen was told, whatever the configuration says later.
    """

    id: int
    """The seq of the event that started it."""
    kind: str
    drill: bool
    started_at: datetime
    started_by: str
    heading: dict[str, str]
    instruction: dict[str, str]
    checklist: tuple[str, ...]
    screens: dict[str, ScreenAck]
    """By screen (``display:<device>``, ``kiosk:<device>``, ``counter:<id>``): those expected
    when it began, and any other that acknowledged it."""
    request_id: str | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None


def has_private_data(ticket: Ticket) -> bool:
    """What the retention period erases: a visit without any of it needs no purge."""
    return bool(ticket.name or ticket.needs or ticket.notes or ticket.flagged)


class Engine:
    """Holds the day's queue and decides every command against it.

    The engine keeps what today's figures need: open visits, today's visits and the recent
    visits estimates learn from. When time passes into a new office day (the first event
    of that day, so a replay forgets exactly what the live engine forgot), closed visits of
    earlier days are forgotten: history belongs to the log, and a year of it would otherwise sit
    in memory. ``keep_from`` also keeps the closed visits of that day and later, for a report
    that replays the log to measure a period.
    """

    def __init__(self, config: OfficeConfig, *, keep_from: date | None = None) -> None:
        self.config = config
        self.keep_from = keep_from
        self.services: dict[str, ServiceConfig] = {s.id: s for s in config.services}
        self.counters: dict[str, Counter] = {
            c.id: Counter(c.id, c.name, c.services) for c in config.counters
        }
        self.tickets: dict[int, Ticket] = {}
        self.waiting: dict[str, list[tuple[datetime, int]]] = {s: [] for s in self.services}
        self.day_sequence: dict[tuple[str, date], int] = {}
        self.request_ids: dict[str, int] = {}
        self.status_tokens: dict[str, int] = {}
        self.alert_request_ids: dict[str, int] = {}
        self.open_ids: set[int] = set()
        # ids are counted, not taken from len(): forgotten visits keep theirs
        self.next_ticket_id = 1
        self.next_alert_id = 1
        # the office day of the latest event; a later one forgets closed visits of earlier days
        self.day: date | None = None
        # forgotten visits whose private data the retention period has yet to erase, by day
        self.forgotten_private: dict[date, array[int]] = {}
        # the counter pools come from the configuration and never change
        self.pools = {
            s: frozenset({s}.union(*(c.services for c in config.counters if s in c.services)))
            for s in self.services
        }
        # asked again within one command (a view per audience and the reply); cleared on apply
        self._estimates: dict[tuple[str, datetime, int | None], tuple[WaitEstimate, float]] = {}
        self._ahead: dict[tuple[str, tuple[datetime, int] | None], int] = {}
        # waiting visitors' ranges from the held forecast; kept across applies
        self._ranges: dict[int, KeptRange | StandingRange] = {}
        # each service's typical minutes at a counter: they change only when a visit ends (a
        # snapshot fills the recent visits of an engine that has not been asked yet)
        self._typical: dict[str, tuple[float, float]] = {}
        self.serving: dict[str, tuple[Counter, ...]] = {
            s: tuple(c for c in self.counters.values() if s in c.services) for s in self.services
        }
        # minutes at a counter (call to end) of each service's latest visits, oldest first
        self.recent_minutes: dict[str, deque[float]] = {
            s: deque(maxlen=RECENT_VISITS) for s in self.services
        }
        self._forecast: tuple[datetime, Forecast] | None = None
        # the last time given and the same instant at a fixed offset (see fixed_offset)
        self._given: datetime | None = None
        self._given_fixed: datetime | None = None
        self.calls: deque[Call] = deque(maxlen=20)
        self.alerts: dict[int, Alert] = {}
        self.printers: dict[str, tuple[str, str]] = {}  # device -> (status, detail)
        self.notice = config.notice
        self.service_override: dict[str, bool] = {}
        self.clock: datetime | None = None
        self.head_start = timedelta(minutes=config.priority.head_start_min)
        self.emergency: Emergency | None = None
        """The emergency mode in force; None in a normal day."""
        self.ended_emergencies: deque[Emergency] = deque(maxlen=KEPT_EMERGENCIES)

    def _fixed(self, now: datetime) -> datetime:
        """``now`` at a fixed offset, converted once however many queries share it.

        Callers pass the office's zoneinfo time. Subtracting a stored (fixed-offset) time from
        it asks the zoneinfo for its offset every time, which a staff snapshot would do for
        every waiting visitor.
        """
        if now is not self._given:
            self._given, self._given_fixed = now, fixed_offset(now)
        assert self._given_fixed is not None
        return self._given_fixed

    # ----------------------------------------------------------------- queries

    def ticket(self, ticket_id: int) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise Refused("not_found", f"no ticket with id {ticket_id}")
        return ticket

    def counter(self, counter_id: str) -> Counter:
        counter = self.counters.get(counter_id)
        if counter is None:
            raise Refused("not_found", f"no counter with id {counter_id!r}")
        return counter

    def open_tickets(self) -> list[Ticket]:
        return [self.tickets[i] for i in sorted(self.open_ids)]

    def waiting_in(self, service_id: str) -> list[Ticket]:
        return [self.tickets[tid] for _, tid in self.waiting[service_id]]

    def eligible_waiting(self, counter: Counter) -> int:
        return sum(len(self.waiting[s]) for s in counter.services)

    def longest_wait_min(self, service_id: str, now: datetime) -> float:
        queue = self.waiting[service_id]
        if not queue:
            return 0.0
        now = self._fixed(now)
        # Keys are arrival minus any head start, so walking from the head we can stop once a
        # key is no earlier than the oldest arrival seen: no later visitor arrived before it.
        oldest = self.tickets[queue[0][1]].arrived_at
        for key_time, tid in queue:
            if key_time >= oldest:
                break
            oldest = min(oldest, self.tickets[tid].arrived_at)
        return max(0.0, (now - oldest).total_seconds() / 60)

    def idle_while_waiting(self, counter_id: str, now: datetime) -> float:
        """Seconds this counter has been open and idle while a visitor it serves waited."""
        counter = self.counter(counter_id)
        extra = 0.0
        if counter.idle_waiting_since is not None:
            now = self._fixed(now)
            extra = max(0.0, (now - counter.idle_waiting_since).total_seconds())
        return counter.idle_while_waiting_sec + extra

    def is_open_by_hours(self, service_id: str, moment: datetime) -> bool:
        """Open at ``moment`` by its hours and any supervisor override (estimates aside)."""
        override = self.service_override.get(service_id)
        if override is not None:
            return override
        service = self.services[service_id]
        # Times reach the engine in the office's own offset, so the wall clock is .time().
        return service.opens <= moment.time() < service.closes

    def service_state(self, service_id: str, now: datetime) -> str:
        """open, closing (a new arrival would likely be served after closing) or closed."""
        service = self.services[service_id]
        override = self.service_override.get(service_id)
        if not self.is_open_by_hours(service_id, now):
            return "closed"
        now = self._fixed(now)
        closes_at = now.replace(
            hour=service.closes.hour, minute=service.closes.minute, second=0, microsecond=0
        )
        expected = self.estimate(service_id, now)
        if now + timedelta(minutes=expected.point) > closes_at and override is None:
            return "closing"
        return "open"

    def pool(self, service_id: str) -> frozenset[str]:
        """Services that compete for the same counters as ``service_id``."""
        return self.pools[service_id]

    def serving_counters(self, service_id: str) -> list[Counter]:
        return list(self.serving[service_id])

    def typical_minutes(self, service_id: str) -> tuple[float, float]:
        """Expected minutes at a counter for one visit of ``service_id``, and their spread."""
        known = self._typical.get(service_id)
        if known is None:
            configured = self.services[service_id].mean_service_min
            recent = list(self.recent_minutes[service_id])
            known = self._typical[service_id] = typical_minutes(recent, configured)
        return known

    def forecast(self, now: datetime) -> tuple[Forecast, float]:
        """When every waiting visitor will be called (see :mod:`server.forecast`), and how many
        minutes after the forecast's own moment ``now`` is."""
        now = self._fixed(now)
        held = self._forecast
        if held is not None:
            since = (now - held[0]).total_seconds()
            if 0 <= since < REFORECAST_SEC:
                return held[1], since / 60
        made = forecast(self._desks(now), self._lines(now))
        self._forecast = (now, made)
        self._ranges.clear()  # they came from the forecast before
        return made, 0.0

    def reforecast(self) -> None:
        """Play the next forecast from scratch, as an engine just loaded would."""
        self._forecast = None
        self._estimates.clear()

    def _desks(self, now: datetime) -> list[Desk]:
        desks = []
        for counter in self.counters.values():
            if counter.state in STAFFED_STATES:
                free_in = 0.0
                if counter.ticket is not None:
                    ticket = self.tickets[counter.ticket]
                    expected = self.typical_minutes(ticket.service)[0]
                    began = ticket.last_called_at or ticket.called_at or now
                    elapsed = (now - began).total_seconds() / 60
                    free_in = max(expected - elapsed, expected * LONG_VISIT_SHARE)
            elif counter.state == "break":
                away = (now - counter.break_from).total_seconds() / 60 if counter.break_from else 0
                free_in = max(BREAK_MIN - away, LONG_BREAK_SHARE * away, 1.0)
            else:
                continue
            desks.append(Desk(counter.id, counter.services, free_in))
        return desks

    def _lines(self, now: datetime) -> list[Line]:
        window = now - ARRIVAL_WINDOW
        recent = dict.fromkeys(self.services, 0)
        for ticket in self.tickets.values():
            if ticket.arrived_at >= window and not ticket.transfers:
                recent[ticket.service] += 1
        per_min = ARRIVAL_WINDOW.total_seconds() / 60
        lines = []
        for service_id, queue in self.waiting.items():
            minutes, cv = self.typical_minutes(service_id)
            lines.append(
                Line(
                    service_id,
                    tuple(ticket_id for _, ticket_id in queue),
                    tuple((now - key).total_seconds() / 60 for key, _ in queue),
                    self.services[service_id].target_wait_min,
                    minutes,
                    cv,
                    recent[service_id] / per_min,
                )
            )
        return lines

    def people_ahead(self, service_id: str, key: tuple[datetime, int] | None) -> int:
        """Waiting visitors in the same counter pool who would be called first."""
        known = self._ahead.get((service_id, key))
        if known is not None:
            return known
        total = 0
        for sid in self.pools[service_id]:
            queue = self.waiting[sid]
            total += len(queue) if key is None else bisect.bisect_left(queue, key)
        self._ahead[(service_id, key)] = total
        return total

    def estimate(
        self, service_id: str, now: datetime, ticket: Ticket | None = None
    ) -> WaitEstimate:
        """The wait range for a waiting ``ticket``, or for a visitor checking in now."""
        return self.estimate_and_steady(service_id, now, ticket)[0]

    def estimate_and_steady(
        self, service_id: str, now: datetime, ticket: Ticket | None = None
    ) -> tuple[WaitEstimate, float]:
        """The estimate, and the minutes the clock alone leaves it as it is (see ``Range``):
        the publisher need not look at it again before then while the forecast holds."""
        now = self._fixed(now)
        memo = (service_id, now, ticket.id if ticket is not None else None)
        known = self._estimates.get(memo)
        if known is not None:
            return known
        made, since = self.forecast(now)
        kept = self._ranges.get(ticket.id) if ticket is not None else None
        if kept is not None and kept.holds(since):
            shown = kept.at(since)
        else:
            shown = self._work_out(service_id, made, since, ticket)
        if len(self._estimates) > 10_000:
            self._estimates.clear()
        estimate = WaitEstimate(shown.low, shown.high, shown.point)
        known = self._estimates[memo] = (estimate, shown.steady_min)
        return known

    def _work_out(
        self, service_id: str, made: Forecast, since: float, ticket: Ticket | None
    ) -> Range:
        """The range from the forecast ``made``, ``since`` minutes old; a waiting visitor's is
        kept for as long as it holds (``_keep``)."""
        minutes, cv = self.typical_minutes(service_id)
        if ticket is not None and ticket.id in made.call_in_min:
            call, depth = made.call_in_min[ticket.id], made.depth[ticket.id]
            shown = wait_range(max(0.0, call - since), depth, minutes, cv)
            self._keep(ticket.id, call, since, shown)
            return shown
        coming = made.next_arrival(service_id) if ticket is None else None
        if coming is not None:
            call, depth = coming
            return wait_range(max(0.0, call - since), depth, minutes, cv)
        # no counter serving it is staffed: as if one opened now, however old the forecast is;
        # nothing but an event (one opening, a visitor ahead) moves that
        key = ticket.queue_key(self.head_start) if ticket is not None else None
        depth = self.people_ahead(service_id, key) + 1.0
        shown = dataclasses.replace(
            wait_range(depth * minutes, depth, minutes, cv), steady_min=math.inf
        )
        if ticket is not None:
            self._keep(ticket.id, None, since, shown)
        return shown

    def _keep(self, ticket_id: int, call: float | None, since: float, shown: Range) -> None:
        """Keep a waiting visitor's range ``shown`` while the forecast held is ``since``
        minutes old: one that comes closer with a ``call`` (minutes from the forecast's moment)
        or, without one, a range the clock does not move."""
        self._ranges[ticket_id] = (
            StandingRange(shown)
            if call is None
            else KeptRange(call, since, since + shown.steady_min, shown.low, shown.high)
        )

    def position(self, ticket: Ticket) -> int | None:
        if ticket.state != "waiting":
            return None
        return self.people_ahead(ticket.service, ticket.queue_key(self.head_start)) + 1

    def keep_numbers_of(self, other: Engine) -> None:
        """Never hand out a ticket number ``other`` handed out, even one whose commit failed:
        somebody may have glimpsed it."""
        for key, sequence in other.day_sequence.items():
            self.day_sequence[key] = max(self.day_sequence.get(key, 0), sequence)

    # ---------------------------------------------------------------- commands

    def check_in(
        self,
        now: datetime,
        *,
        service: str,
        request_id: str,
        status_token: str,
        name: str | None = None,
        address_as: str | None = None,
        language: str | None = None,
        needs: tuple[str, ...] = (),
        appointment: bool = False,
        by: str = "kiosk",
        ui_language: str | None = None,
        arrived_at: datetime | None = None,
    ) -> tuple[Ticket, list[Event]]:
        """``arrived_at``: when a kiosk that could not reach the server took the check-in (it
        queued it and sends it late). The visitor waits, and is ordered, from that moment.

        During an emergency a check-in is refused and nothing stored, except one a kiosk
        queued while it could not reach the server: that visitor already left the kiosk with
        a place promised (it could not show the instruction), so the place is kept and the
        wait counted as one the emergency interrupted."""
        existing = self.request_ids.get(request_id)
        if existing is not None:
            ticket = self.tickets[existing]
            first_service = ticket.transfers[0].from_service if ticket.transfers else ticket.service
            if first_service != service:
                raise Refused(
                    "conflict",
                    "client_request_id was already used for another service",
                    "client_request_id",
                )
            return ticket, []
        if self.emergency is not None and arrived_at is None:
            raise Refused("emergency", EMERGENCY_CHECK_IN)  # nothing is stored
        if service not in self.services:
            raise Refused("invalid", f"unknown service {service!r}", "service")
        now = self._fixed(now)
        arrival = self._late_arrival(arrived_at, now)
        if self.emergency is not None and arrival is None:
            raise Refused("emergency", EMERGENCY_CHECK_IN)
        if language is not None and language not in self.config.languages:
            raise Refused("invalid", f"language {language!r} is not offered here", "language")
        if not self.is_open_by_hours(service, arrival or now):  # closing still takes visitors
            config = self.services[service]
            raise Refused("conflict", f"{config.name} is closed (hours {config.hours_text})")
        day = (arrival or now).date()
        sequence = self.day_sequence.get((service, day), 0) + 1
        number = f"{self.services[service].prefix}-{sequence:03d}"
        name = (name or "").strip() or None
        rule = self.config.priority
        priority = bool(set(needs) & set(rule.needs)) or (appointment and rule.appointment)
        quote = self.estimate(service, now)
        worked_out = self._estimates.get((service, now, None))  # by the forecast (not a rule
        # a simulation compares it with), with how long the clock leaves it as it is
        quoted_from = self.forecast(now) if worked_out is not None else None  # the one held
        # the language used at the kiosk is the visitor's unless they chose another
        ui_language_offered = ui_language if ui_language in self.config.languages else None
        event = Event(
            "ticket.checked_in",
            now,
            {
                "id": self.next_ticket_id,
                "number": number,
                "service": service,
                "sequence": sequence,
                "status_token": status_token,
                "request_id": request_id,
                "name": name,
                "address_as": address_as if name else None,
                "language": language or ui_language_offered,
                "needs": list(needs),
                "appointment": appointment,
                "priority": priority,
                "by": by,
                "ui_language": ui_language_offered,
                "quoted": [quote.low, quote.high, quote.point],
            },
        )
        if arrival is not None:
            event.data["arrived_at"] = arrival.isoformat()
        self.apply(event)
        ticket = self.tickets[event.data["id"]]
        if (
            worked_out is not None
            and worked_out[0] == quote
            and quoted_from is not None
            and self._forecast is not None
            and self._forecast[1] is quoted_from[0]  # not started afresh
        ):
            self._keep_quote(ticket, quoted_from, worked_out)
        return ticket, [event]

    def _keep_quote(
        self,
        ticket: Ticket,
        quoted_from: tuple[Forecast, float],
        quoted: tuple[WaitEstimate, float],
    ) -> None:
        """A visitor who joined the forecast at the end of their line is called when it said
        the next one would be (``Forecast.join``), so their range is the quote they were just
        given (``quoted_from``: the forecast and its age then): kept as such rather than
        worked out again for every screen. So is one that no staffed counter serves: the
        people ahead of them are those who were waiting when they were quoted."""
        made, since = quoted_from
        estimate, steady = quoted
        call = made.call_in_min.get(ticket.id)
        if call is not None or not made.serving.get(ticket.service):
            shown = Range(estimate.low, estimate.high, estimate.point, steady)
            self._keep(ticket.id, call, since, shown)

    def _late_arrival(self, arrived_at: datetime | None, now: datetime) -> datetime | None:
        """A kiosk's own arrival time, checked: the same office day and not in the future
        beyond a kiosk clock's drift (within it, it is now). None when it is simply now."""
        if arrived_at is None:
            return None
        if arrived_at > now + ARRIVAL_CLOCK_DRIFT:
            raise Refused("invalid", "arrived_at is in the future", "arrived_at")
        arrival = arrived_at.astimezone(now.tzinfo)
        if arrival.date() != now.date():
            raise Refused("invalid", "arrived_at must be today, in the office's time", "arrived_at")
        return arrival if arrival < now else None

    def call_next(self, now: datetime, counter_id: str) -> tuple[Ticket, list[Event]]:
        """Refused during an emergency: nobody is called away from the exits, and when it
        ends the queue resumes in exactly the order it had."""
        counter = self.counter(counter_id)
        if self.emergency is not None:
            raise Refused("emergency", EMERGENCY_CALL)
        self._require_free(counter)
        now = self._fixed(now)
        chosen = first_to_call(
            (
                (now - key).total_seconds() / 60,
                self.services[service_id].target_wait_min,
                preference,
                ticket_id,
            )
            for preference, service_id in enumerate(counter.services)
            for key, ticket_id in self.waiting[service_id][:1]
        )
        if chosen is None:
            raise Refused("conflict", f"nobody {counter.name} serves is waiting")
        return self._call(now, counter, self.tickets[chosen])

    def _call(self, now: datetime, counter: Counter, ticket: Ticket) -> tuple[Ticket, list[Event]]:
        event = Event("ticket.called", now, {"id": ticket.id, "counter": counter.id})
        self.apply(event)
        return ticket, [event]

    def recall(self, now: datetime, ticket_id: int) -> list[Event]:
        ticket = self._in_state(ticket_id, {"called"}, "recall")
        limit = self.services[ticket.service].max_recalls
        if ticket.recalls >= limit:
            raise Refused(
                "conflict", f"{ticket.number} was already recalled {limit} times; mark a no-show"
            )
        return self._emit(Event("ticket.recalled", now, {"id": ticket.id}))

    def start(self, now: datetime, ticket_id: int) -> list[Event]:
        ticket = self._in_state(ticket_id, {"called"}, "start serving")
        return self._emit(Event("ticket.started", now, {"id": ticket.id}))

    def complete(
        self, now: datetime, ticket_id: int, needs_met: bool | None, notes: str | None, by: str
    ) -> list[Event]:
        ticket = self._in_state(ticket_id, {"serving"}, "complete")
        return self._emit(
            Event(
                "ticket.completed",
                now,
                {"id": ticket.id, "needs_met": needs_met, "notes": notes, "by": by},
            )
        )

    def no_show(self, now: datetime, ticket_id: int) -> list[Event]:
        ticket = self._in_state(ticket_id, {"called"}, "mark as no-show")
        return self._emit(Event("ticket.no_show", now, {"id": ticket.id}))

    def cancel(self, now: datetime, ticket_id: int) -> list[Event]:
        ticket = self._in_state(ticket_id, {"waiting"}, "cancel")
        return self._emit(Event("ticket.walkaway", now, {"id": ticket.id}))

    def transfer(
        self, now: datetime, ticket_id: int, service: str, note: str | None, by: str
    ) -> list[Event]:
        ticket = self._in_state(ticket_id, {"called", "serving"}, "transfer")
        if service not in self.services:
            raise Refused("invalid", f"unknown service {service!r}", "service")
        if service == ticket.service:
            raise Refused("conflict", f"{ticket.number} is already in {service!r}", "service")
        return self._emit(
            Event(
                "ticket.transferred",
                now,
                {"id": ticket.id, "service": service, "note": note, "by": by},
            )
        )

    def acknowledge(
        self, now: datetime, ticket_id: int, via: str, seen_at: datetime | None = None
    ) -> list[Event]:
        """Record how the visitor was acknowledged and when the kiosk did it.

        ``seen_at`` is the kiosk's own time, which matters after an outage when the report
        arrives late; it is kept within arrival..now so a wrong kiosk clock cannot skew reports.
        """
        ticket = self._held(ticket_id, now)
        if ticket.acknowledged_via == "printed" or ticket.acknowledged_via == via:
            return []
        now = self._fixed(now)
        moment = min(max(seen_at or now, ticket.arrived_at), now)
        return self._emit(
            Event(
                "ticket.acknowledged",
                now,
                {"id": ticket.id, "via": via, "seen_at": moment.isoformat()},
            )
        )

    def answer_survey(
        self, now: datetime, ticket_id: int, needs_met: bool, rating: int | None
    ) -> list[Event]:
        ticket = self._held(ticket_id, now)
        if ticket.state != "done":
            raise Refused("conflict", "the survey opens once the visit is done")
        if ticket.survey is not None:
            raise Refused("conflict", "this visit's survey was already answered")
        return self._emit(
            Event(
                "ticket.surveyed", now, {"id": ticket.id, "needs_met": needs_met, "rating": rating}
            )
        )

    def add_note(self, now: datetime, ticket_id: int, text: str, by: str) -> list[Event]:
        ticket = self._held(ticket_id, now)
        return self._emit(Event("ticket.noted", now, {"id": ticket.id, "text": text, "by": by}))

    def flag(self, now: datetime, ticket_id: int, reason: str, by: str) -> list[Event]:
        ticket = self._held(ticket_id, now)
        return self._emit(
            Event("ticket.flagged", now, {"id": ticket.id, "reason": reason, "by": by})
        )

    def open_counter(self, now: datetime, counter_id: str, staff: str) -> list[Event]:
        counter = self.counter(counter_id)
        if counter.state in ("open", "calling", "serving") and counter.staff == staff:
            return []
        if counter.state in ("calling", "serving"):
            raise Refused("conflict", f"{counter.name} is busy with {counter.staff}")
        return self._emit(Event("counter.opened", now, {"counter": counter.id, "staff": staff}))

    def take_break(self, now: datetime, counter_id: str) -> list[Event]:
        counter = self.counter(counter_id)
        if counter.state == "break":
            return []
        if counter.state == "closed":
            raise Refused("conflict", f"{counter.name} is closed; there is no break to take")
        self._require_free(counter, "go on break")
        return self._emit(Event("counter.on_break", now, {"counter": counter.id}))

    def close_counter(self, now: datetime, counter_id: str) -> list[Event]:
        counter = self.counter(counter_id)
        if counter.state == "closed":
            return []
        if counter.ticket is not None:
            raise Refused(
                "conflict", f"{counter.name} still has {self.tickets[counter.ticket].number}"
            )
        return self._emit(Event("counter.closed", now, {"counter": counter.id}))

    def housekeep(self, now: datetime) -> list[Event]:
        """What the clock alone decides: close visits left open from a previous day, erase
        private data past the retention period, log services that opened or closed with
        their hours. The server runs it every minute; the simulator at every step."""
        events = self.close_day(now, before=now.date())
        events += self.purge_private(now)
        events += self.note_opening_hours(now)
        return events

    def close_day(self, now: datetime, before: date | None = None) -> list[Event]:
        """Close every ticket still open (or only those from days before ``before``).

        Each one is recorded as closed_at_end_of_day and reported, never silently dropped.
        """
        ids = sorted(t.id for t in self.open_tickets() if before is None or t.day < before)
        if not ids:
            return []
        return self._emit(Event("day.closed", now, {"ids": ids}))

    def raise_alert(
        self, now: datetime, counter_id: str | None, staff: str | None, request_id: str | None
    ) -> tuple[Alert, list[Event]]:
        if request_id is not None and request_id in self.alert_request_ids:
            return self.alerts[self.alert_request_ids[request_id]], []
        alert_id = self.next_alert_id
        event = Event(
            "alert.raised",
            now,
            {"alert": alert_id, "counter": counter_id, "staff": staff, "request_id": request_id},
        )
        self.apply(event)
        return self.alerts[alert_id], [event]

    def update_checklist(
        self, now: datetime, alert_id: int, done: tuple[int, ...], note: str | None, by: str
    ) -> list[Event]:
        alert = self.alerts.get(alert_id)
        forgotten = (
            alert is not None
            and self._enters_a_new_day(now)
            and alert.resolved
            and alert.at.date() < now.date()
        )
        if alert is None or forgotten:  # see _held
            raise Refused("not_found", f"no alert with id {alert_id}")
        size = len(self.config.safety_checklist)
        if any(i >= size for i in done):
            raise Refused("invalid", f"checklist has {size} items (0..{size - 1})", "done")
        return self._emit(
            Event(
                "alert.checklist",
                now,
                {"alert": alert_id, "done": sorted(set(done)), "note": note or "", "by": by},
            )
        )

    def purge_private(self, now: datetime) -> list[Event]:
        """Erase names, needs and notes of visits older than the retention period.

        Most such visits are forgotten by then; their ids wait in ``forgotten_private`` so the
        log is still scrubbed. The few still held (closed late, or a short retention) are found
        at the front of ``tickets``, which is in arrival order.
        """
        cutoff = now.date() - timedelta(days=self.config.retention_days)
        ids = [
            ticket_id
            for day in sorted(self.forgotten_private)
            if day < cutoff
            for ticket_id in self.forgotten_private[day]
        ]
        for ticket in self.tickets.values():
            if ticket.day >= cutoff:
                break
            if not ticket.is_open and has_private_data(ticket):
                ids.append(ticket.id)
        if not ids:
            return []
        return self._emit(Event("tickets.purged", now, {"ids": sorted(ids)}))

    def erase(self, now: datetime, ids: list[int]) -> list[Event]:
        """Erase names, needs and notes of these visits now, at the visitor's request: the same
        purge as at the end of the retention period, only sooner."""
        if not ids:
            return []
        return self._emit(Event("tickets.purged", now, {"ids": sorted(set(ids))}))

    def note_opening_hours(self, now: datetime) -> list[Event]:
        """Log services that opened or closed with the clock since last noted.

        Hours change a service's state without any command; logging the change gives every
        screen (display, kiosk, counters) fresh service summaries through the stream.
        """
        if self.clock is None:
            return []
        before = self.clock
        changed = {
            service_id: self.is_open_by_hours(service_id, now)
            for service_id in self.services
            if self.is_open_by_hours(service_id, before) != self.is_open_by_hours(service_id, now)
        }
        if not changed:
            return []
        return self._emit(Event("services.hours", now, {"open": changed}))

    def set_notice(self, now: datetime, text: str) -> list[Event]:
        return self._emit(Event("office.notice", now, {"text": text}))

    def printer_status(self, now: datetime, device: str, status: str, detail: str) -> list[Event]:
        if self.printers.get(device, ("",))[0] == status == "ok":
            return []
        return self._emit(
            Event("printer.status", now, {"device": device, "status": status, "detail": detail})
        )

    def set_service_open(self, now: datetime, service_id: str, is_open: bool | None) -> list[Event]:
        if service_id not in self.services:
            raise Refused("not_found", f"no service with id {service_id!r}")
        return self._emit(Event("service.override", now, {"service": service_id, "open": is_open}))

    def start_emergency(
        self,
        now: datetime,
        *,
        kind: str,
        emergency_id: int,
        by: str,
        screens: list[tuple[str, str]],
        request_id: str | None = None,
    ) -> tuple[Emergency, list[Event]]:
        """Put the office in emergency mode (or a drill) of a configured ``kind``.

        ``emergency_id`` is the seq the start event will be logged at (the caller knows it: the
        event is appended as soon as this returns); ``screens`` the (screen, name) pairs
        expected to acknowledge it. A start retried with its ``request_id`` gets the same
        emergency again, whether it still lasts or not, and nothing new is logged.
        """
        for known in (self.emergency, *self.ended_emergencies):
            if request_id is not None and known is not None and known.request_id == request_id:
                if known.kind != kind:
                    raise Refused(
                        "conflict", "request_id was already used for another kind", "request_id"
                    )
                return known, []
        config = self.config.emergency(kind)
        if config is None:
            kinds = ", ".join(e.kind for e in self.config.emergencies)
            raise Refused("unknown_kind", f"no emergency kind {kind!r}; one of {kinds}", "kind")
        if self.emergency is not None:
            raise Refused(
                "emergency_active",
                f"the office is already in emergency mode ({self.emergency.kind}); end it first",
            )
        event = Event(
            "emergency.started",
            now,
            {
                "emergency": emergency_id,
                "kind": config.kind,
                "drill": config.drill,
                "by": by,
                "request_id": request_id,
                "heading": dict(config.heading),
                "instruction": dict(config.instruction),
                "checklist": list(config.checklist),
                "screens": [[screen, name] for screen, name in dict(screens).items()],
            },
        )
        self.apply(event)
        assert self.emergency is not None
        return self.emergency, [event]

    def acknowledge_emergency(
        self, now: datetime, emergency_id: int, screen: str, name: str
    ) -> list[Event]:
        """A screen shows the emergency ``emergency_id``; a second word from it logs nothing,
        and one about an emergency no longer in force is refused (it did no harm)."""
        current = self.emergency
        if current is None or current.id != emergency_id:
            raise Refused(
                "not_current", f"emergency {emergency_id} is not the one in force", "emergency"
            )
        known = current.screens.get(screen)
        if known is not None and known.acknowledged_at is not None:
            return []
        data = {"emergency": emergency_id, "screen": screen, "name": name}
        return self._emit(Event("emergency.acknowledged", now, data))

    def end_emergency(self, now: datetime, by: str) -> tuple[Emergency, list[Event]]:
        """Back to a normal day: check-in and calling resume, the queue as it was."""
        current = self.emergency
        if current is None:
            raise Refused("no_emergency", "the office is not in emergency mode")
        event = Event("emergency.ended", now, {"emergency": current.id, "by": by})
        self.apply(event)
        return current, [event]

    # ------------------------------------------------------------ state change

    def apply(self, event: Event) -> None:
        """Apply one logged event. The only place state changes; replay uses it too."""
        self._estimates.clear()
        self._ahead.clear()
        joins = (  # a visitor at the end of their line (not ahead by a head start or a
            # kiosk that sent its check-in late)
            event.kind == "ticket.checked_in"
            and not event.data.get("priority")
            and not event.data.get("arrived_at")
        )
        if not joins:
            self._forecast = None
        self._advance(event.at)
        day = event.at.date()
        if self.day is None or day > self.day:
            self.day = day
            for counter in self.counters.values():
                counter.idle_before_today = counter.idle_while_waiting_sec
            self._forget_before(day if self.keep_from is None else min(day, self.keep_from))
        handler = getattr(self, "_on_" + event.kind.replace(".", "_"))
        # an old log may name a visit forgotten since: nothing of it is left here to change
        if not self._about_a_forgotten_ticket(event):
            handler(event.at, event.data)
        if joins and self._forecast is not None:
            service_id = event.data["service"]
            self._forecast[1].join(
                service_id, event.data["id"], self.typical_minutes(service_id)[0]
            )
        self._refresh_idle(event.at)

    def _about_a_forgotten_ticket(self, event: Event) -> bool:
        if event.kind == "alert.checklist":
            return event.data["alert"] not in self.alerts
        return (
            event.kind.startswith("ticket.")
            and event.kind != "ticket.checked_in"
            and event.data["id"] not in self.tickets
        )

    def _forget_before(self, day: date) -> None:
        """Forget closed visits and resolved alerts of days before ``day`` (see the class)."""
        for ticket in [t for t in self.tickets.values() if t.day < day and not t.is_open]:
            del self.tickets[ticket.id]
            if self.status_tokens.get(ticket.status_token) == ticket.id:
                del self.status_tokens[ticket.status_token]
            if ticket.request_id and self.request_ids.get(ticket.request_id) == ticket.id:
                del self.request_ids[ticket.request_id]
            if has_private_data(ticket):
                self.forgotten_private.setdefault(ticket.day, array("q")).append(ticket.id)
        self.forgotten_private = dict(sorted(self.forgotten_private.items()))
        for key in [k for k in self.day_sequence if k[1] < day]:
            del self.day_sequence[key]
        old = {a.id for a in self.alerts.values() if a.resolved and a.at.date() < day}
        for alert_id in old:
            del self.alerts[alert_id]
        for request_id in [r for r, a in self.alert_request_ids.items() if a in old]:
            del self.alert_request_ids[request_id]

    def restore_indexes(self) -> None:
        """Rebuild what follows from the visits held (after a snapshot load): the queues, the
        open set and the lookups."""
        self.waiting = {s: [] for s in self.services}
        self.open_ids = set()
        self.status_tokens = {}
        self.request_ids = {}
        for ticket in self.tickets.values():
            self.status_tokens[ticket.status_token] = ticket.id
            if ticket.request_id:
                self.request_ids[ticket.request_id] = ticket.id
            if ticket.is_open:
                self.open_ids.add(ticket.id)
            if ticket.state == "waiting":
                self._enqueue(ticket)
        self._forecast = None

    def advance(self, now: datetime) -> None:
        """Bring time-based accounting (idle while waiting) up to ``now``."""
        now = self._fixed(now)
        self._advance(now)
        self._refresh_idle(now)

    def _advance(self, now: datetime) -> None:
        for counter in self.counters.values():
            if counter.idle_waiting_since is not None:
                elapsed = (now - counter.idle_waiting_since).total_seconds()
                counter.idle_while_waiting_sec += max(0.0, elapsed)
                counter.idle_waiting_since = None
        if self.clock is None or now > self.clock:
            self.clock = now

    def _refresh_idle(self, now: datetime) -> None:
        for counter in self.counters.values():
            idle = counter.state == "open" and self.eligible_waiting(counter) > 0
            counter.idle_waiting_since = now if idle else None
            counter.idle_stretch_from = (counter.idle_stretch_from or now) if idle else None

    def idle_today(self, counter_id: str, now: datetime) -> float:
        """Seconds of idling while someone waited since today's first event (reports take the
        difference of the running total over their own period instead)."""
        counter = self.counter(counter_id)
        return self.idle_while_waiting(counter_id, now) - counter.idle_before_today

    def idle_stretch_sec(self, counter_id: str, now: datetime) -> float:
        """How long this counter has been idle, without a break, while someone it serves waits."""
        since = self.counter(counter_id).idle_stretch_from
        return 0.0 if since is None else max(0.0, (self._fixed(now) - since).total_seconds())

    def _on_ticket_checked_in(self, at: datetime, d: dict[str, Any]) -> None:
        quoted = d.get("quoted")
        late = d.get("arrived_at")
        received = at
        at = fixed_offset(datetime.fromisoformat(late)) if late else at
        ticket = Ticket(
            id=d["id"],
            number=d["number"],
            service=d["service"],
            day=at.date(),
            arrived_at=at,
            status_token=d["status_token"],
            name=d.get("name"),
            address_as=d.get("address_as"),
            language=d.get("language"),
            needs=tuple(d.get("needs") or ()),
            appointment=bool(d.get("appointment")),
            priority=bool(d.get("priority")),
            request_id=d.get("request_id"),
            ui_language=d.get("ui_language"),
            quoted=WaitEstimate(*quoted) if quoted else None,
            received_at=received if late else None,
        )
        self.tickets[ticket.id] = ticket
        self.next_ticket_id = max(self.next_ticket_id, ticket.id + 1)
        self.open_ids.add(ticket.id)
        self.status_tokens[ticket.status_token] = ticket.id
        key = (ticket.service, ticket.day)
        self.day_sequence[key] = max(self.day_sequence.get(key, 0), d["sequence"])
        if ticket.request_id:
            self.request_ids[ticket.request_id] = ticket.id
        self._enqueue(ticket)

    def _on_ticket_called(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        counter = self.counters[d["counter"]]
        self._dequeue(ticket)
        ticket.state = "called"
        ticket.counter = counter.id
        ticket.called_at = ticket.called_at or at
        ticket.last_called_at = at
        counter.state = "calling"
        counter.ticket = ticket.id
        self.calls.append(Call(at, ticket.id, ticket.number, ticket.service, counter.id, 0))

    def _on_ticket_recalled(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        ticket.recalls += 1
        ticket.last_called_at = at
        assert ticket.counter is not None
        self.calls.append(
            Call(at, ticket.id, ticket.number, ticket.service, ticket.counter, ticket.recalls)
        )

    def _on_ticket_started(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        ticket.state = "serving"
        ticket.started_at = at
        if ticket.counter:
            self.counters[ticket.counter].state = "serving"

    def _on_ticket_completed(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        ticket.needs_met = d.get("needs_met")
        if d.get("notes"):
            ticket.notes.append(Note(at, d["notes"], d.get("by", "")))
        began = ticket.last_called_at or ticket.called_at
        if began is not None:
            self.recent_minutes[ticket.service].append((at - began).total_seconds() / 60)
            self._typical.pop(ticket.service, None)
        self._finish(ticket, "done", at)

    def _on_ticket_no_show(self, at: datetime, d: dict[str, Any]) -> None:
        self._finish(self.tickets[d["id"]], "no_show", at)

    def _on_ticket_walkaway(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        self._dequeue(ticket)
        self._finish(ticket, "walkaway", at)

    def _on_ticket_transferred(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        self._release_counter(ticket)
        ticket.transfers.append(TransferRecord(at, ticket.service, d["service"], ticket.counter))
        if d.get("note"):
            ticket.notes.append(Note(at, d["note"], d.get("by", "")))
        ticket.service = d["service"]
        ticket.state = "waiting"
        ticket.counter = None
        ticket.started_at = None
        ticket.recalls = 0  # a new service, a new call: its own recall limit applies
        self._enqueue(ticket)

    def _on_ticket_acknowledged(self, at: datetime, d: dict[str, Any]) -> None:
        ticket = self.tickets[d["id"]]
        ticket.acknowledged_via = d["via"]
        seen = datetime.fromisoformat(d["seen_at"]) if d.get("seen_at") else at
        ticket.acknowledged_at = ticket.acknowledged_at or seen

    def _on_ticket_surveyed(self, at: datetime, d: dict[str, Any]) -> None:
        self.tickets[d["id"]].survey = (bool(d["needs_met"]), d.get("rating"))

    def _on_ticket_noted(self, at: datetime, d: dict[str, Any]) -> None:
        self.tickets[d["id"]].notes.append(Note(at, d["text"], d.get("by", "")))

    def _on_ticket_flagged(self, at: datetime, d: dict[str, Any]) -> None:
        self.tickets[d["id"]].flagged = d["reason"]

    def _on_tickets_purged(self, at: datetime, d: dict[str, Any]) -> None:
        purged = set(d["ids"])
        for day, ids in list(self.forgotten_private.items()):
            left = array("q", (i for i in ids if i not in purged))
            if left:
                self.forgotten_private[day] = left
            else:
                del self.forgotten_private[day]
        for ticket_id in d["ids"]:
            ticket = self.tickets.get(ticket_id)
            if ticket is not None:
                ticket.name = ticket.address_as = ticket.language = None
                ticket.needs = ()
                ticket.notes = []
                ticket.flagged = "(erased after the retention period)" if ticket.flagged else None

    def _on_counter_opened(self, at: datetime, d: dict[str, Any]) -> None:
        counter = self.counters[d["counter"]]
        counter.staff = d["staff"]
        if counter.ticket is None:
            counter.state = "open"

    def _on_counter_on_break(self, at: datetime, d: dict[str, Any]) -> None:
        counter = self.counters[d["counter"]]
        counter.state = "break"
        counter.break_from = at

    def _on_counter_closed(self, at: datetime, d: dict[str, Any]) -> None:
        counter = self.counters[d["counter"]]
        counter.state = "closed"
        counter.staff = None

    def _on_day_closed(self, at: datetime, d: dict[str, Any]) -> None:
        for ticket_id in d["ids"]:
            ticket = self.tickets[ticket_id]
            if ticket.state == "waiting":
                self._dequeue(ticket)
            self._finish(ticket, "closed_at_end_of_day", at)

    def _on_alert_raised(self, at: datetime, d: dict[str, Any]) -> None:
        alert = Alert(d["alert"], "safety", at, d.get("counter"), d.get("staff"))
        self.alerts[alert.id] = alert
        self.next_alert_id = max(self.next_alert_id, alert.id + 1)
        if d.get("request_id"):
            self.alert_request_ids[d["request_id"]] = alert.id

    def _on_alert_checklist(self, at: datetime, d: dict[str, Any]) -> None:
        alert = self.alerts[d["alert"]]
        alert.done = tuple(d["done"])
        alert.note = d.get("note", "")
        alert.resolved = len(alert.done) == len(self.config.safety_checklist)

    def _on_services_hours(self, at: datetime, d: dict[str, Any]) -> None:
        """Nothing to change: the event marks the moment, so screens get fresh summaries."""

    def _on_office_notice(self, at: datetime, d: dict[str, Any]) -> None:
        self.notice = d["text"]

    def _on_printer_status(self, at: datetime, d: dict[str, Any]) -> None:
        self.printers[d["device"]] = (d["status"], d.get("detail", ""))

    def _on_service_override(self, at: datetime, d: dict[str, Any]) -> None:
        if d["open"] is None:
            self.service_override.pop(d["service"], None)
        else:
            self.service_override[d["service"]] = bool(d["open"])

    def _on_emergency_started(self, at: datetime, d: dict[str, Any]) -> None:
        self.emergency = Emergency(
            id=d["emergency"],
            kind=d["kind"],
            drill=bool(d["drill"]),
            started_at=at,
            started_by=d["by"],
            heading=dict(d["heading"]),
            instruction=dict(d["instruction"]),
            checklist=tuple(d["checklist"]),
            screens={screen: ScreenAck(name) for screen, name in d["screens"]},
            request_id=d.get("request_id"),
        )

    def _on_emergency_acknowledged(self, at: datetime, d: dict[str, Any]) -> None:
        current = self.emergency
        if current is None or current.id != d["emergency"]:
            return
        ack = current.screens.setdefault(d["screen"], ScreenAck(d["name"]))
        ack.acknowledged_at = ack.acknowledged_at or at

    def _on_emergency_ended(self, at: datetime, d: dict[str, Any]) -> None:
        current = self.emergency
        if current is None or current.id != d["emergency"]:
            return
        current.ended_at, current.ended_by = at, d["by"]
        self.ended_emergencies.append(current)
        self.emergency = None

    # ----------------------------------------------------------------- helpers

    def _emit(self, event: Event) -> list[Event]:
        self.apply(event)
        return [event]

    def _held(self, ticket_id: int, now: datetime) -> Ticket:
        """The ticket as a command at ``now`` finds it. A closed visit of a day before ``now``'s
        is forgotten by the first event of that day, which would be this command's own: it is
        not found already, so the command is refused rather than logged and then lost."""
        ticket = self.ticket(ticket_id)
        if self._enters_a_new_day(now) and not ticket.is_open and ticket.day < now.date():
            raise Refused("not_found", f"no ticket with id {ticket_id}")
        return ticket

    def _enters_a_new_day(self, now: datetime) -> bool:
        """Whether an event at ``now`` would forget what earlier days left (see the class)."""
        return self.keep_from is None and self.day is not None and now.date() > self.day

    def _in_state(self, ticket_id: int, allowed: set[str], action: str) -> Ticket:
        ticket = self.ticket(ticket_id)
        if ticket.state not in allowed:
            raise Refused(
                "conflict",
                f"cannot {action} {ticket.number}: it is {ticket.state.replace('_', ' ')}",
            )
        return ticket

    def _require_free(self, counter: Counter, action: str = "call the next visitor") -> None:
        if counter.ticket is not None:
            number = self.tickets[counter.ticket].number
            raise Refused(
                "conflict", f"{counter.name} is still with {number}; finish it before you {action}"
            )
        if counter.state in ("closed", "break") and action == "call the next visitor":
            state = "closed" if counter.state == "closed" else "on break"
            raise Refused("conflict", f"{counter.name} is {state}; open it first")

    def _enqueue(self, ticket: Ticket) -> None:
        bisect.insort(self.waiting[ticket.service], ticket.queue_key(self.head_start))

    def _dequeue(self, ticket: Ticket) -> None:
        queue = self.waiting[ticket.service]
        key = ticket.queue_key(self.head_start)
        index = bisect.bisect_left(queue, key)
        if index < len(queue) and queue[index] == key:
            del queue[index]

    def _release_counter(self, ticket: Ticket) -> None:
        if ticket.counter is None:
            return
        counter = self.counters[ticket.counter]
        if counter.ticket == ticket.id:
            counter.ticket = None
            if counter.state in ("calling", "serving"):
                counter.state = "open"

    def _finish(self, ticket: Ticket, outcome: str, at: datetime) -> None:
        self.open_ids.discard(ticket.id)
        self._release_counter(ticket)
        ticket.state = outcome
        ticket.ended_at = at
