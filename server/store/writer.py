"""Group commit on a writer thread of its own: what every store's serving face shares.

One thread owns the store's connection while the server runs. Commands hand it their events;
it commits whatever queued up during the previous commit as one transaction (one flush for
many callers), so 32 kiosks checking in at once cost one disk flush, not 32, while each caller
is still answered only after its own events are durable. Keeping the database on its own thread
also keeps the event loop free while the disk or the network works. Reads and account calls
queue on the same thread, in order with the writes.

A store subclasses :class:`QueuedWriter` and says how one batch is written in one
transaction (:meth:`QueuedWriter._write_batch`), what its errors mean
(:meth:`QueuedWriter._failure`), how it takes up again after a failed one
(:meth:`QueuedWriter._take_up`) and where its accounts are
(:meth:`QueuedWriter._open_accounts`); the seqs, the queue, the batching, what a failed commit
leaves, the settling of futures and the serving face of the accounts are here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from server.engine import Event
from server.reports.records import Changes, RecordFold
from server.store.encoding import event_row
from server.store.port import Account, Accounts, Device, StorageFailed

log = logging.getLogger("lobby.store")
T = TypeVar("T")
R = TypeVar("R", bound="RecordRows")
BATCH_LIMIT = 512


class Write:
    """Events with their seqs, their rows for the log, and the future their caller awaits.

    The rows are encoded on the event loop, where the command was decided, not on the writer
    thread: while that thread runs Python it holds the interpreter lock, and the loop, taking
    the lock back after each answer it sends, waits for it to let go."""

    __slots__ = ("events", "future", "rows", "seqs")

    def __init__(self, seqs: list[int], events: list[Event], future: asyncio.Future[None]):
        self.seqs = seqs
        self.events = events
        self.future = future
        self.rows = [event_row(seq, event) for seq, event in zip(seqs, events, strict=True)]


class Job:
    """A read or an account call, run on the writer thread in order with the writes."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], Any], future: asyncio.Future[Any]):
        self.fn = fn
        self.future = future


class QueuedWriter(ABC):
    """The writer thread, its queue and the event loop it answers on."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Write | Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_seq = 0
        self._outbox: list[Write] = []
        """Writes handed over in this turn of the event loop, not yet queued."""
        self._failed: StorageFailed | None = None
        """The failure every later write is refused with until ``recover`` (writer thread)."""
        self.trouble: StorageFailed | None = None

    @abstractmethod
    def _write_batch(self, batch: list[Write]) -> None:
        """Write ``batch`` (its events, what a purge scrubs, the visit records) in one
        transaction and commit it; raise on any failure (on the writer thread)."""

    @abstractmethod
    def _failure(self, error: Exception) -> StorageFailed | None:
        """What the store's own error means for the office (a full disk, a lost server);
        None for an error that is not the store's (a defect, reported as one)."""

    @abstractmethod
    def _roll_back(self) -> None:
        """After a failed commit: end its transaction, if the store's way of writing a batch
        has not already (on the writer thread)."""

    @abstractmethod
    def _take_up(self) -> int:
        """At :meth:`recover`: the visit records' fold back to what is committed (it ran ahead
        of the failed commit), and the log's last durable seq (on the writer thread)."""

    @abstractmethod
    def _open_accounts(self) -> Accounts:
        """The account calls on the writer's connection (only called on the writer thread)."""

    # ------------------------------------------------------------- the log

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def append(self, events: list[Event]) -> tuple[list[int], asyncio.Future[None]]:
        assert self._loop is not None, "store not started"
        seqs = list(range(self._last_seq + 1, self._last_seq + 1 + len(events)))
        self._last_seq += len(events)
        return seqs, self._hand_over(seqs, events)

    async def recover(self) -> int:
        def reset() -> int:
            self._failed = None
            return self._take_up()

        # A job runs after every write queued before it, so all of those have failed by now.
        self._last_seq = await self._call(reset)
        return self._last_seq

    # ------------------------------------------------------------ accounts
    # The serving face of :class:`Accounts`: the same calls, in order with the writes.

    async def add_staff(self, name: str, role: str, password_hash: str) -> int:
        return await self._call(lambda: self._open_accounts().add_staff(name, role, password_hash))

    async def staff_password(self, name: str) -> tuple[Account, str] | None:
        return await self._call(lambda: self._open_accounts().staff_password(name))

    async def add_device(self, name: str, role: str, token_hash: str) -> int:
        return await self._call(lambda: self._open_accounts().add_device(name, role, token_hash))

    async def devices(self) -> list[Device]:
        return await self._call(lambda: self._open_accounts().devices())

    async def remove_device(self, device_id: int) -> str | None:
        return await self._call(lambda: self._open_accounts().remove_device(device_id))

    async def add_session(self, token_hash: str, staff_id: int) -> None:
        await self._call(lambda: self._open_accounts().add_session(token_hash, staff_id))

    async def remove_session(self, token_hash: str) -> None:
        await self._call(lambda: self._open_accounts().remove_session(token_hash))

    async def remove_sessions_of(self, staff_id: int) -> int:
        return await self._call(lambda: self._open_accounts().remove_sessions_of(staff_id))

    async def account_for_token(self, token_hash: str) -> Account | None:
        return await self._call(lambda: self._open_accounts().account_for_token(token_hash))

    # ------------------------------------------------------ the writer thread

    def _start_writer(self, name: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def _stop_writer(self) -> None:
        """Let the writer finish what was handed over, then end it."""
        if self._thread is not None:
            self._send_outbox()
            self._queue.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def _hand_over(self, seqs: list[int], events: list[Event]) -> asyncio.Future[None]:
        """Queue a write for the end of this turn of the event loop (``_send_outbox``)."""
        assert self._loop is not None and self._thread is not None, "store not running"
        future: asyncio.Future[None] = self._loop.create_future()
        if not self._outbox:
            self._loop.call_soon(self._send_outbox)
        self._outbox.append(Write(seqs, events, future))
        return future

    def _send_outbox(self) -> None:
        """Hand the writer thread this turn's writes together. One at a time, the first woke
        the thread while the loop was still deciding the rest, and the thread, wanting the
        interpreter lock for each, kept the loop waiting (32 clients side by side: 0.82–0.86×
        the bare insert one at a time, 0.90–0.93× by turn). Anything else for the thread
        (a read, a stop) sends the outbox first, so it stays in order with the writes."""
        writes, self._outbox = self._outbox, []
        for write in writes:
            self._queue.put(write)

    async def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the writer thread, in order with the writes."""
        assert self._loop is not None, "store not started"
        future: asyncio.Future[T] = self._loop.create_future()
        self._send_outbox()
        self._queue.put(Job(fn, future))
        return await future

    def _run(self) -> None:
        assert self._loop is not None
        loop = self._loop
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, Job):
                self._run_job(loop, item)
                continue
            batch = [item]
            stop = False
            while len(batch) < BATCH_LIMIT:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                if isinstance(more, Job):
                    self._commit(loop, batch)
                    batch = []
                    self._run_job(loop, more)
                    continue
                batch.append(more)
            if batch:
                self._commit(loop, batch)
            if stop:
                return

    def _commit(self, loop: asyncio.AbstractEventLoop, batch: list[Write]) -> None:
        """Commit ``batch`` and settle its futures. A failure of any kind, the disk's or a
        defect's, fails this batch and every later write until ``recover``: a writer thread
        that died instead would leave every caller waiting for ever, and writes decided on top
        of a failed one must not reach the log without it."""
        futures = [write.future for write in batch]
        if self._failed is not None:  # decided on top of a commit that failed: refused too
            self._settle(loop, futures, None, self._failed)
            return
        try:
            self._write_batch(batch)
        except Exception as exc:
            failed = self._failure(exc)
            if failed is None:
                log.exception("a commit failed on an unexpected error")
                failed = StorageFailed(f"{type(exc).__name__}: {exc}", full=False)
            with contextlib.suppress(Exception):  # recover() or the next start takes up again
                self._roll_back()
            self._failed = self.trouble = failed
            self._settle(loop, futures, None, failed)
            return
        self.trouble = None
        self._settle(loop, futures, None, None)

    @staticmethod
    def _settle(
        loop: asyncio.AbstractEventLoop,
        futures: list[asyncio.Future[Any]],
        result: Any,
        error: BaseException | None,
    ) -> None:
        """Settle futures from the writer thread with one wake-up of the event loop, in order
        (a whole commit's writers at once)."""

        def settle() -> None:
            for future in futures:
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

        loop.call_soon_threadsafe(settle)

    def _run_job(self, loop: asyncio.AbstractEventLoop, job: Job) -> None:
        try:
            result = job.fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            self._settle(loop, [job.future], None, exc)
        else:
            self._settle(loop, [job.future], result, None)


# ------------------------------------------------------------ visit records


class RecordRows(Protocol):
    """A store's writer of the visit records (``server.reports.records`` rows) on its
    connection."""

    fold: RecordFold

    def up_to_date(self, last_seq: int) -> bool: ...

    def restore(self) -> None: ...

    def rebuild(self, last_seq: int) -> None: ...

    def write(self, changes: Changes, seq: int) -> None: ...


def caught_up(records: R, last_seq: int) -> R:
    """The visit records' writer, caught up with the log: built from it when they were never
    built, lag behind it, or were built with another layout of counters."""
    if records.up_to_date(last_seq):
        records.restore()
    else:
        records.rebuild(last_seq)
    return records


def purged_ids(events: Iterable[Event]) -> list[list[int]]:
    """The tickets each purge among ``events`` erases: a store scrubs their private fields in
    the same transaction as the purge (and drops the snapshots, which may hold them)."""
    return [list(e.data.get("ids", ())) for e in events if e.kind == "tickets.purged"]


def write_records(records: RecordRows | None, batch: list[Write]) -> None:
    """The records of a batch of writes, in the batch's own transaction."""
    assert records is not None, "store not open"
    changes = records.fold.fold(event for write in batch for event in write.events)
    seqs = [write.seqs[-1] for write in batch if write.seqs]
    if seqs:
        records.write(changes, seqs[-1])
