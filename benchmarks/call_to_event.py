"""Call-next to ``ticket.called`` received, at every connected display.

The visitors check in before the displays connect, so a Lobby round is only: a clerk presses
"call next" (the clock starts as the request is written), every display reads ``ticket.called``
(each socket's delay is one sample), then the clerk marks a no-show and the round ends once every
display has read that too. A baseline round broadcasts a copy of the very ``ticket.called``
message Lobby sent, so both move the same bytes to as many sockets. Lobby and baseline rounds
alternate, with both sets of displays connected throughout, so noise on the machine hits both.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from benchmarks.displays import Displays, open_display
from benchmarks.figures import Phase
from benchmarks.raw_http import HttpConnection
from benchmarks.servers import CpuMeter, LobbyAccounts

COUNTER = "w1"


def watch_receivers(meter: CpuMeter, displays: Displays) -> None:
    for number, pid in enumerate(displays.pids, start=1):
        meter.watched[f"display receiver {number}"] = (pid, None)


def record_latencies(
    phase: Phase, times: list[list[float]], sent_at: list[float], warmup: int = 0
) -> None:
    """Receive times are per socket, in order; after ``warmup`` the i-th is the i-th send's."""
    slowest = [0.0] * len(sent_at)
    for socket_times in times:
        for round_, received in enumerate(socket_times[warmup : warmup + len(sent_at)]):
            delay = received - sent_at[round_]
            phase.latencies.append(delay)
            slowest[round_] = max(slowest[round_], delay)
    phase.expected = len(times) * len(sent_at)
    phase.slowest_per_round = slowest
    phase.completed = len(sent_at)


@dataclass
class LobbyDesk:
    """A signed-in clerk at counter w1 of a Lobby server, with visitors already waiting."""

    http: HttpConnection
    clerk: str
    displays: Displays
    sent_at: list[float]

    @classmethod
    async def open(
        cls, port: int, accounts: LobbyAccounts, clients: int, visitors: int, processes: int
    ) -> LobbyDesk:
        http = await HttpConnection.open(port)
        login = json.dumps({"name": accounts.clerk, "password": accounts.clerk_password})
        status, body = await http.request("POST", "/api/login", login.encode())
        if status != 200:
            raise RuntimeError(f"clerk sign-in failed: HTTP {status} {body[:200]!r}")
        clerk = json.loads(body)["token"]
        await http.request("POST", f"/api/counters/{COUNTER}/open", b"{}", clerk)
        for number in range(visitors):
            visitor = {"service": "permits", "client_request_id": f"call-{clients}-{number:05d}"}
            status, body = await http.request(
                "POST", "/api/tickets", json.dumps(visitor).encode(), accounts.kiosk
            )
            if status != 201:
                raise RuntimeError(f"check-in failed: HTTP {status} {body[:200]!r}")
        displays = Displays(port, "/ws", accounts.display, clients, processes, True)
        return cls(http, clerk, displays, [])

    async def call(self) -> tuple[int, float, str | None]:
        """Call next; returns (ticket id, seconds until answered, error)."""
        sent = time.perf_counter()
        status, body = await self.http.request(
            "POST", f"/api/counters/{COUNTER}/call-next", b"{}", self.clerk
        )
        answered = time.perf_counter() - sent
        if status != 200:
            return 0, answered, f"call-next HTTP {status}"
        self.sent_at.append(sent)
        return json.loads(body)["ticket"]["id"], answered, None

    async def no_show(self, ticket: int) -> str | None:
        status, _ = await self.http.request(
            "POST", f"/api/tickets/{ticket}/no-show", b"", self.clerk
        )
        return None if status == 200 else f"no-show HTTP {status}"


async def sample_call_message(port: int, accounts: LobbyAccounts, desk: LobbyDesk) -> bytes:
    """One warm-up call watched by an extra display: the ``ticket.called`` message as sent."""
    probe = await open_display(port, "/ws", accounts.display, True)
    seen: list[bytes] = []
    probe.on_called = seen.append
    ticket, _, error = await desk.call()
    if error:
        raise RuntimeError(error)
    desk.sent_at.clear()
    while not seen:
        await asyncio.sleep(0.005)
    await desk.no_show(ticket)
    if probe.transport is not None:
        probe.transport.close()
    return seen[0]


async def interleaved_calls(
    lobby_phase: Phase,
    bare_phase: Phase,
    lobby_port: int,
    accounts: LobbyAccounts,
    bare_port: int,
    meters: tuple[CpuMeter, CpuMeter],
    rounds: int,
    processes: int,
) -> None:
    clients = lobby_phase.clients
    desk = await LobbyDesk.open(lobby_port, accounts, clients, rounds + 1, processes)
    bare_http = await HttpConnection.open(bare_port)
    bare = Displays(bare_port, "/ws", None, clients, processes, False)
    lobby_meter, bare_meter = meters
    watch_receivers(lobby_meter, desk.displays)
    watch_receivers(bare_meter, bare)
    bare_sent: list[float] = []
    try:
        await desk.displays.wait_ready()
        await bare.wait_ready()
        message = await sample_call_message(lobby_port, accounts, desk)
        await desk.displays.wait_events(clients * 2)  # the warm-up call and its no-show
        for round_ in range(1, rounds + 1):
            lobby_meter.start()
            ticket, answered, error = await desk.call()
            lobby_phase.answers.append(answered)
            if error:
                lobby_phase.errors[error] += 1
                lobby_meter.stop()
                break
            if not await desk.displays.wait_called(clients * (round_ + 1)):
                lobby_phase.errors["ticket.called not received within 5 s"] += 1
            lobby_meter.stop()
            error = await desk.no_show(ticket)
            if error:
                lobby_phase.errors[error] += 1
            await desk.displays.wait_events(clients * 2 * (round_ + 1))

            bare_meter.start()
            sent = time.perf_counter()
            status, _ = await bare_http.request("POST", "/broadcast", message)
            bare_phase.answers.append(time.perf_counter() - sent)
            if status != 200:
                bare_phase.errors[f"broadcast HTTP {status}"] += 1
                bare_meter.stop()
                break
            bare_sent.append(sent)
            if not await bare.wait_called(clients * round_):
                bare_phase.errors["message not received within 5 s"] += 1
            bare_meter.stop()
        lobby_phase.message_bytes = bare_phase.message_bytes = len(message)
    finally:
        lobby_times, _ = desk.displays.finish()
        bare_times, _ = bare.finish()
        await desk.http.close()
        await bare_http.close()
    record_latencies(lobby_phase, lobby_times, desk.sent_at, warmup=1)
    record_latencies(bare_phase, bare_times, bare_sent)
    lobby_phase.cpu, bare_phase.cpu = lobby_meter.shares, bare_meter.shares
    lobby_phase.seconds, bare_phase.seconds = lobby_meter.wall, bare_meter.wall
