"""Engine records to wire shapes, filtered by who is asking.

This is the one place that decides what leaves the server. Private fields (name, form of
address, language, needs, notes, debrief flags) are copied for staff roles only; a display, a
kiosk or a visitor's status page gets numbers, counters, services and counts.
"""

from __future__ import annotations

from datetime import datetime

from lobby import protocol as p
from server.engine import Alert, Call, Counter, Engine, Ticket, WaitEstimate

STAFF_ROLES = frozenset({"clerk", "supervisor", "admin"})
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
TITLES = {"mr": "Mr.", "ms": "Ms.", "mx": "Mx."}


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


def ticket_view(engine: Engine, ticket: Ticket, role: str, now: datetime) -> p.TicketView:
    waiting = ticket.state == "waiting"
    counter = engine.counters.get(ticket.counter) if ticket.counter else None
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
        survey_needs_met=ticket.survey[0] if ticket.survey else None,
        survey_rating=ticket.survey[1] if ticket.survey else None,
        transfers=[
            p.Transfer(iso(t.at) or "", t.from_service, t.to_service, t.by_counter)
            for t in ticket.transfers
        ],
    )
    if role in STAFF_ROLES:
        view.priority = ticket.priority  # it hints at a need or an appointment
        view.name = ticket.name
        view.address_as = ticket.address_as
        view.addressed_as = addressed_as(ticket)
        view.language = ticket.language
        view.needs = list(ticket.needs)
        view.notes = [p.Note(iso(n.at) or "", n.text, n.by) for n in ticket.notes]
        view.flagged = ticket.flagged
    return view


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
    )
    if role in STAFF_ROLES:
        view.staff = counter.staff
        view.idle_while_waiting_sec = round(engine.idle_while_waiting(counter.id, now), 1)
    return view


def service_views(engine: Engine, now: datetime) -> list[p.ServiceView]:
    views = []
    for service in engine.services.values():
        estimate = engine.estimate(service.id, now)
        views.append(
            p.ServiceView(
                id=service.id,
                name=service.name,
                prefix=service.prefix,
                state=engine.service_state(service.id, now),  # type: ignore[arg-type]
                hours=service.hours_text,
                waiting=len(engine.waiting[service.id]),
                longest_wait_min=round(engine.longest_wait_min(service.id, now), 1),
                target_wait_min=service.target_wait_min,
                estimate=p.Estimate(estimate.low, estimate.high),
                info=service.info,
            )
        )
    return views


def call_view(engine: Engine, call: Call, seq: int = 0) -> p.CallView:
    return p.CallView(
        seq=seq,
        at=iso(call.at) or "",
        number=call.number,
        service=call.service,
        counter=call.counter,
        counter_name=engine.counters[call.counter].name,
        recall=call.recall,
    )


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


def office_view(engine: Engine, role: str) -> p.OfficeView:
    config = engine.config
    return p.OfficeView(
        name=config.name,
        timezone=config.timezone,
        languages=list(config.languages),
        notice=engine.notice,
        retention_days=config.retention_days,
        public_url=config.public_url,
        safety_checklist=list(config.safety_checklist) if role in STAFF_ROLES else [],
    )


def snapshot(engine: Engine, role: str, now: datetime, seq: int) -> p.StateSnapshot:
    """The state a role may see. Displays and kiosks get no tickets beyond the recent calls."""
    state = p.StateSnapshot(
        seq=seq,
        now=iso(now) or "",
        role=role,
        office=office_view(engine, role),
        services=service_views(engine, now),
        counters=[counter_view(engine, c, role, now) for c in engine.counters.values()],
        recent_calls=[call_view(engine, c) for c in engine.recent_calls()],
    )
    if role in STAFF_ROLES:
        state.tickets = [ticket_view(engine, t, role, now) for t in engine.open_tickets()]
    if role in SUPERVISOR_ROLES:
        state.alerts = [alert_view(engine, a) for a in engine.alerts.values() if not a.resolved]
        state.printers = dict(engine.printers)
    return state
