"""Check-ins and staff snapshots in a busy office, next to an empty office in the same run.

The empty office is the one the check-in benchmark measures: nobody has been served yet, so
every estimate falls back to the configured service times. A real office at mid-afternoon is
different: 24 counters (``busy_office.toml``) have each served 30 visitors, each is serving one
more, and 2,000 visitors have checked in today, so estimates come from recent completions and
staff snapshots list every open visit. The busy office is built through the real API of the real
server process (kiosks check visitors in; a supervisor opens every counter and calls, starts and
completes visits at all of them at once), exactly as its log would grow in an office.

Measured: check-ins per second at 32 clients in both offices, in alternating slices so a noisy
neighbour slows both alike, and ``GET /api/state`` as a clerk and as a supervisor on the
2,000-visit day (the time from sending the request to having read the whole answer).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.check_ins import SERVICES, Kiosks, alternate_check_ins
from benchmarks.figures import Phase, note, percentile
from benchmarks.raw_http import HttpConnection
from benchmarks.servers import CpuMeter, LobbyAccounts, ServerProcess, _lobby, start_lobby

BUSY_CONFIG = Path(__file__).with_name("busy_office.toml")
COUNTERS = 24
SERVED_EACH = 30
VISITS = 2000
FILL_CLIENTS = 32
CLIENTS = 32
SECONDS = 8.0
SLICES = 8
WARMUP_SECONDS = 0.5
SNAPSHOT_ROUNDS = 15
SUPERVISOR = "bench-supervisor"
SUPERVISOR_PASSWORD = "bench-supervisor-password"

TARGET_RATIO = 0.8
TARGET_SNAPSHOT_MS = 100.0


@dataclass
class Snapshots:
    """``GET /api/state`` round trips for one role, in seconds, and what the answer held."""

    role: str
    seconds: list[float] = field(default_factory=list)
    tickets: int = 0
    size: int = 0

    def ms(self, q: float) -> float:
        return percentile(self.seconds, q) * 1000


@dataclass
class BusyOffice:
    empty: Phase
    busy: Phase
    snapshots: list[Snapshots]
    fill_seconds: float = 0.0


async def expect(
    connection: HttpConnection, method: str, path: str, body: bytes, token: str
) -> bytes:
    status, answer = await connection.request(method, path, body, token)
    if status not in (200, 201):
        raise RuntimeError(f"{method} {path}: HTTP {status} {answer[:200]!r}")
    return answer


async def sign_in(connection: HttpConnection, name: str, password: str) -> str:
    login = json.dumps({"name": name, "password": password}).encode()
    status, body = await connection.request("POST", "/api/login", login)
    if status != 200:
        raise RuntimeError(f"{name} could not sign in: HTTP {status} {body[:200]!r}")
    return str(json.loads(body)["token"])


async def check_in_visitors(port: int, kiosk: str, visits: int) -> None:
    connections = [await HttpConnection.open(port) for _ in range(FILL_CLIENTS)]
    left = visits

    async def kiosk_loop(number: int, connection: HttpConnection) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            visitor = {
                "service": SERVICES[left % len(SERVICES)],
                "client_request_id": f"fill-{number}-{left}",
            }
            await expect(connection, "POST", "/api/tickets", json.dumps(visitor).encode(), kiosk)

    try:
        await asyncio.gather(*(kiosk_loop(i, c) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()


async def serve_visitors(port: int, clerk: str) -> None:
    """One clerk signs in to every counter (as one may at opening, before colleagues arrive);
    each counter serves ``SERVED_EACH`` visitors, then starts on one more."""
    connections = [await HttpConnection.open(port) for _ in range(COUNTERS)]

    async def counter_loop(counter: str, connection: HttpConnection) -> None:
        await expect(connection, "POST", f"/api/counters/{counter}/open", b"{}", clerk)
        for served in range(SERVED_EACH + 1):
            call = f"/api/counters/{counter}/call-next"
            answer = await expect(connection, "POST", call, b"{}", clerk)
            ticket = json.loads(answer)["ticket"]["id"]
            await expect(connection, "POST", f"/api/tickets/{ticket}/start", b"", clerk)
            if served < SERVED_EACH:
                done = f"/api/tickets/{ticket}/complete"
                await expect(connection, "POST", done, b'{"needs_met":true}', clerk)

    try:
        await asyncio.gather(*(counter_loop(f"w{i + 1}", c) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()


async def fill(port: int, accounts: LobbyAccounts) -> None:
    """The day so far: ``VISITS`` check-ins, then ``SERVED_EACH`` visits done at every counter."""
    await check_in_visitors(port, accounts.kiosk, VISITS)
    connection = await HttpConnection.open(port)
    try:
        clerk = await sign_in(connection, accounts.clerk, accounts.clerk_password)
    finally:
        await connection.close()
    await serve_visitors(port, clerk)


async def staff_snapshots(port: int, tokens: dict[str, str]) -> list[Snapshots]:
    """``GET /api/state`` for each role in turn; the first answer of each is not counted."""
    connections = {role: await HttpConnection.open(port) for role in tokens}
    results = {role: Snapshots(role) for role in tokens}
    try:
        for round_ in range(SNAPSHOT_ROUNDS + 1):
            for role, token in tokens.items():
                started = time.perf_counter()
                answer = await expect(connections[role], "GET", "/api/state", b"", token)
                elapsed = time.perf_counter() - started
                if round_ == 0:
                    results[role].tickets = len(json.loads(answer).get("tickets", []))
                    results[role].size = len(answer)
                else:
                    results[role].seconds.append(elapsed)
    finally:
        for connection in connections.values():
            await connection.close()
    return list(results.values())


def event_loop_meter(server: ServerProcess) -> CpuMeter:
    return CpuMeter({"server": (server.pid, None), "server event loop": (server.pid, server.pid)})


async def busy_office_phases(workdir: Path) -> BusyOffice:
    empty, empty_accounts = start_lobby(workdir, "empty-office")
    busy, accounts = start_lobby(workdir, "busy-office", BUSY_CONFIG)
    try:
        _lobby(
            "staff",
            "add",
            SUPERVISOR,
            "--role",
            "supervisor",
            "--db",
            str(workdir / "busy-office.db"),
            stdin=SUPERVISOR_PASSWORD,
        )
        note(
            f"busy office: {VISITS:,} check-ins, {SERVED_EACH} visits served at each of"
            f" {COUNTERS} counters, through the API"
        )
        began = time.perf_counter()
        await fill(busy.port, accounts)
        filled = time.perf_counter() - began
        connection = await HttpConnection.open(busy.port)
        try:
            tokens = {
                "clerk": await sign_in(connection, accounts.clerk, accounts.clerk_password),
                "supervisor": await sign_in(connection, SUPERVISOR, SUPERVISOR_PASSWORD),
            }
        finally:
            await connection.close()
        note(f"busy office: staff snapshots, {SNAPSHOT_ROUNDS} per role")
        snapshots = await staff_snapshots(busy.port, tokens)
        note(f"check-ins: empty office and busy office, {CLIENTS} clients, alternating")
        turns = [
            (
                Kiosks(Phase("empty office", CLIENTS), empty.port, empty_accounts.kiosk, "empty"),
                event_loop_meter(empty),
            ),
            (
                Kiosks(Phase("busy office", CLIENTS), busy.port, accounts.kiosk, "busy"),
                event_loop_meter(busy),
            ),
        ]
        await alternate_check_ins(turns, SECONDS, SLICES, WARMUP_SECONDS)
        return BusyOffice(turns[0][0].phase, turns[1][0].phase, snapshots, filled)
    finally:
        empty.stop()
        busy.stop()


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_busy_office(result: BusyOffice, section: int = 4) -> None:
    print(
        f"\n{section}. A busy office: {COUNTERS} counters that have served {SERVED_EACH} visitors"
        f" each and serve one more,\n   {VISITS:,} visits today (built through the API in"
        f" {result.fill_seconds:.0f} s); check-ins at {CLIENTS} clients, {SECONDS:.0f} s"
        f" per office\n   in {SLICES} slices alternating with the empty office"
    )
    print(
        f"   {'office':<16}{'clients':>8}{'check-ins/s':>13}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'event loop':>12}  errors"
    )
    for phase in (result.empty, result.busy):
        failed = sum(phase.errors.values())
        print(
            f"   {phase.system:<16}{phase.clients:>8}{phase.rate:>13,.0f}{phase.ms(50):>9.2f}"
            f"{phase.ms(99):>9.2f}{phase.cpu.get('server event loop', 0.0):>12.2f}  {failed}"
        )
    ratio = result.busy.rate / max(1e-9, result.empty.rate)
    print(
        f"   busy / empty office at {CLIENTS} clients: {ratio:.2f}"
        f"  (target >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})"
    )
    print(
        f"   GET /api/state on the {VISITS:,}-visit day, before those check-ins"
        f" ({SNAPSHOT_ROUNDS} each after one\n   not counted; from sending the request to"
        " having read the answer):"
    )
    for snap in result.snapshots:
        ok = snap.ms(100) < TARGET_SNAPSHOT_MS
        print(
            f"   {snap.role:<12} p50 {snap.ms(50):7.1f} ms  max {snap.ms(100):7.1f} ms"
            f"  ({snap.tickets:,} open visits, {snap.size / 1024:,.0f} KiB)"
            f"  (target < {TARGET_SNAPSHOT_MS:.0f} ms: {verdict(ok)})"
        )


def main() -> None:
    """``python -m benchmarks.busy_office``: this part of ``make bench`` alone."""
    with tempfile.TemporaryDirectory(prefix="lobby-bench-") as tmp:
        result = asyncio.run(busy_office_phases(Path(tmp)))
    print_busy_office(result, section=1)


if __name__ == "__main__":
    main()
