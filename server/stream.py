"""The live stream: one WebSocket per client, every message numbered with the log's ``seq``.

Each published patch is encoded once per audience (public, staff, supervisor; see
:mod:`server.publisher`). One broadcaster task writes it straight to every client whose
connection keeps up (a write that does not wait); a client with a backlog or a full send buffer
gets it through its own queue and sender task instead, so broadcasting never waits on a slow
client. One that falls too far behind is disconnected; when it reconnects it gets a fresh
snapshot, with the calls it missed while they are still fresh enough to announce.

A visitor's status page is a client of its own kind: it follows one visit, and is sent that
visit's status whenever a published patch moved it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, web

from server.auth import Principal
from server.publisher import Outgoing

log = logging.getLogger("lobby.stream")

CLIENT_QUEUE_LIMIT = 500


@dataclass(eq=False)
class Client:
    ws: web.WebSocketResponse
    audience: str
    after_seq: int
    """The seq of the snapshot it was sent: older patches are already in it."""
    transport: asyncio.BaseTransport | None = None
    queue: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(CLIENT_QUEUE_LIMIT)
    )
    sending: bool = True  # its sender task is busy (first with the snapshot or missed events)
    ticket: int | None = None
    """A visitor's status page follows this one visit, not an audience's state."""
    who: Principal | None = None
    """The device or person at the other end (``lobby doctor`` lists the screens connected);
    None for a visitor's status page."""

    def keeps_up(self) -> bool:
        """Nothing queued and room in the socket buffer: a write now will not wait."""
        if self.sending or not self.queue.empty() or self.ws.closed:
            return False
        transport = self.transport
        if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
            return False
        return transport.get_write_buffer_size() < DIRECT_WRITE_LIMIT


DIRECT_WRITE_LIMIT = 32 * 1024


class Hub:
    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self._pending: deque[Outgoing] = deque()
        self._wakeup = asyncio.Event()
        self._broadcaster: asyncio.Task[None] | None = None

    def publish(self, item: Outgoing) -> None:
        """Called in seq order once the patch's events are durable."""
        self._pending.append(item)
        if self._broadcaster is None or self._broadcaster.done():
            self._broadcaster = asyncio.get_running_loop().create_task(self._broadcast())
        self._wakeup.set()

    async def _broadcast(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                item = self._pending.popleft()
                for client in list(self.clients):
                    if client.ticket is None:
                        message = item.messages.get(client.audience)
                    else:
                        message = item.visits.get(client.ticket)
                    if message is None or item.seq < client.after_seq:
                        continue
                    if item.seq == client.after_seq and not item.tick:
                        continue  # already in the client's snapshot
                    if client.keeps_up():
                        try:
                            await client.ws.send_str(message)
                        except (ConnectionError, RuntimeError):
                            self.clients.discard(client)
                        continue
                    self._enqueue(client, message)

    def _enqueue(self, client: Client, message: str) -> None:
        try:
            client.queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("stream client too slow; disconnecting it so it resyncs")
            self._drop(client)

    def watched_tickets(self) -> set[int]:
        """The visits whose status pages are connected now."""
        return {c.ticket for c in self.clients if c.ticket is not None}

    async def serve(self, client: Client, first: list[str]) -> None:
        """Send ``first`` then everything published, until the socket closes."""
        self.clients.add(client)
        sender = asyncio.create_task(self._send(client, first))
        try:
            async for _ in client.ws:  # clients send nothing we act on; this waits for close
                pass
        finally:
            self.clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _send(self, client: Client, first: list[str]) -> None:
        try:
            for message in first:
                await client.ws.send_str(message)
            while True:
                client.sending = not client.queue.empty()
                queued = await client.queue.get()
                client.sending = True
                if queued is None:
                    await client.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"resync")
                    return
                await client.ws.send_str(queued)
        except (ConnectionError, RuntimeError):
            return

    def _drop(self, client: Client) -> None:
        self.clients.discard(client)
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(None)

    async def close_all(self) -> None:
        if self._broadcaster is not None:
            self._broadcaster.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._broadcaster
        for client in list(self.clients):
            with contextlib.suppress(Exception):
                await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        self.clients.clear()
