"""Engine records to wire shapes, filtered by who is asking.

This is the one place that decides what leaves the server. Private fields (name, form of
address, language, needs, notes, debrief flags) are copied for staff roles only; a display, a
kiosk or a visitor's status page gets numbers, counters, services and counts.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime, timedelta

import msgspec

from lobby import protocol as p
from server.engine import (
    ACTIVE_STATES,
    Alert,
    Call,
    Counter,
    Emergency,
    Engine,
    Ticket,
    WaitEstimate,
)

STAFF_ROLES = frozenset({"clerk", "supervisor", "admin"})
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
TITLES = {"mr": "Mr.", "ms": "Ms.", "mx": "Mx."}
NEAR_TARGET = 0.75
"""A wait past this share of its target is shown as near it (amber) on every screen."""
EARLIER_CALLS = 8


def wait_level(minutes: float, target_min: float) -> p.WaitLevel:
    """Called at exactly the target is within it, as the service level counts it."""
    if minutes > target_min:
        return "over"
    if minutes >= NEAR_TARGET * target_min:
        return "near"
    return "ok"


def steady_wait_min(minutes: float, target_min: float) -> float:
    """Minutes a wait of ``minutes`` can go on growing before its whole minute or its
    ``wait_level`` changes (0: at the next look, as a wait at the target is "over" the moment
    it grows)."""
    steady = math.floor(minutes) + 1 - minutes
    near = NEAR_TARGET * target_min
    if minutes < near:
        steady = min(steady, near - minutes)
    if minutes <= target_min:
        steady = min(steady, target_min - minutes)
    return steady


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def addressed_as(ticket: Ticket) -> str:
    """How staff should greet the visitor: "Ms. Garcia", "Maria", or the ticket number."""
    if not ticket.name or ticket.address_as in (None, "number"):
        return ticket.number
    parts = ticket.name.split()
    if ticket.address_as == "first_name":
        return parts[0]
    return f"{TITLES[ticket.address_as]} {parts[-1]}"


def estimate_view(estimate: WaitEstimate | None) -> p.Estimate | None:
    return p.Estimate(estimate.low, estimate.high) if estimate else None


def status_url(engine: Engine, ticket: Ticket) -> str:
    """The QR code's target; opens in the language the visitor used at the kiosk."""
    url = f"{engine.config.public_url}/status/{ticket.status_token}"
    if ticket.ui_language and ticket.ui_language != engine.config.languages[0]:
        url += f"?lang={ticket.ui_language}"
    return url


def waited_min(ticket: Ticket, now: datetime) -> float:
    """Arrival to the first call, or to now while the visitor still waits (a transfer does not
    restart the clock)."""
    end = ticket.called_at or now
    return max(0.0, (end - ticket.arrived_at).total_seconds() / 60)


def head_start(engine: Engine, ticket: Ticket) -> str | None:
    """The priority rule that moves this visitor ahead of longer waits, in the rule's words."""
    if not ticket.priority:
        return None
    rule = engine.config.priority
    reasons = [need for need in ticket.needs if need in rule.needs]
    if ticket.appointment and rule.appointment:
        reasons.append("appointment")
    return ", ".join(reasons) or "priority"


def ticket_view(engine: Engine, ticket: Ticket, role: str, now: datetime) -> p.TicketView:
    waiting = ticket.state == "waiting"
    counter = engine.counters.get(ticket.counter) if ticket.counter else None
    waited = waited_min(ticket, now) if ticket.is_open or ticket.called_at else None
    view = p.TicketView(
        id=ticket.id,
        number=ticket.number,
        service=ticket.service,
        state=ticket.state,  # type: ignore[arg-type]
        arrived_at=iso(ticket.arrived_at) or "",
        called_at=iso(ticket.called_at),
        counter=ticket.counter,
        position=engine.position(ticket),
        estimate=estimate_view(engine.estimate(ticket.service, now, ticket)) if waiting else None,
        status_url=status_url(engine, ticket),
        service_name=engine.services[ticket.service].name,
        counter_name=counter.name if counter else None,
        recalls=ticket.recalls,
        started_at=iso(ticket.started_at),
        ended_at=iso(ticket.ended_at),
        needs_met=ticket.needs_met,
        quoted_estimate=estimate_view(ticket.quoted),
        acknowledged=ticket.acknowledged_via,
        acknowledged_at=iso(ticket.acknowledged_at),
        received_at=iso(ticket.received_at),
        survey_needs_met=ticket.survey[0] if ticket.survey else None,
        survey_rating=ticket.survey[1] if ticket.survey else None,
        transfers=[
            p.Transfer(iso(t.at) or "", t.from_service, t.to_service, t.by_counter)
            for t in ticket.transfers
        ],
    )
    if waited is not None:
        view.waited_min = int(waited)
        view.wait_level = wait_level(waited, engine.services[ticket.service].target_wait_min)
    if role in STAFF_ROLES:
        view.head_start = head_start(engine, ticket)
        view.priority = ticket.priority  # it hints at a need or an appointment
        view.name = ticket.name
        view.address_as = ticket.address_as
        view.addressed_as = addressed_as(ticket)
        view.language = ticket.language
        view.needs = list(ticket.needs)
        view.notes = [p.Note(iso(n.at) or "", n.text, n.by) for n in ticket.notes]
        view.flagged = ticket.flagged
    return view


PRIVATE_TICKET_FIELDS = (
    "priority",
    "head_start",
    "name",
    "address_as",
    "addressed_as",
    "language",
    "needs",
    "notes",
    "flagged",
)


PUBLIC_DEFAULTS = {
    f.name: f.default
    for f in msgspec.structs.fields(p.TicketView)
    if f.name in PRIVATE_TICKET_FIELDS
}


def public_ticket(view: p.TicketView) -> p.TicketView:
    """A staff view with every private field back at its default: what a visitor may see."""
    return msgspec.structs.replace(view, **PUBLIC_DEFAULTS)


def counter_view(engine: Engine, counter: Counter, role: str, now: datetime) -> p.CounterView:
    ticket = engine.tickets.get(counter.ticket) if counter.ticket else None
    view = p.CounterView(
        id=counter.id,
        name=counter.name,
        services=list(counter.services),
        state=counter.state,  # type: ignore[arg-type]
        ticket=counter.ticket,
        ticket_number=ticket.number if ticket else None,
        eligible_waiting=engine.eligible_waiting(counter),
        names=counter_names(engine, counter.id),
    )
    if role in STAFF_ROLES:
        view.staff = counter.staff
        view.idle_while_waiting_sec = float(int(engine.idle_today(counter.id, now)))
        view.idle_nudge = idle_nudge(engine, counter, view.eligible_waiting, now)
    return view


def idle_nudge(engine: Engine, counter: Counter, waiting: int, now: datetime) -> p.IdleNudge | None:
    """Only an open counter with nobody at it is nudged: never one on break, closed or busy,
    and only once it has stood idle for the office's grace period (``idle_nudge_sec``) while
    someone it serves waited."""
    if counter.state != "open" or counter.ticket is not None or waiting == 0:
        return None
    if engine.idle_stretch_sec(counter.id, now) < engine.config.idle_nudge_sec:
        return None
    longest = max(engine.longest_wait_min(s, now) for s in counter.services)
    return p.IdleNudge(waiting, round(longest, 1))


def service_views(
    engine: Engine, now: datetime, only: Collection[str] | None = None
) -> list[p.ServiceView]:
    """Every service in the office's order, or only those in ``only``."""
    views = []
    for service in engine.services.values():
        if only is not None and service.id not in only:
            continue
        estimate = engine.estimate(service.id, now)
        longest = round(engine.longest_wait_min(service.id, now), 1)
        views.append(
            p.ServiceView(
                id=service.id,
                name=service.name,
                prefix=service.prefix,
                state=engine.service_state(service.id, now),  # type: ignore[arg-type]
                hours=service.hours_text,
                waiting=len(engine.waiting[service.id]),
                longest_wait_min=longest,
                target_wait_min=service.target_wait_min,
                estimate=p.Estimate(estimate.low, estimate.high),
                info=service.info,
                ahead=engine.people_ahead(service.id, None),
                wait_level=wait_level(longest, service.target_wait_min),
                names=service.names,
                infos=service.infos,
            )
        )
    return views


def call_view(engine: Engine, call: Call) -> p.CallView:
    return p.CallView(
        ticket=call.ticket,
        at=iso(call.at) or "",
        number=call.number,
        service=call.service,
        counter=call.counter,
        counter_name=engine.counters[call.counter].name,
        recall=call.recall,
        counter_names=counter_names(engine, call.counter),
    )


def counter_names(engine: Engine, counter_id: str) -> dict[str, str]:
    config = engine.config.counter(counter_id)
    return config.names if config is not None else {}


def calls_view(engine: Engine) -> p.CallsView:
    """Now serving: the newest call of each visitor still called or served at that counter.
    Earlier: the other recent calls, each number once, so a finished visit leaves the big lines
    the moment it ends."""
    now_serving: list[p.CallView] = []
    earlier: list[p.CallView] = []
    seen: set[int] = set()
    for call in reversed(engine.calls):
        if call.ticket in seen:
            continue
        seen.add(call.ticket)
        ticket = engine.tickets.get(call.ticket)
        active = (
            ticket is not None
            and ticket.state in ACTIVE_STATES
            and ticket.counter == call.counter
            and engine.counters[call.counter].ticket == ticket.id
        )
        if active:
            now_serving.append(call_view(engine, call))
        elif len(earlier) < EARLIER_CALLS:
            earlier.append(call_view(engine, call))
    return p.CallsView(now_serving=now_serving, earlier=earlier)


def alert_view(engine: Engine, alert: Alert) -> p.AlertView:
    counter = engine.counters.get(alert.counter) if alert.counter else None
    return p.AlertView(
        id=alert.id,
        kind=alert.kind,
        at=iso(alert.at) or "",
        counter=alert.counter,
        counter_name=counter.name if counter else None,
        staff=alert.staff,
        detail=f"{len(alert.done)}/{len(engine.config.safety_checklist)} checklist items done",
        resolved=alert.resolved,
        done=list(alert.done),
        note=alert.note,
    )


def printer_view(device: str, status: tuple[str, str]) -> p.PrinterView:
    return p.PrinterView(device, status[0], status[1])


def office_view(engine: Engine, role: str, now: datetime) -> p.OfficeView:
    config = engine.config
    return p.OfficeView(
        name=config.name,
        timezone=config.timezone,
        languages=list(config.languages),
        notice=engine.notice,
        notices=notices(engine),
        data_practices=dict(config.data_practices),
        retention_days=config.retention_days,
        public_url=config.public_url,
        safety_checklist=list(config.safety_checklist) if role in STAFF_ROLES else [],
        emergency=emergency_view(engine.emergency, role, now) if engine.emergency else None,
    )


ACK_WITHIN = timedelta(seconds=p.EMERGENCY_ACK_SEC)


def emergency_view(emergency: Emergency, role: str, now: datetime) -> p.EmergencyView:
    """What every screen shows in place of the queue; staff also get who started it and the
    checklist, and supervisors each expected screen, marked late once it has not acknowledged
    within ``EMERGENCY_ACK_SEC`` (a tick at ``now`` moves that mark). A display, a kiosk or a
    status page is not told a staff member's name, as with the counters."""
    view = p.EmergencyView(
        id=emergency.id,
        kind=emergency.kind,
        drill=emergency.drill,
        started_at=iso(emergency.started_at) or "",
        started_by=emergency.started_by if role in STAFF_ROLES else "",
        heading=dict(emergency.heading),
        instruction=dict(emergency.instruction),
    )
    if role in STAFF_ROLES:
        view.checklist = list(emergency.checklist)
    if role in SUPERVISOR_ROLES:
        deadline = emergency.started_at + ACK_WITHIN
        view.screens = [
            p.EmergencyScreen(
                screen=screen,
                name=ack.name,
                acknowledged_at=iso(ack.acknowledged_at),
                late=(ack.acknowledged_at or now) > deadline,
            )
            for screen, ack in sorted(emergency.screens.items())
        ]
    return view


def in_language(engine: Engine, language: str | None, view: p.TicketView) -> p.TicketView:
    """A ticket's view with its service and counter named in ``language`` (the status page
    speaks to one visitor, in their language)."""
    if language is None:
        return view
    service = engine.services[view.service]
    counter = engine.config.counter(view.counter) if view.counter else None
    return msgspec.structs.replace(
        view,
        service_name=service.names.get(language, view.service_name),
        counter_name=counter.names.get(language, counter.name) if counter else view.counter_name,
    )


def notices(engine: Engine) -> dict[str, str]:
    """The notice in every office language: the configured one has its translations; one a
    supervisor typed is shown as typed, in every language."""
    config = engine.config
    if engine.notice == config.notice:
        return config.notices
    return dict.fromkeys(config.languages, engine.notice)


def snapshot(engine: Engine, role: str, now: datetime, seq: int) -> p.StateSnapshot:
    """The state a role may see. Displays and kiosks get no tickets beyond the recent calls."""
    state = p.StateSnapshot(
        seq=seq,
        now=iso(now) or "",
        role=role,
        office=office_view(engine, role, now),
        services=service_views(engine, now),
        counters=[counter_view(engine, c, role, now) for c in engine.counters.values()],
        calls=calls_view(engine),
    )
    if role in STAFF_ROLES:
        state.tickets = [ticket_view(engine, t, role, now) for t in engine.open_tickets()]
    if role in SUPERVISOR_ROLES:
        state.alerts = [alert_view(engine, a) for a in engine.alerts.values() if not a.resolved]
        state.printers = {d: printer_view(d, s) for d, s in engine.printers.items()}
    return state
