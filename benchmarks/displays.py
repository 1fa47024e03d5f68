"""Many lobby displays on WebSockets, spread over a few receiver processes.

Each receiver process holds its share of the sockets as bare asyncio protocols (no library: the
handshake, unmasked server frames, and a pong for the server's heartbeat pings) and notes
``time.perf_counter()`` the moment the bytes of a ``ticket.called`` message arrive. On Linux
that clock is CLOCK_MONOTONIC, shared by every process, so the controller can subtract the
moment it sent "call next". Splitting the sockets over processes keeps one Python loop from
queueing 1,000 reads behind each other and counting its own delay as the server's.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import SynchronizedArray
from multiprocessing.synchronize import Event as EventFlag
from typing import Any

from benchmarks.raw_http import HOST

CALLED = b'"cause":["ticket.called"]'
EVENT = b'"type":"patch"'
TEXT, PING = 1, 9


class DisplaySocket(asyncio.Protocol):
    """One display's WebSocket as a bare protocol: the loop hands it bytes, no task per socket.

    The receive time is taken in ``data_received``, before any parsing, for every complete
    ``ticket.called`` message the chunk holds.
    """

    def __init__(self, request: bytes, expect_snapshot: bool) -> None:
        self.request = request
        self.expect_snapshot = expect_snapshot
        self.buffer = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.called_at: list[float] = []
        self.on_called: Callable[[bytes], None] = lambda payload: None
        self.on_event: Callable[[], None] = lambda: None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("display socket closed during handshake"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                return
            self.upgraded = True
            if not self.expect_snapshot:
                self.opened.set_result(None)
        self._frames(now)

    def _frames(self, now: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode == PING:
                self._pong(payload)
            elif opcode == TEXT:
                self._text(payload, now)

    def _text(self, payload: bytes, now: float) -> None:
        if not self.opened.done():
            self.opened.set_result(None)  # the snapshot every Lobby stream starts with
            return
        if CALLED in payload:
            self.called_at.append(now)
            self.on_called(payload)
        if EVENT in payload:
            self.on_event()

    def _pong(self, payload: bytes) -> None:
        assert self.transport is not None
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes((0x8A, 0x80 | len(payload))) + mask + masked)


async def open_display(port: int, path: str, token: str | None, snapshot: bool) -> DisplaySocket:
    key = base64.b64encode(os.urandom(16)).decode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{auth}\r\n"
    ).encode("ascii")
    loop = asyncio.get_running_loop()
    _, display = await loop.create_connection(lambda: DisplaySocket(request, snapshot), HOST, port)
    await display.opened
    return display


@dataclass(frozen=True)
class ReceiverJob:
    port: int
    path: str
    token: str | None
    count: int
    slot: int
    expect_snapshot: bool


def receiver_main(
    job: ReceiverJob,
    counters: tuple[SynchronizedArray[Any], SynchronizedArray[Any], SynchronizedArray[Any]],
    stop: EventFlag,
    results: Connection,
) -> None:
    """Entry point of one receiver process; sends back (per-socket call times, one sample)."""
    times, sample = asyncio.run(_receive(job, counters, stop))
    results.send((times, sample))
    results.close()


async def _receive(
    job: ReceiverJob,
    counters: tuple[SynchronizedArray[Any], SynchronizedArray[Any], SynchronizedArray[Any]],
    stop: EventFlag,
) -> tuple[list[list[float]], bytes]:
    ready, called, events = counters
    slot = job.slot
    gate = asyncio.Semaphore(50)
    samples: list[bytes] = []

    def count_called(payload: bytes) -> None:
        called[slot] += 1
        if not samples:
            samples.append(payload)

    def count_event() -> None:
        events[slot] += 1

    async def connect() -> DisplaySocket:
        async with gate:
            display = await open_display(job.port, job.path, job.token, job.expect_snapshot)
        display.on_called, display.on_event = count_called, count_event
        ready[slot] += 1
        return display

    displays = await asyncio.gather(*(connect() for _ in range(job.count)))
    while not stop.is_set():
        await asyncio.sleep(0.05)
    for display in displays:
        if display.transport is not None:
            display.transport.abort()
    return [d.called_at for d in displays], (samples[0] if samples else b"")


class Displays:
    """``clients`` display sockets over ``processes`` receiver processes."""

    def __init__(
        self,
        port: int,
        path: str,
        token: str | None,
        clients: int,
        processes: int,
        expect_snapshot: bool,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.clients = clients
        self.ready = context.Array("q", processes, lock=False)
        self.called = context.Array("q", processes, lock=False)
        self.events = context.Array("q", processes, lock=False)
        self.stop_flag = context.Event()
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        shares = [clients // processes + (i < clients % processes) for i in range(processes)]
        for slot, count in enumerate(shares):
            receive, send = context.Pipe(duplex=False)
            job = ReceiverJob(port, path, token, count, slot, expect_snapshot)
            process = context.Process(
                target=receiver_main,
                args=(job, (self.ready, self.called, self.events), self.stop_flag, send),
                daemon=True,
            )
            process.start()
            send.close()
            self.pipes.append(receive)
            self.processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    async def _until(self, counts: Any, target: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while sum(counts) < target:
            if time.perf_counter() > deadline:
                return False
            if any(not p.is_alive() for p in self.processes):
                raise RuntimeError("a display receiver process died")
            await asyncio.sleep(0.001)
        return True

    async def wait_ready(self, timeout: float = 60.0) -> None:
        if not await self._until(self.ready, self.clients, timeout):
            raise RuntimeError(f"only {sum(self.ready)} of {self.clients} displays connected")

    async def wait_called(self, total: int, timeout: float = 5.0) -> bool:
        return await self._until(self.called, total, timeout)

    async def wait_events(self, total: int, timeout: float = 5.0) -> bool:
        return await self._until(self.events, total, timeout)

    def finish(self) -> tuple[list[list[float]], bytes]:
        """Stop the receivers; every socket's call times and one ``ticket.called`` message."""
        self.stop_flag.set()
        times: list[list[float]] = []
        sample = b""
        for pipe in self.pipes:
            try:
                part, part_sample = pipe.recv() if pipe.poll(30) else ([], b"")
            except EOFError:  # the receiver died; its sockets count as missing
                continue
            times.extend(part)
            sample = sample or part_sample
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        return times, sample
