"""The running office: the engine, its durable log and the live stream, wired in one direction.

command -> engine decides and applies -> store commits -> stream pushes -> caller answered.

A command is decided and applied synchronously (no ``await`` in between), so two counters
pressing "call next" at the same moment are simply two commands in a row: the second sees the
first's result. The caller is answered only after the events are durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import msgspec

from lobby import protocol as p
from server import presenters as present
from server.config import OfficeConfig
from server.engine import Engine, Event
from server.store.port import Store
from server.stream import AUDIENCES, Hub, Outgoing

log = logging.getLogger("lobby.office")
T = TypeVar("T")
PRIVATE_KINDS = frozenset({"ticket.noted", "ticket.flagged", "tickets.purged"})
SUPERVISOR_KINDS = frozenset({"alert.raised", "alert.checklist", "printer.status"})
AUDIENCE_ROLE = {"public": "display", "staff": "clerk", "supervisor": "supervisor"}
_encoder = msgspec.json.Encoder()


class Office:
    def __init__(
        self, config: OfficeConfig, store: Store, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.config = config
        self.engine = Engine(config)
        self.store = store
        self.hub = Hub()
        self._clock = clock
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock().astimezone(self.config.tz)
        return datetime.now(self.config.tz)

    def load(self) -> int:
        """Rebuild the engine from the log; returns how many events were replayed."""
        count = 0
        for event in self.store.replay():
            self.engine.apply(event)
            count += 1
        self.hub.last_seq = self.store.last_seq
        return count

    async def run(self, command: Callable[[datetime], tuple[T, list[Event]]]) -> T:
        """Decide, apply, commit durably, publish; answer only once it is on disk."""
        now = self.now()
        result, events = command(now)
        if not events:
            await self.wait_committed(self.store.last_seq)
            return result
        seqs, done = self.store.append(events)
        outgoing = self._outgoing(events, seqs, now)
        await done
        self._committed(outgoing)
        return result

    async def act(self, command: Callable[[datetime], list[Event]]) -> None:
        await self.run(lambda now: (None, command(now)))

    async def housekeep(self) -> None:
        """Close visits left open from a previous day, erase expired private data, and log
        services that opened or closed with the clock."""
        today = self.now().date()
        if any(t.day < today for t in self.engine.open_tickets()):
            await self.act(lambda now: self.engine.close_day(now, before=today))
            log.info("closed tickets left open from a previous day")
        await self.act(self.engine.purge_private)
        await self.act(self.engine.note_opening_hours)

    async def wait_committed(self, seq: int) -> None:
        """Wait until ``seq`` is durable (and so published: the hub publishes after commit)."""
        if seq <= self.hub.last_seq:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((seq, future))
        await future

    def _committed(self, outgoing: list[Outgoing]) -> None:
        for item in outgoing:
            self.hub.publish(item)
        done = self.hub.last_seq
        ready = [w for w in self._waiters if w[0] <= done]
        self._waiters = [w for w in self._waiters if w[0] > done]
        for _, future in ready:
            if not future.done():
                future.set_result(None)

    def _outgoing(self, events: list[Event], seqs: list[int], now: datetime) -> list[Outgoing]:
        services = present.service_views(self.engine, now)
        return [
            Outgoing(seq, {a: self._message(event, seq, a, now, services) for a in AUDIENCES})
            for event, seq in zip(events, seqs, strict=True)
        ]

    def _message(
        self, event: Event, seq: int, audience: str, now: datetime, services: list[p.ServiceView]
    ) -> str | None:
        """The event as ``audience`` may see it, or None when it is not theirs to see."""
        if event.kind in SUPERVISOR_KINDS and audience != "supervisor":
            return None
        if event.kind in PRIVATE_KINDS and audience == "public":
            return None
        role = AUDIENCE_ROLE[audience]
        engine = self.engine
        message = p.StreamEvent(
            seq=seq,
            type="event",
            kind=event.kind,
            at=present.iso(event.at) or "",
            services=services,
        )
        ticket_id = event.data.get("id") if event.kind.startswith("ticket.") else None
        if ticket_id is not None and ticket_id in engine.tickets:
            ticket = engine.tickets[ticket_id]
            message.ticket = present.ticket_view(engine, ticket, role, now)
            if ticket.counter:
                message.counter = present.counter_view(
                    engine, engine.counters[ticket.counter], role, now
                )
        elif isinstance(event.data.get("counter"), str):
            message.counter = present.counter_view(
                engine, engine.counters[event.data["counter"]], role, now
            )
        if event.kind == "ticket.transferred" and ticket_id is not None and message.counter is None:
            freed = engine.tickets[ticket_id].transfers[-1].by_counter
            if freed:
                message.counter = present.counter_view(engine, engine.counters[freed], role, now)
        if event.kind == "day.closed":
            closed = [engine.tickets[t] for t in event.data["ids"]]
            if audience != "public":
                message.tickets = [present.ticket_view(engine, t, role, now) for t in closed]
            freed_ids = dict.fromkeys(t.counter for t in closed if t.counter)
            message.counters = [
                present.counter_view(engine, engine.counters[c], role, now) for c in freed_ids
            ]
        if event.kind == "printer.status":
            message.printer = p.PrinterView(
                event.data["device"], event.data["status"], event.data.get("detail", "")
            )
        if event.kind in ("ticket.called", "ticket.recalled") and engine.calls:
            message.call = present.call_view(engine, engine.calls[-1], seq)
        if event.kind.startswith("alert."):
            message.alert = present.alert_view(engine, engine.alerts[event.data["alert"]])
        if event.kind == "office.notice":
            message.notice = engine.notice
        return _encoder.encode(message).decode()

    def snapshot_message(self, role: str) -> tuple[int, str]:
        seq = self.store.last_seq
        state = present.snapshot(self.engine, role, self.now(), seq)
        return seq, _encoder.encode(
            p.StreamSnapshot(seq=seq, type="snapshot", state=state)
        ).decode()
