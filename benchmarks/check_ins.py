"""Durable check-ins per second over HTTP, with latency, from ``clients`` kept-alive connections.

Each simulated kiosk sends ``POST /api/tickets`` and waits for the answer before sending the
next, so throughput at 32 clients shows how well the server overlaps requests (the Lobby store
commits whatever queued up during the previous fsync in one transaction). The same loop drives
the bare baseline, which has the same endpoint path and body. Lobby and baseline take turns in
short slices, so a noisy neighbour on the machine slows both alike.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from benchmarks.figures import Phase
from benchmarks.raw_http import HttpConnection
from benchmarks.servers import CpuMeter

SERVICES = ("permits", "billing", "records")


@dataclass
class Kiosks:
    """``phase.clients`` kept-alive connections to one server, and the phase they fill in."""

    phase: Phase
    port: int
    token: str | None
    tag: str
    connections: list[HttpConnection] = field(default_factory=list)
    sent: int = 0

    async def open(self) -> None:
        self.connections = [await HttpConnection.open(self.port) for _ in range(self.phase.clients)]

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()

    def body(self, kiosk: int) -> bytes:
        self.sent += 1
        visitor = {
            "service": SERVICES[self.sent % len(SERVICES)],
            "client_request_id": f"{self.tag}-{kiosk}-{self.sent}",
        }
        return json.dumps(visitor, separators=(",", ":")).encode()

    async def run(self, seconds: float, measured: bool) -> None:
        """Check visitors in for ``seconds``; count them only if ``measured``."""
        phase = self.phase
        end = time.perf_counter() + seconds

        async def kiosk(number: int, connection: HttpConnection) -> None:
            while time.perf_counter() < end:
                body = self.body(number)
                started = time.perf_counter()
                status, _ = await connection.request("POST", "/api/tickets", body, self.token)
                answered = time.perf_counter()
                if status not in (200, 201):
                    phase.errors[f"HTTP {status}"] += 1
                elif measured:
                    phase.latencies.append(answered - started)
                    phase.completed += 1

        began = time.perf_counter()
        await asyncio.gather(*(kiosk(i, c) for i, c in enumerate(self.connections)))
        if measured:
            phase.seconds += time.perf_counter() - began


async def alternate_check_ins(
    turns: list[tuple[Kiosks, CpuMeter]], seconds: float, slices: int, warmup: float
) -> None:
    """Measure each system in turn, ``slices`` times: two systems measured side by side meet
    the same moments of a noisy machine, so their ratio holds where their figures drift."""
    for kiosks, _ in turns:
        await kiosks.open()
    try:
        for kiosks, _ in turns:
            await kiosks.run(warmup, measured=False)
        for _ in range(slices):
            for kiosks, meter in turns:
                meter.start()
                await kiosks.run(seconds / slices, measured=True)
                meter.stop()
        for kiosks, meter in turns:
            kiosks.phase.cpu = meter.shares
            kiosks.phase.waiting_at_end = kiosks.sent
    finally:
        for kiosks, _ in turns:
            await kiosks.close()
