"""The store port: everything the server asks of durable storage, whatever the database.

Views, the app and the command line speak only to this interface, never to a connection, so a
PostgreSQL store can stand beside the SQLite one; ``tests/test_store_contract.py`` holds every
store to the same behaviour.

A store has two faces:

* **offline** (:meth:`Store.offline`): plain synchronous account calls for the command line,
  which has no event loop and must not start a writer;
* **serving** (:meth:`Store.running`): opened, the log replayed once (:meth:`Store.replay`, or
  the latest snapshot and :meth:`Store.replay_since` its seq) while nothing writes, then a
  writer started. From then on every read and write is asynchronous and
  queued in order with the appends, so a command is answered only after its events are durable.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from server.engine import Event
from server.reports.records import EmergencyRecord, Span

# What each logged event kind carries about a visitor as a person. After the retention period a
# store erases these fields from the log (``tickets.purged``) in the same commit that logs the
# purge: the promise made to visitors outranks keeping their names in history. Replaying a
# scrubbed log gives the same queue.
PRIVATE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "ticket.checked_in": ("name", "address_as", "language", "needs"),
    "ticket.completed": ("notes",),
    "ticket.transferred": ("note",),
    "ticket.noted": ("text",),
    "ticket.flagged": ("reason",),
}


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    kind: str  # "staff" or "device"
    signed_in_at: datetime | None = None
    """For a staff session: when it began (sessions end a while after it)."""


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    role: str
    created_at: str


@dataclass(frozen=True)
class AuditEntry:
    """One export or erasure of a person's data: who, when, what (never the person's name)."""

    at: str
    by: str
    action: str
    detail: str


class Logged(NamedTuple):
    """An event with the place the log gave it."""

    seq: int
    event: Event


class StorageFailed(Exception):
    """A commit did not reach the disk, so nothing of it happened.

    ``full``: the disk (or the database's size limit) is full, which an operator fixes by
    freeing space; otherwise the storage failed in another way (an I/O error, a lost file).
    """

    def __init__(self, detail: str, *, full: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.full = full

    @property
    def code(self) -> str:
        return "storage_full" if self.full else "storage_error"

    @property
    def message(self) -> str:
        """What the person at the screen is told: nothing was saved, and what to do."""
        if self.full:
            return "The server's disk is full, so this was not saved. Please try again shortly."
        return "The server could not save this, so nothing changed. Please try again shortly."


class UnusableStore(Exception):
    """The database cannot be served as it is: damaged, missing, of a newer version or of
    another office. The message is one line for the operator, saying what to do; the server
    refuses to start rather than serve an empty or broken office."""


class Accounts(ABC):
    """Staff, devices and sessions as plain calls, for the command line and for setting up."""

    @abstractmethod
    def add_staff(self, name: str, role: str, password_hash: str) -> int:
        """Add a staff member, or give an existing one (same name, any case) a new role and
        password, ending every session they had; returns the id, which stays the same on an
        update."""

    @abstractmethod
    def staff_password(self, name: str) -> tuple[Account, str] | None:
        """The account and stored password hash for a name (any case), for signing in."""

    @abstractmethod
    def add_device(self, name: str, role: str, token_hash: str) -> int:
        """Add a kiosk or display, or re-issue one: its previous token stops working."""

    @abstractmethod
    def devices(self) -> list[Device]:
        """Every kiosk and display, by name."""

    @abstractmethod
    def remove_device(self, device_id: int) -> str | None:
        """Revoke a device: its token stops working; returns its name, None if unknown."""

    @abstractmethod
    def add_session(self, token_hash: str, staff_id: int) -> None: ...

    @abstractmethod
    def remove_session(self, token_hash: str) -> None: ...

    @abstractmethod
    def remove_sessions_of(self, staff_id: int) -> int:
        """End every session of one staff member; returns how many there were."""

    @abstractmethod
    def account_for_token(self, token_hash: str) -> Account | None:
        """Who a session or device token belongs to; None for an unknown or retired token."""


class Store(ABC):
    """The event log and the accounts of one office."""

    # ------------------------------------------------------------- privacy
    # What is held about one person, and the record of every look at it and every erasure.

    @abstractmethod
    async def visits_named(self, name: str) -> list[int]:
        """The ids of the visits checked in under ``name`` (any case, outer spaces ignored)."""

    @abstractmethod
    async def visit_events(self, ticket_ids: list[int]) -> list[Logged]:
        """Every logged event about these visits, in seq order."""

    @abstractmethod
    async def record_privacy(self, by: str, action: str, detail: str) -> None:
        """Add an entry to the privacy audit log (durable before it returns)."""

    @abstractmethod
    async def privacy_audit(self) -> list[AuditEntry]:
        """The privacy audit log, oldest first."""

    # ----------------------------------------------------------- lifecycle

    @abstractmethod
    def open(self) -> None:
        """Connect and bring the schema up to date; a store that cannot open raises here, at
        start, never on the first check-in."""

    def replay(self) -> Iterator[Event]:
        """Every logged event in seq order, streamed; only between :meth:`open` and
        :meth:`start`, when nothing else writes."""
        return self.replay_since(0)

    @abstractmethod
    def replay_since(self, seq: int) -> Iterator[Event]:
        """The events after ``seq`` in seq order, streamed, like :meth:`replay`: a start from
        a snapshot reads only what came after it."""

    @abstractmethod
    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """The newest saved snapshot as (seq, data), if any; like :meth:`replay`, only
        between :meth:`open` and :meth:`start`."""

    @abstractmethod
    def start(self) -> None:
        """Start the writer on the running event loop; appends are accepted from now on."""

    @abstractmethod
    async def close(self) -> None:
        """Finish the writes already handed over, then let go of the database."""

    @abstractmethod
    def offline(self) -> contextlib.AbstractContextManager[Accounts]:
        """Open, hand out synchronous account calls, close: the command line's way in. Safe
        while a server runs on the same database (``lobby device add`` next to ``serve``)."""

    @contextlib.asynccontextmanager
    async def running(
        self, before_start: Callable[[], object] | None = None
    ) -> AsyncIterator[None]:
        """Open, run ``before_start`` (the office replays the log), start; close on the way out.

        Shaped for an aiohttp ``cleanup_ctx``: ``async with store.running(load): yield``.
        """
        self.open()
        try:
            if before_start is not None:
                before_start()
            self.start()
            yield
        finally:
            await self.close()

    # ------------------------------------------------------------- the log

    @property
    @abstractmethod
    def last_seq(self) -> int:
        """The seq of the last event handed to :meth:`append` (durable or still on its way)."""

    @abstractmethod
    def append(self, events: list[Event]) -> tuple[list[int], asyncio.Future[None]]:
        """Hand events over for a durable commit; returns their seqs and a future that
        completes once they are durable (or fails with why they are not). Futures complete in
        append order: a later one done means every earlier one is settled too.

        Seqs are handed out here, synchronously and in call order, so the order of the log is the
        order in which the engine applied the events. Appends that queue up while the disk works
        are committed together: one flush for many callers.
        """

    trouble: StorageFailed | None = None
    """The last failed commit, until a commit or :meth:`probe` succeeds again: while it is set
    the server reports not-ready (``/healthz``) and the supervisor page says why."""

    @abstractmethod
    async def probe(self) -> None:
        """Try a small durable write (after a failed commit, with nothing else to commit):
        clears :attr:`trouble` when the storage takes writes again, raises
        :class:`StorageFailed` when it still does not."""

    @abstractmethod
    async def recover(self) -> int:
        """After a failed commit, go on from what is durable; returns the last durable seq.

        Once a commit fails, every append after it fails too (each was decided on top of the
        failed one) until this is called; the seqs they were given are handed out again.
        """

    @abstractmethod
    async def events_since(self, seq: int, limit: int | None = None) -> list[Logged]:
        """The events after ``seq``, in seq order (``0``: the whole log); only the first
        ``limit`` of them if given, to read a long log a page at a time."""

    @abstractmethod
    async def events_between(self, start: datetime, end: datetime) -> list[Logged]:
        """The events with ``start <= at < end`` (aware times, compared as instants), in seq
        order."""

    @abstractmethod
    def records(self) -> contextlib.AbstractContextManager[RecordReader]:
        """A read-only view of the visit records on a connection of its own, safe in any
        thread beside a running writer (a report runs in a worker thread, never on the event
        loop, and never queues in front of a commit). Raises :class:`RecordsBehind` when the
        records do not cover the log yet."""

    @abstractmethod
    async def save_snapshot(self, seq: int, data: bytes) -> None:
        """Keep ``data`` (the office's state after event ``seq``, already durable) so the next
        start need not replay the whole log. Only the last few are kept: one that does not
        load is passed over, and older ones have no use. A committed ``tickets.purged`` drops
        every snapshot saved before it, since they may hold what the purge erased."""

    # ------------------------------------------------------------ accounts
    # The serving face of :class:`Accounts`: the same calls, in order with the writes.

    @abstractmethod
    async def add_staff(self, name: str, role: str, password_hash: str) -> int: ...

    @abstractmethod
    async def staff_password(self, name: str) -> tuple[Account, str] | None: ...

    @abstractmethod
    async def add_device(self, name: str, role: str, token_hash: str) -> int: ...

    @abstractmethod
    async def devices(self) -> list[Device]: ...

    @abstractmethod
    async def remove_device(self, device_id: int) -> str | None: ...

    @abstractmethod
    async def add_session(self, token_hash: str, staff_id: int) -> None: ...

    @abstractmethod
    async def remove_session(self, token_hash: str) -> None: ...

    @abstractmethod
    async def remove_sessions_of(self, staff_id: int) -> int: ...

    @abstractmethod
    async def account_for_token(self, token_hash: str) -> Account | None: ...


# ------------------------------------------------------------ visit records
# Every store keeps the rows of ``server.reports.records`` beside the log, written in the same
# transaction as their events, and answers these period queries over them. Periods are office
# days (``first`` to ``last``, by arrival); names of groups, tallies and measures are the ones
# docs/measures.md defines.

VISIT_GROUPS = ("", "service", "day", "hour", "weekday_hour", "service_hour")
"""How visit figures can be grouped ('' is one group, the whole period)."""
LEG_GROUPS = (
    "",
    "service",
    "counter",
    "staff",
    "day",
    "hour",
    "weekday_hour",
    "service_counter_staff_hour",
)
GROUP_SEPARATOR = "\x1f"
"""Between the parts of a combined group's key (service_hour: service, hour)."""
VISIT_MEASURES = (
    "wait_min",
    "waited_before_leaving_min",
    "acknowledgement_sec",
    "counter_time_min",
    "emergency_wait_min",
)
"""``wait_min`` counts the visits no emergency interrupted; ``emergency_wait_min`` the others
(visitors still waiting for their first call when an emergency or drill began)."""
LEG_MEASURES = ("service_time_min", "call_to_counter_min")


class RecordsBehind(Exception):
    """The records do not yet cover the whole log (a database no server has opened since the
    upgrade): a report now would leave visits out."""


class Histogram(NamedTuple):
    """A measure's values at the report's resolution (hundredths of the unit, rounded half up)
    as ``(value, how many)`` in increasing order, and the exact sum of the values."""

    buckets: list[tuple[int, int]]
    total: float


class RecordReader(ABC):
    """Period queries over the visit records, all at one consistent moment of them."""

    @abstractmethod
    def visit_tallies(
        self, first: date, last: date, by: str, targets_min: Mapping[str, float], now: datetime
    ) -> dict[str, dict[str, float]]:
        """Per group of visits: counts and sums (check-ins, outcomes, answers, service level
        against each service's target, estimate accuracy); see ``records_sql.figures``."""

    @abstractmethod
    def leg_tallies(self, first: date, last: date, by: str) -> dict[str, dict[str, float]]:
        """Per group of serving legs: calls, served, done, no-shows, transfers, needs met."""

    @abstractmethod
    def histograms(self, first: date, last: date, measure: str, by: str) -> dict[str, Histogram]:
        """Per group: the values of one measure (VISIT_MEASURES or LEG_MEASURES)."""

    @abstractmethod
    def idle_seconds(self, start: datetime, end: datetime, by: str) -> dict[str, float]:
        """Seconds of idle while waiting within [start, end), by counter or staff."""

    @abstractmethod
    def staffed_spans(self, start: datetime, end: datetime) -> list[Span]:
        """Stretches counters were staffed, clipped to [start, end) (ongoing ones to end)."""

    @abstractmethod
    def closed_at_end_of_day(self, first: date, last: date) -> list[str]:
        """Ticket numbers closed at end of day, in check-in order."""

    @abstractmethod
    def flagged(self, first: date, last: date) -> list[tuple[str, str, int]]:
        """Visits flagged for a debrief: (number, reason, arrival in epoch microseconds)."""

    @abstractmethod
    def emergencies(self, first: date, last: date) -> list[EmergencyRecord]:
        """The emergencies and drills that began on the period's days, in order."""

    @abstractmethod
    def settled_days(self, first: date, last: date) -> set[str]:
        """The days of the period (ISO dates) whose records can no longer change."""

    @abstractmethod
    def unsummarised_days(self, key: str) -> list[str]:
        """The settled days with visits that have no summary kept under ``key``, newest
        first: what a report would otherwise summarise from the rows."""

    @abstractmethod
    def cached(self, key: str, days: set[str]) -> dict[str, bytes]:
        """Summaries kept for these settled days under ``key`` (what they were computed
        with), by day; days without one are left out."""

    @abstractmethod
    def keep(self, key: str, summaries: Mapping[str, bytes]) -> None:
        """Keep summaries of settled days for the next report; the last call on a reader."""
