"""The wire contract: request bodies and the JSON shapes the server sends.

These Structs are the single schema definition: the server validates every request body against
them and generates ``/api/openapi.json`` from them, and the clients (kiosk, counter, display)
decode what they receive with them. Extend them; do not rename fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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


class CheckInRequest(Body):
    service: ServiceId
    client_request_id: RequestId
    name: Annotated[str, Meta(max_length=80)] | None = None
    address_as: AddressAs | None = None
    language: Annotated[str, Meta(pattern=r"^[a-z]{2,3}$")] | None = None
    needs: Annotated[list[Need], Meta(max_length=6)] = msgspec.field(default_factory=list)
    appointment: bool = False
    kiosk_language: Annotated[str, Meta(pattern=r"^[a-z]{2,3}$")] | None = None


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
    status: Literal["ok", "paper_near_end", "paper_out", "offline", "error", "unknown"]
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
    # private: staff only
    name: str | None = None
    address_as: str | None = None
    addressed_as: str | None = None
    language: str | None = None
    needs: list[str] | None = None
    notes: list[Note] | None = None
    flagged: str | None = None


class ServiceView(msgspec.Struct):
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


class CallView(msgspec.Struct):
    """One line of the lobby display: a number called to a counter. Never carries a name."""

    seq: int
    at: str
    number: str
    service: str
    counter: str
    counter_name: str
    recall: int = 0


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


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class CallNextResponse(msgspec.Struct):
    ticket: TicketView


class OfficeView(msgspec.Struct):
    name: str
    timezone: str
    languages: list[str]
    notice: str
    retention_days: int
    public_url: str
    safety_checklist: list[str] = msgspec.field(default_factory=list)


class StateSnapshot(msgspec.Struct, omit_defaults=True):
    """What ``GET /api/state`` and a stream's first message carry, filtered by role."""

    seq: int
    now: str
    role: str
    office: OfficeView
    services: list[ServiceView]
    counters: list[CounterView]
    tickets: list[TicketView] = msgspec.field(default_factory=list)
    recent_calls: list[CallView] = msgspec.field(default_factory=list)
    alerts: list[AlertView] = msgspec.field(default_factory=list)
    printers: dict[str, str] = msgspec.field(default_factory=dict)


class StreamEvent(msgspec.Struct, omit_defaults=True):
    """One pushed event. ``kind`` is the engine event (``ticket.called``, ``counter.opened``...).

    Every event repeats the service summaries so a client never has to re-count queues itself.
    """

    seq: int
    type: Literal["event"]
    kind: str
    at: str
    services: list[ServiceView]
    ticket: TicketView | None = None
    counter: CounterView | None = None
    call: CallView | None = None
    alert: AlertView | None = None
    notice: str | None = None
    printer: PrinterView | None = None
    tickets: list[TicketView] = msgspec.field(default_factory=list)
    counters: list[CounterView] = msgspec.field(default_factory=list)


class StreamSnapshot(msgspec.Struct):
    seq: int
    type: Literal["snapshot"]
    state: StateSnapshot
