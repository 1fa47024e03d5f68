"""HTTP handlers for the JSON API. Each one: who may call it, what body, what it answers.

The ``@api`` decorator records method, path, body and response types and the roles allowed, so
the route table and ``/api/openapi.json`` come from the same declarations.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from lobby import protocol as p
from server import presenters as present
from server.auth import (
    COOKIE,
    DUMMY_HASH,
    Principal,
    StatusTokens,
    hash_token,
    new_token,
    require,
    token_from,
    verify_password,
    weak_password,
)
from server.control import CONTROL_ROLE
from server.engine import Refused
from server.errors import STATUS_BY_KIND, api_error
from server.keys import CHECK_IN_LIMIT, OFFICE, PRINCIPALS, SESSIONS, SIGN_IN_LIMITS
from server.office import Office
from server.reports.charts import CHARTS, svg_text
from server.reports.figures import period_of, report
from server.reports.tables import BREAKDOWN, breakdown, csv_text
from server.store.port import RecordsBehind
from server.validation import path_param, read_body

printers_log = logging.getLogger("lobby.printers")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLERKS = ("clerk", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
ANY_ROLE = ("kiosk", "display", "clerk", "supervisor", "admin")
EMERGENCY_COMMANDERS = (*SUPERVISORS, CONTROL_ROLE)
STATUS_TOKENS = StatusTokens()
"""Who starts and ends the emergency mode: a supervisor, or ``lobby emergency`` on the
server's own machine (its control token, ``server/control.py``)."""
_encoder = msgspec.json.Encoder()
EMERGENCY_REFUSED = (409, "refused while the office is in emergency mode (code emergency)")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    roles: tuple[str, ...]
    body: type | None
    response: type | None
    status: int
    also: tuple[tuple[int, str, type | None], ...] = ()
    """Other answers than ``status`` and the 4xx refusals: (status, description, body type)."""


ROUTES: list[Route] = []


def api(
    method: str,
    path: str,
    summary: str,
    *,
    roles: tuple[str, ...] = (),
    body: type | None = None,
    response: type | None = None,
    status: int = 200,
    also: tuple[tuple[int, str, type | None], ...] = (),
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, path, handler, summary, roles, body, response, status, also))
        return handler

    return register


def reply(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=_encoder.encode(payload), status=status, content_type="application/json"
    )


def office_of(request: web.Request) -> Office:
    return request.app[OFFICE]


def ticket_id(request: web.Request) -> int:
    return int(path_param(request, "ticket_id"))


def path_counter(request: web.Request) -> str:
    return str(path_param(request, "counter_id"))


async def guarded(coro: Awaitable[Any]) -> Any:
    """Turn an engine refusal into the matching 4xx; nothing was changed."""
    try:
        return await coro
    except Refused as refused:
        raise api_error(
            STATUS_BY_KIND[refused.kind], refused.kind, refused.message, refused.field
        ) from None


def ticket_reply(
    request: web.Request, ticket_id_: int, role: str, status: int = 200
) -> web.Response:
    office = office_of(request)
    ticket = office.engine.tickets.get(ticket_id_)
    if ticket is None:  # finished, and forgotten by the first event of a new day since
        raise api_error(404, "not_found", f"no ticket with id {ticket_id_}")
    return reply(office.ticket_view(ticket, role), status)


def check_clerk_ticket(office: Office, principal: Principal, tid: int) -> None:
    """A clerk acts on a waiting visitor or the one at a counter they hold (a note or a flag
    too: another counter's visitor is that clerk's to describe); supervisors on any."""
    ticket = office.engine.tickets.get(tid)
    if ticket is None:
        raise api_error(404, "not_found", f"no ticket with id {tid}")
    if principal.role != "clerk" or ticket.counter is None:
        return
    counter = office.engine.counters[ticket.counter]
    if counter.staff != principal.name:
        raise api_error(403, "forbidden", f"{ticket.number} is with {counter.name}, not yours")


def check_clerk_counter(office: Office, principal: Principal, counter_id: str) -> None:
    counter = office.engine.counters.get(counter_id)
    if counter is None:
        raise api_error(404, "not_found", f"no counter with id {counter_id!r}")
    taken = counter.staff not in (None, principal.name) and counter.state != "closed"
    if principal.role == "clerk" and taken:
        raise api_error(403, "forbidden", f"{counter.name} is signed in by {counter.staff}")


# ------------------------------------------------------------------ public


@api(
    "GET",
    "/healthz",
    "Ready check: 503 storage_full or storage_error while the storage refuses commits",
    also=((503, "not ready: the storage refuses commits (the error says why)", p.ErrorResponse),),
)
async def healthz(request: web.Request) -> web.Response:
    trouble = office_of(request).store.trouble
    if trouble is not None:
        raise api_error(503, trouble.code, trouble.message)
    return reply({"ok": True})


async def end_sessions(app: web.Application, digests: list[str]) -> None:
    """Sign these sessions out: their tokens stop working at once, cached or not."""
    for digest in digests:
        await app[OFFICE].store.remove_session(digest)
        app[PRINCIPALS].pop(digest, None)
        app[SESSIONS].forget(digest)


@api(
    "POST",
    "/api/login",
    "Staff sign-in; 429 with Retry-After after too many wrong passwords",
    body=p.LoginRequest,
    response=p.LoginResponse,
    also=((429, "too many wrong passwords for this name or from this address", p.ErrorResponse),),
)
async def login(request: web.Request) -> web.Response:
    body = await read_body(request, p.LoginRequest)
    office = office_of(request)
    limits, address = request.app[SIGN_IN_LIMITS], request.remote or "unknown"
    limits.check(body.name, address)  # before the password: a locked name confirms nothing
    found = await office.store.staff_password(body.name)
    stored_hash = found[1] if found else DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, stored_hash, body.password)
    if not found or not ok:
        limits.failed(body.name, address)
        raise api_error(401, "bad_credentials", "name or password is not right")
    limits.succeeded(body.name)
    account = found[0]
    weak = None if office.config.security.demo else weak_password(body.password)
    if weak is not None:
        raise api_error(
            403,
            "weak_password",
            f"this password may not be used here ({weak}): ask an admin to set a new one"
            f" with `lobby staff add {account.name} --role {account.role}`",
        )
    token = new_token()
    await office.store.add_session(hash_token(token), account.id)
    return reply(p.LoginResponse(token=token, role=account.role, name=account.name))


@api(
    "POST",
    "/api/logout",
    "Staff sign-out: the session token stops working (everywhere: every session of the person)",
    roles=CLERKS,
    body=p.LogoutRequest,
)
async def logout(request: web.Request) -> web.Response:
    principal = require(request, *CLERKS)
    body = await read_body(request, p.LogoutRequest)
    token, _ = token_from(request)
    if principal.kind != "staff" or not token:
        raise api_error(409, "conflict", "only a staff session can sign out")
    digests = [hash_token(token)]
    if body.everywhere:
        await office_of(request).store.remove_sessions_of(principal.id)
        digests += [
            digest
            for digest, (who, *_) in request.app[PRINCIPALS].items()
            if who.kind == "staff" and who.id == principal.id
        ]
    await end_sessions(request.app, digests)
    response = reply({"ok": True})
    response.del_cookie(COOKIE)
    return response


# ----------------------------------------------------------------- tickets


@api(
    "POST",
    "/api/tickets",
    "Check in a visitor (kiosk) or a walk-in (clerk)",
    roles=("kiosk", *CLERKS),
    body=p.CheckInRequest,
    response=p.TicketView,
    status=201,
    also=(
        (200, "a retry (same client_request_id): the ticket it created", p.TicketView),
        (429, "this kiosk reached its check-ins per minute (Retry-After)", p.ErrorResponse),
        (*EMERGENCY_REFUSED, p.ErrorResponse),
    ),
)
async def check_in(request: web.Request) -> web.Response:
    principal = require(request, "kiosk", *CLERKS)
    body = await read_body(request, p.CheckInRequest)
    office = office_of(request)
    if body.appointment and principal.role == "kiosk":
        raise api_error(403, "forbidden", "appointments are confirmed by staff", "appointment")
    if body.arrived_at is not None and principal.role != "kiosk":
        raise api_error(403, "forbidden", "only a kiosk sends an arrival time", "arrived_at")
    known = body.client_request_id in office.engine.request_ids
    if principal.kind == "device" and not known:  # a retry is the same visitor, not another
        request.app[CHECK_IN_LIMIT].admit(principal, office.now())
    token = STATUS_TOKENS.next()
    ticket = await guarded(
        office.run(
            lambda now: office.engine.check_in(
                now,
                service=body.service,
                request_id=body.client_request_id,
                status_token=token,
                name=body.name,
                address_as=body.address_as,
                language=body.language,
                needs=tuple(dict.fromkeys(body.needs)),
                appointment=body.appointment,
                by=principal.name,
                ui_language=body.kiosk_language,
                arrived_at=body.arrived_at,
            )
        )
    )
    return ticket_reply(request, ticket.id, principal.role, 200 if known else 201)


@api("GET", "/api/tickets/{ticket_id}", "One ticket", roles=CLERKS, response=p.TicketView)
async def get_ticket(request: web.Request) -> web.Response:
    principal = require(request, *CLERKS)
    tid = ticket_id(request)
    if tid not in office_of(request).engine.tickets:
        raise api_error(404, "not_found", f"no ticket with id {tid}")
    return ticket_reply(request, tid, principal.role)


def ticket_action(
    path: str,
    summary: str,
    body_type: type | None,
    decide: Callable[[Office, int, Any, Principal], Callable[[datetime], list[Any]]],
    roles: tuple[str, ...] = CLERKS,
    own_counter: bool = True,
) -> None:
    async def handler(request: web.Request) -> web.Response:
        principal = require(request, *roles)
        tid = ticket_id(request)  # the path first: an id that cannot exist is a 404
        body: Any = None if body_type is None else await read_body(request, body_type)
        office = office_of(request)
        if own_counter:
            check_clerk_ticket(office, principal, tid)
        await guarded(office.act(decide(office, tid, body, principal)))
        return ticket_reply(request, tid, principal.role)

    handler.__name__ = path.rsplit("/", 1)[-1].replace("-", "_")
    api(
        "POST",
        f"/api/tickets/{{ticket_id}}/{path}",
        summary,
        roles=roles,
        body=body_type,
        response=p.TicketView,
    )(handler)


ticket_action(
    "recall",
    "Call the visitor again (counted)",
    None,
    lambda o, t, b, who: lambda now: o.engine.recall(now, t),
)
ticket_action(
    "start",
    "The visitor reached the counter",
    None,
    lambda o, t, b, who: lambda now: o.engine.start(now, t),
)
ticket_action(
    "no-show",
    "The visitor did not come",
    None,
    lambda o, t, b, who: lambda now: o.engine.no_show(now, t),
)
ticket_action(
    "cancel",
    "The visitor left before being called (walkaway)",
    None,
    lambda o, t, b, who: lambda now: o.engine.cancel(now, t),
    own_counter=False,
)
ticket_action(
    "complete",
    "Visit done; were the needs met?",
    p.CompleteRequest,
    lambda o, t, b, who: lambda now: o.engine.complete(now, t, b.needs_met, b.notes, who.name),
)
ticket_action(
    "transfer",
    "Refer to another service; arrival time is kept",
    p.TransferRequest,
    lambda o, t, b, who: lambda now: o.engine.transfer(now, t, b.service, b.note, who.name),
)
ticket_action(
    "notes",
    "Add a note that travels with the ticket",
    p.NoteRequest,
    lambda o, t, b, who: lambda now: o.engine.add_note(now, t, b.text, who.name),
)
ticket_action(
    "flag",
    "Flag the visit for a supervisor debrief",
    p.FlagRequest,
    lambda o, t, b, who: lambda now: o.engine.flag(now, t, b.reason, who.name),
)
ticket_action(
    "acknowledged",
    "The kiosk printed the ticket or showed it on screen",
    p.AcknowledgedRequest,
    lambda o, t, b, who: lambda now: o.engine.acknowledge(now, t, b.via, b.at),
    roles=("kiosk", *CLERKS),
    own_counter=False,
)


# ---------------------------------------------------------------- counters


def counter_reply(request: web.Request, counter_id: str, role: str) -> web.Response:
    office = office_of(request)
    return reply(office.counter_view(counter_id, role))


def counter_action(
    path: str,
    summary: str,
    decide: Callable[[Office, str, Principal], Callable[[datetime], list[Any]]],
) -> None:
    async def handler(request: web.Request) -> web.Response:
        principal = require(request, *CLERKS)
        office = office_of(request)
        counter = path_counter(request)
        check_clerk_counter(office, principal, counter)
        await read_body(request, p.EmptyBody)
        await guarded(office.act(decide(office, counter, principal)))
        return counter_reply(request, counter, principal.role)

    handler.__name__ = f"counter_{path}"
    api(
        "POST",
        f"/api/counters/{{counter_id}}/{path}",
        summary,
        roles=CLERKS,
        response=p.CounterView,
    )(handler)


counter_action(
    "open",
    "Open the counter (or resume after a break) and sign in to it",
    lambda o, c, who: lambda now: o.engine.open_counter(now, c, who.name),
)
counter_action("break", "Go on break", lambda o, c, who: lambda now: o.engine.take_break(now, c))
counter_action(
    "close", "Close the counter", lambda o, c, who: lambda now: o.engine.close_counter(now, c)
)


@api(
    "POST",
    "/api/counters/{counter_id}/call-next",
    "Call the next visitor this counter serves",
    roles=CLERKS,
    response=p.CallNextResponse,
    also=((*EMERGENCY_REFUSED, p.ErrorResponse),),
)
async def call_next(request: web.Request) -> web.Response:
    principal = require(request, *CLERKS)
    office = office_of(request)
    counter = path_counter(request)
    check_clerk_counter(office, principal, counter)
    await read_body(request, p.EmptyBody)
    ticket = await guarded(office.run(lambda now: office.engine.call_next(now, counter)))
    return reply(p.CallNextResponse(ticket=office.ticket_view(ticket, principal.role)))


@api(
    "POST",
    "/api/counters/{counter_id}/alert",
    "Silent safety alert: reaches supervisors only, never a display",
    roles=CLERKS,
    body=p.AlertRequest,
    response=p.AlertView,
)
async def safety_alert(request: web.Request) -> web.Response:
    principal = require(request, *CLERKS)
    office = office_of(request)
    counter = path_counter(request)
    if counter not in office.engine.counters:
        raise api_error(404, "not_found", f"no counter with id {counter!r}")
    body = await read_body(request, p.AlertRequest)
    alert = await guarded(
        office.run(
            lambda now: office.engine.raise_alert(
                now, counter, principal.name, body.client_request_id
            )
        )
    )
    return reply(present.alert_view(office.engine, alert))


@api(
    "POST",
    "/api/alerts/checklist",
    "Record the safety checklist for an alert",
    roles=CLERKS,
    body=p.ChecklistRequest,
    response=p.AlertView,
)
async def alert_checklist(request: web.Request) -> web.Response:
    principal = require(request, *CLERKS)
    office = office_of(request)
    body = await read_body(request, p.ChecklistRequest)
    alert = office.engine.alerts.get(body.alert_id)
    if principal.role == "clerk" and alert is not None and alert.staff != principal.name:
        raise api_error(
            403,
            "forbidden",
            "only the clerk who raised an alert, or a supervisor, records its checklist",
        )
    await guarded(
        office.act(
            lambda now: office.engine.update_checklist(
                now, body.alert_id, tuple(body.done), body.note, principal.name
            )
        )
    )
    return reply(present.alert_view(office.engine, office.engine.alerts[body.alert_id]))


# ---------------------------------------------------------- office / state


@api(
    "GET",
    "/api/state",
    "Live state, filtered for the caller's role",
    roles=ANY_ROLE,
    response=p.StateSnapshot,
)
async def state(request: web.Request) -> web.Response:
    principal = require(request, *ANY_ROLE)
    office = office_of(request)
    return reply(office.state(principal.role))


@api(
    "POST",
    "/api/office/notice",
    "Set the notice shown on displays and kiosks",
    roles=SUPERVISORS,
    body=p.NoticeRequest,
    response=p.OfficeView,
)
async def notice(request: web.Request) -> web.Response:
    principal = require(request, *SUPERVISORS)
    body = await read_body(request, p.NoticeRequest)
    office = office_of(request)
    await office.act(lambda now: office.engine.set_notice(now, body.text.strip()))
    return reply(present.office_view(office.engine, principal.role, office.now()))


# --------------------------------------------------------------- emergency


@api(
    "POST",
    "/api/emergency",
    "Put the office in emergency mode (or a drill): every screen shows the kind's instruction,"
    " check-in and calling pause, the queue is kept. 409 emergency_active while one is on; a"
    " retry with the same request_id gets the same answer; 400 unknown_kind names the kinds",
    roles=EMERGENCY_COMMANDERS,
    body=p.EmergencyStartRequest,
    response=p.EmergencyView,
)
async def emergency_start(request: web.Request) -> web.Response:
    principal = require(request, *EMERGENCY_COMMANDERS)
    body = await read_body(request, p.EmergencyStartRequest)
    office = office_of(request)
    screens = await expected_screens(office)
    emergency = await guarded(
        office.run(
            lambda now: office.engine.start_emergency(
                now,
                kind=body.kind,
                emergency_id=office.store.last_seq + 1,  # appended right after, no await between
                by=principal.name,
                screens=screens,
                request_id=body.request_id,
            )
        )
    )
    return reply(present.emergency_view(emergency, "supervisor", office.now()))


async def expected_screens(office: Office) -> list[tuple[str, str]]:
    """The screens that should show an emergency: every display and kiosk device, and every
    counter somebody is signed in at (open, busy or on break)."""
    devices = [
        (f"{d.role}:{d.name}", d.name)
        for d in await office.store.devices()
        if d.role in ("display", "kiosk")
    ]
    counters = [
        (f"counter:{c.id}", c.name) for c in office.engine.counters.values() if c.state != "closed"
    ]
    return devices + counters


@api(
    "GET",
    "/api/emergency/kinds",
    "The emergency kinds this office has, with the texts screens would show (supervisors)",
    roles=SUPERVISORS,
    response=p.EmergencyKinds,
)
async def emergency_kinds(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    return reply(
        p.EmergencyKinds(
            [
                p.EmergencyKind(
                    e.kind, e.drill, dict(e.heading), dict(e.instruction), list(e.checklist)
                )
                for e in office_of(request).config.emergencies
            ]
        )
    )


@api(
    "POST",
    "/api/emergency/end",
    "End the emergency mode: check-in and calling resume, in the queue's order;"
    " 409 no_emergency when none is on",
    roles=EMERGENCY_COMMANDERS,
    body=p.EmptyBody,
    response=p.EmergencyEnded,
)
async def emergency_end(request: web.Request) -> web.Response:
    principal = require(request, *EMERGENCY_COMMANDERS)
    await read_body(request, p.EmptyBody)
    office = office_of(request)
    ended = await guarded(office.run(lambda now: office.engine.end_emergency(now, principal.name)))
    assert ended.ended_at is not None
    minutes = (ended.ended_at - ended.started_at).total_seconds() / 60
    return reply(p.EmergencyEnded(ended=ended.id, minutes=round(minutes, 1)))


@api(
    "POST",
    "/api/emergency/ack",
    "A screen shows the emergency: a display or kiosk by its device token (the screen is"
    " display:<device> / kiosk:<device>); a counter by its staff session, naming its counter"
    " id in the body's `counter` field (the screen is counter:<id>; a clerk only for a counter"
    " they hold or a free one). A second acknowledgement stores nothing; 409 not_current when"
    " that emergency is not the one in force",
    roles=ANY_ROLE,
    body=p.EmergencyAckRequest,
    response=p.EmergencyScreen,
)
async def emergency_ack(request: web.Request) -> web.Response:
    principal = require(request, *ANY_ROLE)
    body = await read_body(request, p.EmergencyAckRequest)
    office = office_of(request)
    if principal.kind == "device":
        if body.counter is not None:
            raise api_error(422, "invalid", "a device acknowledges as itself", "counter")
        screen, name = f"{principal.role}:{principal.name}", principal.name
    else:
        if body.counter is None:
            raise api_error(422, "invalid", "name the counter this screen belongs to", "counter")
        check_clerk_counter(office, principal, body.counter)
        screen, name = f"counter:{body.counter}", office.engine.counters[body.counter].name
    await guarded(
        office.act(
            lambda now: office.engine.acknowledge_emergency(now, body.emergency, screen, name)
        )
    )
    emergency = office.engine.emergency
    ack = emergency.screens[screen] if emergency is not None else None
    return reply(
        p.EmergencyScreen(
            screen=screen,
            name=name,
            acknowledged_at=present.iso(ack.acknowledged_at) if ack else None,
        )
    )


@api(
    "POST",
    "/api/day/close",
    "Close every open ticket as closed_at_end_of_day",
    roles=SUPERVISORS,
    response=None,
)
async def close_day(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    office = office_of(request)
    before = {t.id for t in office.engine.open_tickets()}
    await office.act(lambda now: office.engine.close_day(now))
    closed = [office.engine.tickets[t].number for t in sorted(before)]
    return reply({"closed": closed})


@api(
    "POST",
    "/api/devices/printer-status",
    "A kiosk reports its printer's health",
    roles=("kiosk",),
    body=p.PrinterStatusRequest,
    response=None,
)
async def printer_status(request: web.Request) -> web.Response:
    principal = require(request, "kiosk")
    body = await read_body(request, p.PrinterStatusRequest)
    office = office_of(request)
    await office.act(
        lambda now: office.engine.printer_status(now, principal.name, body.status, body.detail)
    )
    log_printer_status(principal.name, body)
    return reply({"device": principal.name, "status": body.status})


def log_printer_status(device: str, body: p.PrinterStatusRequest) -> None:
    """Each report in the server's log too, with its cause: a warning until it is fixed."""
    printers_log.log(
        logging.INFO if body.status == "ok" else logging.WARNING,
        "printer of %s: %s%s",
        device,
        body.status,
        f" ({body.detail})" if body.detail else "",
    )


@api(
    "GET",
    "/api/reports/summary",
    "Wait, service and standard figures for a period",
    roles=SUPERVISORS,
    response=None,
)
async def report_summary(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    return reply(await period_report(request))


@api(
    "GET",
    "/api/reports/summary.csv",
    "One breakdown of the period's report as CSV (by: service, counter, staff, day, hour)",
    roles=SUPERVISORS,
    response=None,
)
async def report_csv(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    by = request.query.get("by", "service")
    if by not in BREAKDOWN:
        raise api_error(422, "invalid", f"by must be one of {', '.join(BREAKDOWN)}", "by")
    figures = await period_report(request)
    name = f"lobby-report-{figures['first_day']}-to-{figures['last_day']}-by-{by}.csv"
    return web.Response(
        text=csv_text(*breakdown(figures, by)),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@api(
    "GET",
    "/api/reports/charts/{chart}.svg",
    "One chart of the period's report as SVG (name: " + ", ".join(CHARTS) + ")",
    roles=SUPERVISORS,
    response=None,
)
async def report_chart(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    name = request.match_info["chart"]
    if name not in CHARTS:
        raise api_error(404, "not_found", f"no chart named {name!r}; one of {', '.join(CHARTS)}")
    figures = await period_report(request)
    return web.Response(
        text=svg_text(name, figures),
        content_type="image/svg+xml",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


async def period_report(request: web.Request) -> dict[str, Any]:
    """The report for the request's ``from`` and ``to``, computed in a worker thread on a
    connection of its own, so commands are decided and committed while it runs."""
    office = office_of(request)
    now = office.now()
    try:
        first, last = period_of(request.query.get("from"), request.query.get("to"), now.date())
    except ValueError as why:
        field = "to" if "before" in str(why) else "from"
        raise api_error(422, "invalid", str(why), field) from None
    try:
        return await asyncio.to_thread(report, office.store, office.config, first, last, now)
    except RecordsBehind as why:
        raise api_error(503, "records_behind", str(why)) from None


def service_override(path: str, is_open: bool | None, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        require(request, *SUPERVISORS)
        office = office_of(request)
        service_id = str(path_param(request, "service_id"))
        await read_body(request, p.EmptyBody)
        await guarded(
            office.act(lambda now: office.engine.set_service_open(now, service_id, is_open))
        )
        return reply(office.service_view(service_id))

    handler.__name__ = f"service_{path}"
    api(
        "POST",
        f"/api/services/{{service_id}}/{path}",
        summary,
        roles=SUPERVISORS,
        response=p.ServiceView,
    )(handler)


service_override("open", True, "Open a service outside its hours")
service_override("close", False, "Close a service now (check-in refused, hours shown)")
service_override("hours", None, "Follow the configured hours again")


# ------------------------------------------------------------------ devices


@api(
    "GET",
    "/api/devices",
    "Kiosks and displays, and when each last hit the check-in limit",
    roles=SUPERVISORS,
    response=p.DevicesResponse,
)
async def devices(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    return await devices_reply(request)


async def devices_reply(request: web.Request) -> web.Response:
    limited = request.app[CHECK_IN_LIMIT].limited_at
    listed = await office_of(request).store.devices()
    return reply(
        p.DevicesResponse(
            [
                p.DeviceView(d.id, d.name, d.role, d.created_at, present.iso(limited.get(d.id)))
                for d in listed
            ]
        )
    )


@api(
    "POST",
    "/api/devices/{device_id}/revoke",
    "Revoke a kiosk or display token: it stops working at once",
    roles=SUPERVISORS,
    response=p.DevicesResponse,
)
async def revoke_device(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    device_id = int(path_param(request, "device_id"))
    await read_body(request, p.EmptyBody)
    if await office_of(request).store.remove_device(device_id) is None:
        raise api_error(404, "not_found", f"no device with id {device_id}")
    cache = request.app[PRINCIPALS]
    for digest in [
        d for d, (who, *_) in cache.items() if who.kind == "device" and who.id == device_id
    ]:
        cache.pop(digest)
    return await devices_reply(request)


# ------------------------------------------------------------------ privacy


async def privacy_request(request: web.Request) -> tuple[Principal, Office, list[int]]:
    """Who asks (a supervisor), and the visits the request names."""
    principal = require(request, *SUPERVISORS)
    body = await read_body(request, p.PrivacyRequest)
    office = office_of(request)
    return principal, office, await visits_of(office, body)


async def visits_of(office: Office, body: p.PrivacyRequest) -> list[int]:
    """The visits a privacy request names: by name (every visit under it) or one ticket."""
    if (body.name is None) == (body.ticket is None):
        raise api_error(422, "invalid", "give either a name or a ticket", "name")
    if body.ticket is not None:
        if not await office.store.visit_events([body.ticket]):
            raise api_error(404, "not_found", f"no ticket with id {body.ticket} in the log")
        return [body.ticket]
    assert body.name is not None
    return await office.store.visits_named(body.name)


def numbers(events: list[Any]) -> str:
    """The visits as the audit log names them: ticket numbers and days, never a name."""
    found = [
        f"{e.event.data.get('number', '?')} of {e.event.at.date().isoformat()}"
        for e in events
        if e.event.kind == "ticket.checked_in"
    ]
    return ", ".join(found) or "none found"


@api(
    "POST",
    "/api/privacy/export",
    "Everything the log holds about a person (by name) or one visit; recorded in the audit log",
    roles=SUPERVISORS,
    body=p.PrivacyRequest,
    response=p.PrivacyExport,
)
async def privacy_export(request: web.Request) -> web.Response:
    principal, office, ids = await privacy_request(request)
    logged = await office.store.visit_events(ids)
    await office.store.record_privacy(principal.name, "export", numbers(logged))
    by_visit: dict[int, list[p.LoggedEvent]] = {tid: [] for tid in ids}
    for entry in logged:
        by_visit[entry.event.data["id"]].append(
            p.LoggedEvent(
                entry.seq, present.iso(entry.event.at) or "", entry.event.kind, entry.event.data
            )
        )
    return reply(p.PrivacyExport([p.VisitRecord(tid, events) for tid, events in by_visit.items()]))


@api(
    "POST",
    "/api/privacy/erase",
    "Erase a person's (by name) or one visit's private data now; recorded in the audit log",
    roles=SUPERVISORS,
    body=p.PrivacyRequest,
    response=p.ErasedResponse,
)
async def privacy_erase(request: web.Request) -> web.Response:
    principal, office, ids = await privacy_request(request)
    detail = numbers(await office.store.visit_events(ids))
    await office.act(lambda now: office.engine.erase(now, ids))
    await office.store.record_privacy(principal.name, "erase", detail)
    return reply(p.ErasedResponse(sorted(ids)))


@api(
    "GET",
    "/api/privacy/audit",
    "Every export and erasure of a person's data: when, by whom, which visits",
    roles=SUPERVISORS,
    response=p.AuditResponse,
)
async def privacy_audit(request: web.Request) -> web.Response:
    require(request, *SUPERVISORS)
    entries = await office_of(request).store.privacy_audit()
    return reply(
        p.AuditResponse([p.AuditEntryView(e.at, e.by, e.action, e.detail) for e in entries])
    )
