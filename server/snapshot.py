"""The engine's state as bytes, so a start replays only the events logged after it.

A year of log takes long to replay; a snapshot of the engine (which holds only open visits,
today's and what estimates learn from, see :class:`server.engine.Engine`) is small and loads at
once. It is only ever a shortcut: the log stays the truth. A snapshot carries its format and a
fingerprint of the office configuration it was made under, and :func:`load` refuses one of
another format or configuration (a counter added, a service renamed) rather than guess; the
office then replays the whole log, as it did before snapshots existed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from array import array
from datetime import date, datetime

import msgspec

from server.config import OfficeConfig
from server.engine import Alert, Call, Emergency, Engine, Ticket, fixed_offset

FORMAT = 3
"""Raise this whenever what the engine keeps changes shape: older snapshots are then passed
over and the whole log replayed once."""


class Unusable(Exception):
    """This snapshot cannot stand for the log: the office replays the whole log instead."""


class _Header(msgspec.Struct):
    format: int
    config: str


class _CounterState(msgspec.Struct):
    id: str
    state: str
    ticket: int | None
    staff: str | None
    idle_while_waiting_sec: float
    idle_waiting_since: datetime | None
    idle_stretch_from: datetime | None = None
    idle_before_today: float = 0.0
    break_from: datetime | None = None


class _Body(msgspec.Struct):
    format: int
    config: str
    tickets: list[Ticket]
    counters: list[_CounterState]
    day_sequence: list[tuple[str, date, int]]
    recent_minutes: dict[str, list[float]]
    calls: list[Call]
    alerts: list[Alert]
    alert_request_ids: dict[str, int]
    printers: dict[str, tuple[str, str]]
    notice: str
    service_override: dict[str, bool]
    clock: datetime | None
    next_ticket_id: int
    next_alert_id: int
    day: date | None
    forgotten_private: list[tuple[date, list[int]]]
    emergency: Emergency | None = None
    ended_emergencies: list[Emergency] = msgspec.field(default_factory=list)


_encoder = msgspec.json.Encoder()
_header = msgspec.json.Decoder(_Header)
_body = msgspec.json.Decoder(_Body)


def fingerprint(config: OfficeConfig) -> str:
    """What the engine's state depends on besides the log: the services, the counters and
    the priority rule (queue order uses its head start)."""
    shape = [config.services, config.counters, config.priority]
    encoded = msgspec.json.encode(shape, enc_hook=str)
    return hashlib.sha256(encoded).hexdigest()[:16]


def dump(engine: Engine) -> bytes:
    """The engine's state, everything the log would rebuild, as JSON."""
    body = _Body(
        format=FORMAT,
        config=fingerprint(engine.config),
        tickets=list(engine.tickets.values()),
        counters=[
            _CounterState(
                c.id,
                c.state,
                c.ticket,
                c.staff,
                c.idle_while_waiting_sec,
                c.idle_waiting_since,
                c.idle_stretch_from,
                c.idle_before_today,
                c.break_from,
            )
            for c in engine.counters.values()
        ],
        day_sequence=[(s, d, n) for (s, d), n in engine.day_sequence.items()],
        recent_minutes={s: list(m) for s, m in engine.recent_minutes.items()},
        calls=list(engine.calls),
        alerts=list(engine.alerts.values()),
        alert_request_ids=dict(engine.alert_request_ids),
        printers=dict(engine.printers),
        notice=engine.notice,
        service_override=dict(engine.service_override),
        clock=engine.clock,
        next_ticket_id=engine.next_ticket_id,
        next_alert_id=engine.next_alert_id,
        day=engine.day,
        forgotten_private=[(d, list(ids)) for d, ids in engine.forgotten_private.items()],
        emergency=engine.emergency,
        ended_emergencies=list(engine.ended_emergencies),
    )
    return _encoder.encode(body)


def load(config: OfficeConfig, data: bytes) -> Engine:
    """An engine in the state ``data`` was dumped from; :class:`Unusable` if it cannot be."""
    try:
        header = _header.decode(data)
    except msgspec.DecodeError as error:
        raise Unusable(f"it does not decode ({error})") from None
    if header.format != FORMAT:
        raise Unusable(f"it is of format {header.format}; this server reads format {FORMAT}")
    if header.config != fingerprint(config):
        raise Unusable("the office configuration (services, counters) changed since")
    try:
        return _restored(config, _body.decode(data))
    except msgspec.DecodeError as error:
        raise Unusable(f"it does not decode ({error})") from None
    except (KeyError, ValueError, TypeError) as error:  # e.g. a counter the office lacks
        raise Unusable(f"it does not fit this office ({error!r})") from None


def _restored(config: OfficeConfig, body: _Body) -> Engine:
    engine = Engine(config)
    for ticket in body.tickets:
        _fix_times(ticket)
        engine.tickets[ticket.id] = ticket
    for saved in body.counters:
        counter = engine.counters[saved.id]  # the same objects the histories hold
        counter.state, counter.ticket, counter.staff = saved.state, saved.ticket, saved.staff
        counter.idle_while_waiting_sec = saved.idle_while_waiting_sec
        counter.idle_waiting_since = _fixed(saved.idle_waiting_since)
        counter.idle_stretch_from = _fixed(saved.idle_stretch_from)
        counter.idle_before_today = saved.idle_before_today
        counter.break_from = _fixed(saved.break_from)
    engine.day_sequence = {(s, d): n for s, d, n in body.day_sequence}
    for service_id, minutes in body.recent_minutes.items():
        engine.recent_minutes[service_id].extend(minutes)
    engine.calls.extend(dataclasses.replace(c, at=fixed_offset(c.at)) for c in body.calls)
    for alert in body.alerts:
        alert.at = fixed_offset(alert.at)
        engine.alerts[alert.id] = alert
    engine.alert_request_ids = dict(body.alert_request_ids)
    engine.printers = dict(body.printers)
    engine.notice = body.notice
    engine.service_override = dict(body.service_override)
    engine.clock = _fixed(body.clock)
    engine.next_ticket_id = body.next_ticket_id
    engine.next_alert_id = body.next_alert_id
    engine.day = body.day
    engine.forgotten_private = {d: array("q", ids) for d, ids in sorted(body.forgotten_private)}
    engine.emergency = _fix_emergency(body.emergency) if body.emergency else None
    engine.ended_emergencies.extend(_fix_emergency(e) for e in body.ended_emergencies)
    engine.restore_indexes()
    return engine


def _fix_emergency(emergency: Emergency) -> Emergency:
    emergency.started_at = fixed_offset(emergency.started_at)
    emergency.ended_at = _fixed(emergency.ended_at)
    for ack in emergency.screens.values():
        ack.acknowledged_at = _fixed(ack.acknowledged_at)
    return emergency


def _fixed(moment: datetime | None) -> datetime | None:
    return None if moment is None else fixed_offset(moment)


def _fix_times(ticket: Ticket) -> None:
    """Give every time the one shared tzinfo per offset the engine's fast paths expect."""
    for name in (
        "arrived_at",
        "called_at",
        "last_called_at",
        "started_at",
        "ended_at",
        "received_at",
    ):
        setattr(ticket, name, _fixed(getattr(ticket, name)))
    if ticket.acknowledged_at is not None:
        ticket.acknowledged_at = fixed_offset(ticket.acknowledged_at)
