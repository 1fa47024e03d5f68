"""A batch of an office's log taken in at headquarters: checked, stored once, folded.

Everything a batch changes happens in one transaction with the office's row locked, so two
deliveries of the same batch (a retry after a lost answer, two headquarters processes) are
taken one after the other, and a batch refused half-way leaves nothing behind:

* events at or below what headquarters holds are duplicates: dropped, counted, answered 200;
* a batch that starts beyond the next seq is a gap: refused 409, naming the seq expected;
* events out of order, times without an offset, data the fold cannot read: refused 400.

The new events go into the office's copy of the log; the visit records are folded from them by
the office store's own code (``RecordWriter``) in the same transaction, and so is the office's
live summary in ``hq_offices`` (waiting per service, the longest wait's arrival, counters open,
how far the office's log has got), which the overview reads.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import psycopg
from psycopg import sql

from server.auth import hash_token
from server.engine import Event
from server.hq.database import (
    OFFICE_COLUMNS,
    Office,
    Pool,
    layout_of,
    office_from,
    use_office,
)
from server.hq.wire import Batch, Profile, Received
from server.reports.records import STAFFED, Layout
from server.store.encoding import event_row
from server.store.postgres import erase_old_rows, scrub_private
from server.store.postgres_records import RecordWriter
from server.store.writer import caught_up, purged_ids


class IngestRefused(Exception):
    """A request headquarters refuses; nothing of it was stored."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        expected: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.expected = field, expected


def _malformed(message: str, field: str | None = None) -> IngestRefused:
    return IngestRefused(400, "malformed", message, field)


def decode_batch(body: bytes) -> Batch:
    try:
        return msgspec.json.decode(body, type=Batch)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).rpartition(" - at `")
        if not message:
            raise _malformed(str(exc)) from None
        raise _malformed(message, path.rstrip("`").removeprefix("$.")) from None
    except msgspec.DecodeError as exc:
        raise _malformed(f"the body is not JSON: {exc}") from None


def checked_events(batch: Batch) -> list[tuple[int, Event]]:
    """The batch's events in seq order with their times read, or refused saying which."""
    events = []
    for i, wire in enumerate(batch.events):
        where = f"events[{i}]"
        if i and wire.seq != batch.events[0].seq + i:
            raise _malformed(
                f"seqs must follow each other: {wire.seq} after {batch.events[i - 1].seq}",
                f"{where}.seq",
            )
        try:
            at = datetime.fromisoformat(wire.at)
        except ValueError:
            raise _malformed(f"not an ISO 8601 time: {wire.at!r}", f"{where}.at") from None
        if at.tzinfo is None:
            raise _malformed("a time needs its offset", f"{where}.at")
        events.append((wire.seq, Event(wire.kind, at, wire.data)))
    return events


def checked_profile(profile: Profile | None) -> Profile | None:
    if profile is None:
        return None
    try:
        ZoneInfo(profile.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _malformed(f"unknown time zone {profile.timezone!r}", "profile.timezone") from None
    ids = [s.id for s in profile.services]
    if len(set(ids)) != len(ids):
        raise _malformed("a service id appears twice", "profile.services")
    return profile


class Ingest:
    """Batches in, on a pool of connections; each office's record fold kept between batches
    (a fold restored from its rows costs a query per open visit)."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._writers: dict[int, RecordWriter] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, office_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(office_id, threading.Lock())

    def _office(self, conn: psycopg.Connection[Any], office_id: str, lock: bool) -> Office:
        query = sql.SQL("SELECT {} FROM {}.hq_offices WHERE id = %s" + (" FOR UPDATE" * lock))
        found = conn.execute(
            query.format(sql.SQL(OFFICE_COLUMNS), sql.Identifier(self.pool.schema)), (office_id,)
        ).fetchone()
        if found is None:
            raise IngestRefused(
                404, "unknown_office", f"no office {office_id!r} is registered here", "office"
            )
        return office_from(found)

    @staticmethod
    def _authorised(office: Office, token: str | None) -> None:
        if not token or hash_token(token) != office.token_hash:
            raise IngestRefused(
                401, "unauthorized", f"the token is not office {office.id!r}'s: check token_file"
            )

    def position(self, office_id: str, token: str | None) -> Received:
        with self.pool.connection() as conn:
            office = self._office(conn, office_id, lock=False)
            self._authorised(office, token)
            return Received(office.received_seq)

    def take(self, office_id: str, token: str | None, batch: Batch) -> Received:
        """Store what is new of ``batch``; blocking, run in a worker thread."""
        events = checked_events(batch)
        profile = checked_profile(batch.profile)
        with self._lock(office_id), self.pool.connection() as conn:
            return self._take(conn, office_id, token, batch, events, profile)

    def _take(
        self,
        conn: psycopg.Connection[Any],
        office_id: str,
        token: str | None,
        batch: Batch,
        events: list[tuple[int, Event]],
        profile: Profile | None,
    ) -> Received:
        purged = False
        folded: int | None = None
        try:
            with conn.transaction():
                office = self._office(conn, office_id, lock=True)
                self._authorised(office, token)
                held = office.received_seq
                if events and events[0][0] > held + 1:
                    raise IngestRefused(
                        409,
                        "gap",
                        f"headquarters holds this office's log up to seq {held}: the next batch"
                        f" must start at seq {held + 1}, not {events[0][0]}",
                        "events[0].seq",
                        expected=held + 1,
                    )
                fresh = [(seq, event) for seq, event in events if seq > held]
                use_office(conn, self.pool.schema, office.number)
                self._same_as_held(conn, [(seq, e) for seq, e in events if seq <= held])
                profile = profile or office.profile
                folded = office.number  # from here its fold may run ahead
                writer = self._writer(conn, office.number, layout_of(profile), held)
                if fresh:
                    with conn.cursor() as cursor:
                        cursor.executemany(
                            "INSERT INTO events (seq, at, kind, data, at_us)"
                            " VALUES (%s, %s, %s, %s, %s)",
                            [event_row(seq, e) for seq, e in fresh],
                        )
                    for ids in purged_ids(event for _, event in fresh):
                        scrub_private(conn, ids)
                        purged = True
                    try:
                        changes = writer.fold.fold(event for _, event in fresh)
                    except (KeyError, TypeError, ValueError, AttributeError) as exc:
                        raise _malformed(
                            f"an event the visit records cannot read ({type(exc).__name__}: {exc})",
                            "events",
                        ) from None
                    writer.write(changes, fresh[-1][0])
                received = fresh[-1][0] if fresh else held
                self._update(conn, office, batch, fresh, profile, writer, received)
        except BaseException:
            if folded is not None:  # its fold may have run ahead of a rolled-back commit
                self._writers.pop(folded, None)
            raise
        if purged:  # after the commit: VACUUM runs outside a transaction
            erase_old_rows(conn)
        return Received(received, len(fresh), len(events) - len(fresh))

    @staticmethod
    def _same_as_held(conn: psycopg.Connection[Any], duplicates: list[tuple[int, Event]]) -> None:
        """A resent event must be the one held under its seq (its time and kind; its data may
        since have been purged): another event there means the office's log is not the one
        headquarters holds (a database restored from an old backup, or started anew)."""
        if not duplicates:
            return
        held = {
            int(seq): (at, kind)
            for seq, at, kind in conn.execute(
                "SELECT seq, at, kind FROM events WHERE seq BETWEEN %s AND %s",
                (duplicates[0][0], duplicates[-1][0]),
            )
        }
        for seq, event in duplicates:
            if held.get(seq) != (event.at.isoformat(), event.kind):
                raise IngestRefused(
                    409,
                    "conflict",
                    f"seq {seq} is not the event headquarters holds under it: this office's log"
                    " differs from the one shipped before (a database restored or started"
                    " anew?); nothing was stored",
                    "events",
                )

    def _writer(
        self, conn: psycopg.Connection[Any], number: int, layout: Layout | None, held: int
    ) -> RecordWriter:
        writer = self._writers.get(number)
        if writer is not None and writer.layout == layout:
            writer.conn = conn
            if writer.up_to_date(held):
                return writer
        writer = caught_up(RecordWriter(conn, layout), held)
        self._writers[number] = writer
        return writer

    def _update(
        self,
        conn: psycopg.Connection[Any],
        office: Office,
        batch: Batch,
        fresh: list[tuple[int, Event]],
        profile: Profile | None,
        writer: RecordWriter,
        received: int,
    ) -> None:
        """The office's live summary, from the fold that just took the batch."""
        fold = writer.fold
        waiting: dict[str, list[int]] = {}
        for visit_id, visit in fold.visits.items():
            if visit.state == "waiting":
                service = fold.legs[visit_id].service
                count, oldest = waiting.get(service, [0, visit.arrived_us])
                waiting[service] = [count + 1, min(oldest, visit.arrived_us)]
        counters_open = sum(1 for c in fold.counters.values() if c.state in STAFFED)
        last_at = fresh[-1][1].at.isoformat() if fresh else office.last_event_at
        conn.execute(
            sql.SQL(
                "UPDATE {}.hq_offices SET received_seq = %s, head_seq = greatest(head_seq, %s, %s),"
                " events_received = events_received + %s,"
                " duplicates_received = duplicates_received + %s, last_event_at = %s,"
                " heard_at = %s, counters_open = %s, waiting = %s, profile = %s WHERE id = %s"
            ).format(sql.Identifier(self.pool.schema)),
            (
                received,
                batch.head,
                received,
                len(fresh),
                len(batch.events) - len(fresh),
                last_at,
                datetime.now().astimezone().isoformat(),
                counters_open,
                msgspec.json.encode(waiting).decode(),
                None if profile is None else msgspec.json.encode(profile).decode(),
                office.id,
            ),
        )
