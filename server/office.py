"""The running office: the engine, its durable log and the live stream, wired in one direction.

command -> engine decides and applies -> store commits -> stream pushes -> caller answered.

A command is decided and applied synchronously (no ``await`` in between), so two counters
pressing "call next" at the same moment are simply two commands in a row: the second sees the
first's result. The caller is answered only after the events are durable.

A start loads the latest snapshot of the engine and replays only the events after it; the
office saves one now and then (housekeeping, shutdown), whenever everything it applied is
durable, so a snapshot always stands for exactly the log up to its seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import msgspec

from lobby import protocol as p
from server import presenters as present
from server import snapshot
from server.config import OfficeConfig
from server.engine import Engine, Event, Ticket
from server.logs import log_events
from server.publisher import Outgoing, Publisher, audience_of
from server.reports.figures import keep_settled_days
from server.store.port import Logged, StorageFailed, Store
from server.stream import Hub

log = logging.getLogger("lobby.office")
_encoder = msgspec.json.Encoder()
T = TypeVar("T")
TICK_SEC = 2.0
CALLS_TAIL_EVENTS = 1000
"""How much of the log's tail a start reads back for calls to announce again."""
SNAPSHOT_AFTER_EVENTS = 5000
"""Housekeeping saves a snapshot once this many events were logged since the last one: a
start then replays at most about this many (well under a second)."""


@dataclass
class Batch:
    """Commands applied in one turn of the event loop: one patch for all of them, published
    once the last of their writes is durable (the store commits in order, so all are)."""

    published: asyncio.Future[None]
    now: datetime | None = None
    events: list[Event] = field(default_factory=list)
    seq: int = 0
    last_write: asyncio.Future[None] | None = None
    outgoing: Outgoing | None = None

    def add(self, events: list[Event], seq: int, write: asyncio.Future[None]) -> None:
        self.events += events
        self.seq = seq
        self.last_write = write

    @property
    def durable(self) -> bool:
        write = self.last_write
        return (
            write is not None
            and write.done()
            and not write.cancelled()
            and write.exception() is None
        )


class Office:
    def __init__(
        self, config: OfficeConfig, store: Store, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.config = config
        self.engine = Engine(config)
        self.store = store
        self.hub = Hub()
        self.publisher = Publisher(self.engine)
        self._clock = clock
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._in_flight = 0
        self._batch: Batch | None = None
        """The batch the current turn of the event loop fills, until its patch is decided."""
        self._decided: deque[Batch] = deque()
        """Batches decided and waiting for their writes to be durable, oldest first."""
        self.tick_sec = TICK_SEC
        self.commit_observers: list[Callable[[float], None]] = []
        """Told how long each command's commit took, in seconds (the metrics' histogram)."""
        self.storage_problem: StorageFailed | None = None
        """Set from a failed commit until the engine again holds exactly what the log holds."""
        self._recovery: asyncio.Future[None] | None = None
        self._snapshot: tuple[int, bytes] | None = None
        self._visits_minute: datetime | None = None
        """The latest snapshot loaded or saved, for a rebuild after a failed commit."""

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock().astimezone(self.config.tz)
        return datetime.now(self.config.tz)

    def load(self) -> int:
        """Rebuild the engine from the latest snapshot and the events after it (or from the
        whole log); returns how many events were replayed."""
        seq, engine = self._from_snapshot()
        count = 0
        for event in self.store.replay_since(seq):
            engine.apply(event)
            count += 1
        if seq:
            log.info("started from the snapshot at seq %d, then %d events after it", seq, count)
        self.engine = engine
        self.publisher.engine = engine
        now = self.now()
        self.engine.advance(now)
        self.publisher.start(now, self.store.last_seq)
        return count

    async def remember_fresh_calls(self) -> None:
        """After the start: the calls still fresh enough to announce, read back with their
        seqs from the log's tail (the last few hundred events hold every call of the last
        minute and a half), so a restart does not make a display miss one."""
        since = max(0, self.store.last_seq - CALLS_TAIL_EVENTS)
        try:
            logged = await self.store.events_since(since, CALLS_TAIL_EVENTS)
        except StorageFailed as failed:  # a courtesy to the displays: the start goes on
            log.warning("calls to announce again not read back: %s", failed.detail)
            return
        self.publisher.remember_calls(logged, self.now())

    def _from_snapshot(self) -> tuple[int, Engine]:
        """The engine of the store's latest snapshot and its seq, if it loads here; else a
        fresh engine at seq 0 (the whole log to replay), and the log says why."""
        saved = self.store.latest_snapshot()
        if saved is None:
            return 0, Engine(self.config)
        seq, data = saved
        try:
            if seq > self.store.last_seq:
                raise snapshot.Unusable(f"the log ends at seq {self.store.last_seq}")
            engine = snapshot.load(self.config, data)
        except snapshot.Unusable as why:
            log.warning(
                "not starting from the snapshot at seq %d: %s; replaying the whole log", seq, why
            )
            return 0, Engine(self.config)
        self._snapshot = saved
        return seq, engine

    async def save_snapshot(self) -> bool:
        """Save the engine's state, if it is exactly the durable log (nothing in flight, no
        failed commit) and the log moved on since the last snapshot; returns whether it did."""
        seq = self.store.last_seq
        settled = not self._in_flight and self.storage_problem is None
        if not settled or self.published_seq != seq:
            return False
        if self._snapshot is not None and self._snapshot[0] >= seq:
            return False
        saved = (seq, snapshot.dump(self.engine))
        self._snapshot = saved  # it stands for the durable log even if the save fails
        await self.store.save_snapshot(*saved)
        log.info("saved a snapshot at seq %d (%d bytes)", seq, len(saved[1]))
        return True

    def _events_since_snapshot(self) -> int:
        return self.store.last_seq - (self._snapshot[0] if self._snapshot else 0)

    @property
    def published_seq(self) -> int:
        return self.publisher.seq

    async def run(self, command: Callable[[datetime], tuple[T, list[Event]]]) -> T:
        """Decide, apply, commit durably, publish; answer only once it is on disk.

        If the commit fails (:class:`StorageFailed`, e.g. a full disk), the engine is rebuilt
        from the log before anything else is decided, so it never holds what the log does not:
        the caller gets the failure, and a retry with the same request id is decided afresh.
        """
        if self.storage_problem is not None:
            await self._recover()
        now = self.now()
        result, events = command(now)
        if not events:
            await self.wait_committed(self.store.last_seq)
            return result
        seqs, done = self.store.append(events)
        handed = time.perf_counter()
        batch = self._batch_for(now)
        batch.add(events, seqs[-1], done)
        self._in_flight += 1
        try:
            # shielded: a caller that goes away (a cancelled request, a shutdown) must not
            # cancel the write itself, which the store commits all the same
            await asyncio.shield(done)
            for observe in self.commit_observers:
                observe(time.perf_counter() - handed)
            await asyncio.shield(batch.published)
        except StorageFailed as failure:
            if self.storage_problem is None:
                log.error("a commit failed, rebuilding from the log: %s", failure.detail)
            self.storage_problem = failure
            await self._recover()
            raise
        finally:
            self._in_flight -= 1
        return result

    def _batch_for(self, now: datetime) -> Batch:
        """The batch this turn of the event loop fills: the first command in a turn opens it
        and schedules its patch for the end of the turn, so the commands that arrived together
        (and are committed together) are published as one patch, at the moment of the last."""
        batch = self._batch
        if batch is None:
            batch = self._batch = Batch(asyncio.get_running_loop().create_future())
            asyncio.get_running_loop().call_soon(self._decide, batch)
        batch.now = now
        return batch

    def _decide(self, batch: Batch) -> None:
        if self._batch is not batch:  # dropped by a rebuild after a failed commit
            return
        self._batch = None
        assert batch.now is not None
        batch.outgoing = self.publisher.decide(batch.events, batch.seq, batch.now)
        self._decided.append(batch)
        assert batch.last_write is not None
        batch.last_write.add_done_callback(lambda _: self._publish_durable())
        self._publish_durable()

    def _publish_durable(self) -> None:
        """Publish decided batches, in order, as far as their writes are durable."""
        while self._decided and self._decided[0].durable:
            batch = self._decided.popleft()
            assert batch.outgoing is not None
            self._committed(batch.outgoing)
            log_events(self.engine, batch.events, batch.seq)
            if not batch.published.done():
                batch.published.set_result(None)

    async def _recover(self) -> None:
        """Bring the engine and what was published back to the log's last durable event.

        One rebuild serves every command that was waiting on a failed commit; if it fails too
        (the disk still refuses reads), the problem stays and the next command tries again.
        """
        if self._recovery is None:
            self._recovery = asyncio.ensure_future(self._rebuild())
        recovery = self._recovery
        try:
            await asyncio.shield(recovery)
        except Exception as error:  # the log could not be read back either
            raise self.storage_problem or StorageFailed(str(error), full=False) from None
        finally:
            if self._recovery is recovery and recovery.done():
                self._recovery = None

    async def _rebuild(self) -> None:
        durable = await self.store.recover()
        start = self._snapshot if self._snapshot and self._snapshot[0] <= durable else None
        engine = snapshot.load(self.config, start[1]) if start else Engine(self.config)
        logged_events = await self.store.events_since(start[0] if start else 0)
        for logged in logged_events:
            engine.apply(logged.event)
        engine.keep_numbers_of(self.engine)
        now = self.now()
        engine.advance(now)
        self.engine = engine
        self.publisher.rollback(engine)
        self._republish(durable, now, logged_events)
        failed = [w for w in self._waiters if w[0] > durable]
        self._waiters = [w for w in self._waiters if w[0] <= durable]
        for _, future in failed:
            if not future.done():
                future.set_exception(self.storage_problem or StorageFailed("", full=False))
        self.storage_problem = None
        log.warning("rebuilt from the log up to seq %d; taking commands again", durable)

    def _republish(self, durable: int, now: datetime, replayed: list[Logged]) -> None:
        """After a rebuild: publish what the durable log holds beyond the last publication (a
        batch whose own writes were committed before a later one failed), and release every
        command waiting on a batch; those whose writes failed have their failure already."""
        published = self.publisher.seq
        batches = [*self._decided, *([self._batch] if self._batch else [])]
        self._batch, self._decided = None, deque()
        newer = [logged.event for logged in replayed if logged.seq > published]
        self._committed(self.publisher.resync(durable, now, newer))
        log_events(self.engine, newer, durable)
        for batch in batches:
            if not batch.published.done():
                batch.published.set_result(None)

    async def act(self, command: Callable[[datetime], list[Event]]) -> None:
        await self.run(lambda now: (None, command(now)))

    async def housekeep(self) -> None:
        """The engine's clock-driven step (see :meth:`Engine.housekeep`), then a snapshot now
        and then."""
        events: list[Event] = []

        def step(now: datetime) -> list[Event]:
            events.extend(self.engine.housekeep(now))
            return events

        await self.act(step)
        if any(e.kind == "day.closed" for e in events):
            log.info("closed tickets left open from a previous day")
        purged = any(e.kind == "tickets.purged" for e in events)  # the snapshots went with it
        if purged or self._events_since_snapshot() >= SNAPSHOT_AFTER_EVENTS:
            await self.save_snapshot()
        await asyncio.to_thread(keep_settled_days, self.store, self.config, self.now())

    def tick(self) -> None:
        """Push what the clock alone moved; skipped while a commit is in flight, so a tick never
        shows a change the log does not hold yet (the next one comes soon)."""
        if self._in_flight or self._batch or self._decided or self.storage_problem is not None:
            return
        now = self.now()
        self.engine.advance(now)
        outgoing = self.publisher.tick(now)
        minute = now.replace(second=0, microsecond=0)
        every_visit, self._visits_minute = minute != self._visits_minute, minute
        if outgoing is None and every_visit:  # nothing moved, but each page's clock did
            outgoing = Outgoing(self.published_seq, {}, {}, [], tick=True)
        if outgoing is not None:
            self.publisher.publish(outgoing)
            self._broadcast(outgoing, every_visit)

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until everything handed to the store is durable
        and published: at shutdown, so the snapshot saved then stands for the whole log."""
        with contextlib.suppress(TimeoutError, StorageFailed):
            await asyncio.wait_for(self.wait_committed(self.store.last_seq), timeout)

    async def wait_committed(self, seq: int) -> None:
        """Wait until ``seq`` is durable (and so published: the hub publishes after commit)."""
        if seq <= self.published_seq:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((seq, future))
        await future

    def _broadcast(self, outgoing: Outgoing, every_visit: bool = False) -> None:
        """Hand a published patch to the hub, with the status of each visit it moved whose
        status page is connected (of every connected one with ``every_visit``: once a minute,
        so a page's "last updated" stays true)."""
        watched = self.hub.watched_tickets()
        staff = outgoing.patches.get("staff")
        if not every_visit:
            if staff is None:
                watched = set()
            elif staff.office is None:  # the notice moves every visit's page
                watched &= {t.id for t in staff.tickets}
        for ticket_id in watched:
            ticket = self.engine.tickets.get(ticket_id)
            if ticket is not None:
                outgoing.visits[ticket_id] = _encoder.encode(self.visit_status(ticket)).decode()
        self.hub.publish(outgoing)

    def _committed(self, outgoing: Outgoing) -> None:
        self.publisher.publish(outgoing)
        self._broadcast(outgoing)
        done = self.published_seq
        ready = [w for w in self._waiters if w[0] <= done]
        self._waiters = [w for w in self._waiters if w[0] > done]
        for _, future in ready:
            if not future.done():
                future.set_result(None)

    def snapshot_message(self, role: str, since: int | None = None) -> tuple[int, str]:
        return self.publisher.snapshot_message(role, self.now(), since)

    def ticket_view(self, ticket: Ticket, role: str) -> p.TicketView:
        """One visit as ``role`` sees it, with the published figures: a command's reply, the
        status page and every screen then show the same position and estimate."""
        published = self.publisher.published["staff"].tickets.get(ticket.id)
        if published is None:  # a finished visit: nothing on it moves with the clock any more
            return present.ticket_view(self.engine, ticket, role, self.now())
        return published if role in present.STAFF_ROLES else present.public_ticket(published)

    def visit_status(self, ticket: Ticket) -> p.VisitStatus:
        """What the visitor's status page shows, in the language they chose at the kiosk (the
        kiosk's own once the retention period erased their choice)."""
        language = ticket.language or ticket.ui_language
        service = self.engine.services[ticket.service]
        return p.VisitStatus(
            seq=self.published_seq,
            office=self.config.name,
            now=present.iso(self.now()) or "",
            timezone=self.config.timezone,
            ticket=present.in_language(self.engine, language, self.ticket_view(ticket, "public")),
            language=language,
            info=service.infos.get(language or "", service.info),
            notice=present.notices(self.engine).get(language or "", self.engine.notice),
            languages=list(self.config.languages),
            emergency=present.emergency_view(self.engine.emergency, "public", self.now())
            if self.engine.emergency
            else None,
        )

    def counter_view(self, counter_id: str, role: str) -> p.CounterView:
        return self.publisher.published[audience_of(role)].counters[counter_id]

    def service_view(self, service_id: str) -> p.ServiceView:
        return self.publisher.published["public"].services[service_id]

    def state(self, role: str) -> p.StateSnapshot:
        return self.publisher.state(role, self.now())
