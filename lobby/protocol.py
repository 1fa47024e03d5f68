"""The wire contract: request bodies and the JSON shapes the server sends.

These Structs are the single schema definition: the server validates every request body against
them and generates ``/api/openapi.json`` from them, and the clients (kiosk, counter, display)
decode what they receive with them. Extend them; do not rename fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

ShortText = Annotated[str, Meta(max_length=120)]
NoteText = Annotated[str, Meta(min_length=1, max_length=2000)]
RequestId = Annotated[str, Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ServiceId = Annotated[str, Meta(min_length=1, max_length=32)]
Need = Literal["wheelchair", "seated", "hearing", "vision", "interpreter", "assistance"]
AddressAs = Literal["mr", "ms", "mx", "first_name", "number"]
TicketState = Literal[
    "waiting", "called", "serving", "done", "no_show", "walkaway", "closed_at_end_of_day"
]
CounterState = Literal["closed", "open", "calling", "serving", "break"]
OPEN_TICKET_STATES = ("waiting", "called", "serving")


class Body(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every request body: an unknown field is an error, not silently dropped."""


class LoginRequest(Body):
    name: Annotated[str, Meta(min_length=1, max_length=80)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]


class LogoutRequest(Body):
    """``everywhere``: end every session of the person signed in, not only this one."""

    everywhere: bool = False


class CheckInRequest(Body):
    service: ServiceId
    client_request_id: RequestId
    name: Annotated[str, Meta(max_length=80)] | None = None
    address_as: AddressAs | None = None
    language: Annotated[str, Meta(pattern=r"^[a-z]{2,3}$")] | None = None
    needs: Annotated[list[Need], Meta(max_length=6)] = msgspec.field(default_factory=list)
    appointment: bool = False
    kiosk_language: Annotated[str, Meta(pattern=r"^[a-z]{2,3}$")] | None = None
    arrived_at: Annotated[datetime, Meta(tz=True)] | None = None
    """Kiosks only: when the visitor checked in at a kiosk that could not reach the server and
    kept the check-in to send later. Today, and not ahead of the server's clock."""


class CompleteRequest(Body):
    needs_met: bool | None = None
    notes: NoteText | None = None


class TransferRequest(Body):
    service: ServiceId
    note: NoteText | None = None


class AcknowledgedRequest(Body):
    via: Literal["printed", "screen"]
    at: Annotated[datetime, Meta(tz=True)] | None = (
        None  # when the kiosk printed or showed it (ISO 8601 with offset)
    )


class NoteRequest(Body):
    text: NoteText


class FlagRequest(Body):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class AlertRequest(Body):
    client_request_id: RequestId | None = None


class ChecklistRequest(Body):
    alert_id: Annotated[int, Meta(ge=1)]
    done: Annotated[list[Annotated[int, Meta(ge=0, le=50)]], Meta(max_length=50)]
    note: Annotated[str, Meta(max_length=2000)] | None = None


class SurveyRequest(Body):
    """A visitor's answer from their status page. No free text: the page is public."""

    needs_met: bool
    rating: Annotated[int, Meta(ge=1, le=5)] | None = None


class NoticeRequest(Body):
    text: Annotated[str, Meta(max_length=500)]


class PrinterStatusRequest(Body):
    status: Literal[
        "ok", "paper_near_end", "paper_out", "cover_open", "offline", "error", "unknown"
    ]
    detail: Annotated[str, Meta(max_length=300)] = ""


class EmptyBody(Body):
    pass


class Estimate(msgspec.Struct):
    low_min: int
    high_min: int


class Note(msgspec.Struct):
    at: str
    text: str
    by: str = ""


class Transfer(msgspec.Struct):
    at: str
    from_service: str
    to_service: str
    by_counter: str | None = None


class TicketView(msgspec.Struct, omit_defaults=True):
    """A ticket as JSON. Fields after ``status_url`` marked private are sent to staff only."""

    id: int
    number: str
    service: str
    state: TicketState
    arrived_at: str
    called_at: str | None
    counter: str | None
    position: int | None
    estimate: Estimate | None
    status_url: str
    service_name: str = ""
    counter_name: str | None = None
    recalls: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    needs_met: bool | None = None
    quoted_estimate: Estimate | None = None
    acknowledged: str | None = None
    acknowledged_at: str | None = None
    priority: bool = False
    survey_needs_met: bool | None = None
    survey_rating: int | None = None
    transfers: list[Transfer] = msgspec.field(default_factory=list)
    waited_min: int | None = None
    """Whole minutes from arrival to the first call, or to now while still waiting."""
    wait_level: WaitLevel | None = None
    received_at: str | None = None
    """Set when a kiosk queued this check-in while it could not reach the server: the moment
    the server heard of it. ``arrived_at`` is the visitor's real arrival, and no ticket was
    printed for a visitor who had left the kiosk by then."""
    # private: staff only
    head_start: str | None = None
    """Why this visitor is called ahead of longer waits ("wheelchair", "appointment")."""
    name: str | None = None
    address_as: str | None = None
    addressed_as: str | None = None
    language: str | None = None
    needs: list[str] | None = None
    notes: list[Note] | None = None
    flagged: str | None = None


WaitLevel = Literal["ok", "near", "over"]
"""How a wait stands against its service's target: under 3/4 of it, past 3/4, or past it."""


class ServiceView(msgspec.Struct):
    """One service as every screen shows it. ``ahead`` and ``estimate`` are what a visitor
    checking in now would be told: the kiosk button, the printed ticket, the display and the
    supervisor page all read these two fields and nothing else."""

    id: str
    name: str
    prefix: str
    state: Literal["open", "closing", "closed"]
    hours: str
    waiting: int
    longest_wait_min: float
    target_wait_min: float
    estimate: Estimate
    info: str
    ahead: int = 0
    wait_level: WaitLevel = "ok"
    names: dict[str, str] = msgspec.field(default_factory=dict)
    """``name`` in every office language (a missing translation is the first language's)."""
    infos: dict[str, str] = msgspec.field(default_factory=dict)
    """``info`` (what to bring) in every office language, the same way."""


class IdleNudge(msgspec.Struct):
    """The counter is open and idle while visitors it serves wait: the "assist immediately"
    breach the counter's banner and the supervisor's table point at."""

    waiting: int
    longest_wait_min: float


class CounterView(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    services: list[str]
    state: CounterState
    ticket: int | None = None
    ticket_number: str | None = None
    staff: str | None = None
    idle_while_waiting_sec: float = 0.0
    eligible_waiting: int = 0
    idle_nudge: IdleNudge | None = None
    names: dict[str, str] = msgspec.field(default_factory=dict)
    """``name`` in every office language ("Window 2", "Ventanilla 2")."""


class CallView(msgspec.Struct):
    """One line of the lobby display: a number called to a counter. Never carries a name."""

    ticket: int
    at: str
    number: str
    service: str
    counter: str
    counter_name: str
    recall: int = 0
    counter_names: dict[str, str] = msgspec.field(default_factory=dict)
    """``counter_name`` in every office language, for the display and the speech."""


class CallsView(msgspec.Struct):
    """The display's two lists, decided by the server.

    ``now_serving``: calls whose visitor is still called or being served at that counter, newest
    first. ``earlier``: the other recent calls, newest first, each number once.
    """

    now_serving: list[CallView] = msgspec.field(default_factory=list)
    earlier: list[CallView] = msgspec.field(default_factory=list)


class AlertView(msgspec.Struct, omit_defaults=True):
    id: int
    kind: str
    at: str
    counter: str | None = None
    counter_name: str | None = None
    staff: str | None = None
    detail: str = ""
    resolved: bool = False
    done: list[int] = msgspec.field(default_factory=list)
    note: str = ""


class PrinterView(msgspec.Struct):
    device: str
    status: str
    detail: str = ""


class LoginResponse(msgspec.Struct):
    token: str
    role: str
    name: str


class DeviceView(msgspec.Struct):
    """A kiosk or display as the supervisor page lists it; ``limited_at``: when it last hit
    the check-in limit (since the server started), if it did."""

    id: int
    name: str
    role: str
    created_at: str
    limited_at: str | None = None


class DevicesResponse(msgspec.Struct):
    devices: list[DeviceView]


class PrivacyRequest(Body):
    """Whose data: the visits checked in under ``name``, or the one visit ``ticket``."""

    name: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    ticket: Annotated[int, Meta(ge=1, le=10**12)] | None = None


class LoggedEvent(msgspec.Struct):
    seq: int
    at: str
    kind: str
    data: dict[str, Any]


class VisitRecord(msgspec.Struct):
    """One visit as the log holds it: every event about it, private fields included."""

    id: int
    events: list[LoggedEvent]


class PrivacyExport(msgspec.Struct):
    visits: list[VisitRecord]


class ErasedResponse(msgspec.Struct):
    erased: list[int]


class AuditEntryView(msgspec.Struct):
    at: str
    by: str
    action: str
    detail: str


class AuditResponse(msgspec.Struct):
    entries: list[AuditEntryView]


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class CallNextResponse(msgspec.Struct):
    ticket: TicketView


class EmergencyScreen(msgspec.Struct, omit_defaults=True):
    """One screen expected to show an emergency, and when it said it does (supervisors only)."""

    screen: str
    """``display:<device>``, ``kiosk:<device>`` or ``counter:<counter id>``."""
    name: str
    acknowledged_at: str | None = None
    late: bool = False
    """Not acknowledged within ``EMERGENCY_ACK_SEC`` of the start: the supervisor page lists it."""


class EmergencyView(msgspec.Struct, omit_defaults=True):
    """The office's emergency mode while it lasts (``OfficeView.emergency``): what every screen
    shows in place of the queue. Every text comes in every office language, in the office's
    order, so a screen only cycles through them; a drill says so in ``heading``."""

    id: int
    """The seq of the event that started it: what a screen's acknowledgement names."""
    kind: str
    """A configured kind, e.g. ``evacuate``, ``shelter`` or ``drill``."""
    drill: bool
    started_at: str
    started_by: str
    heading: dict[str, str]
    """"Emergency" or "DRILL" wording, by language."""
    instruction: dict[str, str]
    """What visitors must do, by language."""
    checklist: list[str] = msgspec.field(default_factory=list)
    """What staff must do, in the office's first language (counters and supervisors)."""
    screens: list[EmergencyScreen] = msgspec.field(default_factory=list)
    """Supervisors only: each expected screen and whether it acknowledged."""


EMERGENCY_ACK_SEC = 10
"""How long a screen may take to acknowledge an emergency before it is listed as late."""


class EmergencyStartRequest(Body):
    kind: str
    request_id: str | None = None


class EmergencyAckRequest(Body):
    emergency: int
    """``EmergencyView.id`` of the emergency the screen is showing."""
    counter: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    """A counter's staff session names its counter (its id, e.g. ``w1``): the screen is then
    ``counter:<id>``. A display or kiosk sends none: its device token names it."""


class EmergencyKind(msgspec.Struct):
    """A configured kind a supervisor may start, with what screens would show."""

    kind: str
    drill: bool
    heading: dict[str, str]
    instruction: dict[str, str]
    checklist: list[str]


class EmergencyKinds(msgspec.Struct):
    """``GET /api/emergency/kinds``: the office's kinds, in the configuration's order."""

    kinds: list[EmergencyKind]


class EmergencyEnded(msgspec.Struct):
    """``POST /api/emergency/end``: which emergency ended and how long it lasted."""

    ended: int
    minutes: float


class OfficeView(msgspec.Struct):
    name: str
    timezone: str
    languages: list[str]
    notice: str
    retention_days: int
    public_url: str
    safety_checklist: list[str] = msgspec.field(default_factory=list)
    notices: dict[str, str] = msgspec.field(default_factory=dict)
    """``notice`` in every office language: the configured one's translations, or a
    supervisor's notice (typed in one language) in all."""
    data_practices: dict[str, str] = msgspec.field(default_factory=dict)
    """The office's own data-practices notice, by language; empty: the kiosk's standard one."""
    emergency: EmergencyView | None = None
    """Set while the office is in emergency mode (or a drill): screens show it instead."""


class StateSnapshot(msgspec.Struct, omit_defaults=True):
    """The office as a role may see it: ``GET /api/state`` and a stream's first message.

    ``tickets`` holds the open visits (staff only); ``alerts`` the unresolved safety alerts and
    ``printers`` each kiosk's printer (supervisors only).
    """

    seq: int
    now: str
    role: str
    office: OfficeView
    services: list[ServiceView]
    counters: list[CounterView]
    tickets: list[TicketView] = msgspec.field(default_factory=list)
    calls: CallsView = msgspec.field(default_factory=CallsView)
    alerts: list[AlertView] = msgspec.field(default_factory=list)
    printers: dict[str, PrinterView] = msgspec.field(default_factory=dict)


EventKind = Literal[
    "ticket.checked_in",
    "ticket.called",
    "ticket.recalled",
    "ticket.started",
    "ticket.completed",
    "ticket.no_show",
    "ticket.walkaway",
    "ticket.transferred",
    "ticket.acknowledged",
    "ticket.surveyed",
    "ticket.noted",
    "ticket.flagged",
    "tickets.purged",
    "counter.opened",
    "counter.on_break",
    "counter.closed",
    "day.closed",
    "alert.raised",
    "alert.checklist",
    "services.hours",
    "office.notice",
    "emergency.started",
    "emergency.acknowledged",
    "emergency.ended",
    "printer.status",
    "service.override",
    "tick",
]
"""What moved the state: an event of the log, or ``tick`` for the clock alone."""


class StreamSnapshot(msgspec.Struct, tag="snapshot", tag_field="type", omit_defaults=True):
    """The whole state, sent first on every connection.

    ``announce`` lists the calls a reconnecting display missed while they are still fresh
    enough to send a visitor to the counter; a first connection announces nothing.
    """

    seq: int
    state: StateSnapshot
    announce: list[CallView] = msgspec.field(default_factory=list)


class StreamPatch(msgspec.Struct, tag="patch", tag_field="type", omit_defaults=True):
    """What changed, part by part. Every part is the new value of whole items, keyed by id
    (a ticket that left the open states is sent once more with its final state, an alert once
    more when resolved); ``calls`` and ``office`` replace the previous value when present.

    An event patch carries the log's ``seq`` of its last event. A tick patch carries the seq it
    was computed at (``cause == ["tick"]``) and changes only what the clock moved.
    """

    seq: int
    at: str
    cause: list[EventKind]
    office: OfficeView | None = None
    services: list[ServiceView] = msgspec.field(default_factory=list)
    counters: list[CounterView] = msgspec.field(default_factory=list)
    tickets: list[TicketView] = msgspec.field(default_factory=list)
    calls: CallsView | None = None
    announce: list[CallView] = msgspec.field(default_factory=list)
    alerts: list[AlertView] = msgspec.field(default_factory=list)
    printers: list[PrinterView] = msgspec.field(default_factory=list)

    @property
    def is_tick(self) -> bool:
        return self.cause == ["tick"]


StreamMessage = StreamSnapshot | StreamPatch


class VisitStatus(msgspec.Struct, tag="visit", tag_field="type"):
    """One visit as its holder's status page shows it (``GET /status/{token}/json``, and each
    message of ``/status/{token}/ws``): the public view of the ticket with the published
    figures, and of the private details only the language to speak to its holder in."""

    seq: int
    office: str
    now: str
    timezone: str
    ticket: TicketView
    language: str | None
    info: str
    notice: str
    languages: list[str]
    emergency: EmergencyView | None = None
    """Set during an emergency or drill: the page shows it above everything else."""
