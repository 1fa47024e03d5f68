"""Emergency mode: from the start command to the last of 200 displays saying it shows it.

Each display is a device of its own (its own token, so its own screen in the emergency's list),
connected to ``/ws`` like the lobby page. When a patch carries ``office.emergency`` it POSTs
``/api/emergency/ack`` at once, as the page does; the figure is the moment the last of those
answers came back (each answer means the acknowledgement is on disk), counted from the moment
the start was sent. The emergency is started and ended through the server's local control
token (``server/control.py``), as ``lobby emergency start`` does, minus the process start.

The baseline, in the same run and on the same 200 sockets, rounds alternating: a kiosk check-in,
and the moment the last display received the patch it caused (an ordinary patch, no answer
asked). The difference is what the acknowledgements cost: 200 HTTP requests and their durable
commits on top of one broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from benchmarks.figures import note
from benchmarks.servers import ServerProcess, start_lobby
from server.app import store_for
from server.auth import hash_token
from server.control import control_path

DISPLAYS = 200
ROUNDS = 12


@dataclass
class Rounds:
    """Seconds per round: to the last acknowledgement, to the last display seeing the
    emergency, and (baseline) to the last display receiving an ordinary patch."""

    acked: list[float] = field(default_factory=list)
    seen: list[float] = field(default_factory=list)
    patch: list[float] = field(default_factory=list)
    errors: int = 0


class Display:
    """One lobby display: its stream, and its acknowledgement of each emergency it is shown."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base = http, base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.seen: dict[int, float] = {}
        self.acked: dict[int, float] = {}
        self.patches: list[float] = []
        """When each check-in's patch arrived, in order."""
        self.errors = 0
        self.ready = asyncio.Event()
        self.sending: set[asyncio.Future[None]] = set()

    async def follow(self) -> None:
        async with self.http.ws_connect(self.base + "/ws", headers=self.headers) as ws:
            async for message in ws:
                now = time.perf_counter()
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                if not self.ready.is_set():
                    self.ready.set()
                    continue
                if '"emergency":{' in message.data:
                    emergency = json.loads(message.data)["office"]["emergency"]["id"]
                    if emergency not in self.seen:
                        self.seen[emergency] = now
                        sent = asyncio.ensure_future(self.acknowledge(emergency))
                        self.sending.add(sent)
                        sent.add_done_callback(self.sending.discard)
                elif '"ticket.checked_in"' in message.data:
                    self.patches.append(now)

    async def acknowledge(self, emergency: int) -> None:
        async with self.http.post(
            self.base + "/api/emergency/ack", json={"emergency": emergency}, headers=self.headers
        ) as answer:
            await answer.read()
            if answer.status == 200:
                self.acked[emergency] = time.perf_counter()
            else:
                self.errors += 1


def add_displays(db: Path, count: int) -> list[str]:
    """``count`` display devices, each with its own token, straight into the database."""
    tokens = [f"bench-display-token-{i:04d}" for i in range(count)]
    with store_for(db).offline() as accounts:
        for i, token in enumerate(tokens):
            accounts.add_device(f"lobby-{i:04d}", "display", hash_token(token))
    return tokens


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the displays did not all answer in time")
        await asyncio.sleep(0.001)


async def measure(server: ServerProcess, db: Path, kiosk: str, tokens: list[str]) -> Rounds:
    base = f"http://127.0.0.1:{server.port}"
    control = json.loads(control_path(db).read_text())["token"]
    commander = {"Authorization": f"Bearer {control}"}
    rounds = Rounds()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        displays = [Display(http, base, token) for token in tokens]
        followers = [asyncio.ensure_future(d.follow()) for d in displays]
        try:
            await asyncio.wait_for(asyncio.gather(*(d.ready.wait() for d in displays)), 60)
            for number in range(ROUNDS):
                began = time.perf_counter()
                async with http.post(
                    base + "/api/emergency", json={"kind": "drill"}, headers=commander
                ) as answer:
                    emergency = (await answer.json())["id"]
                await until(lambda e=emergency: all(e in d.acked for d in displays))
                rounds.acked.append(max(d.acked[emergency] for d in displays) - began)
                rounds.seen.append(max(d.seen[emergency] for d in displays) - began)
                async with http.post(base + "/api/emergency/end", headers=commander) as ended:
                    await ended.read()
                await asyncio.sleep(0.2)
                began = time.perf_counter()
                async with http.post(
                    base + "/api/tickets",
                    json={"service": "billing", "client_request_id": f"bench-patch-{number:04d}"},
                    headers={"Authorization": f"Bearer {kiosk}"},
                ) as answer:
                    await answer.read()
                await until(lambda n=number: all(len(d.patches) > n for d in displays))
                rounds.patch.append(max(d.patches[number] for d in displays) - began)
                await asyncio.sleep(0.2)
        finally:
            for task in followers:
                task.cancel()
            for task in followers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        rounds.errors = sum(d.errors for d in displays)
    return rounds


async def emergency_rounds(workdir: Path) -> Rounds:
    """A fresh server with ``DISPLAYS`` display devices, measured for ``ROUNDS`` rounds."""
    db = workdir / "emergency.db"
    tokens = add_displays(db, DISPLAYS)
    server, accounts = start_lobby(workdir, "emergency")
    try:
        note(f"emergency: start to the last of {DISPLAYS} acknowledgements, {ROUNDS} rounds")
        return await measure(server, db, accounts.kiosk, tokens)
    finally:
        server.stop()


def print_emergency(rounds: Rounds, section: int = 8) -> None:
    def ms(values: list[float]) -> str:
        if not values:
            return "–"
        return f"{statistics.median(values) * 1000:8.1f} {max(values) * 1000:8.1f}"

    print(
        f"\n{section}. Emergency mode, {DISPLAYS} displays on WebSockets, {ROUNDS} rounds"
        " alternating with the baseline (ms: median and worst round)"
    )
    print(f"   {'':<58}{'median':>8} {'max':>8}")
    print(f"   {'start -> last display acknowledged (its HTTP answer back)':<58}{ms(rounds.acked)}")
    print(f"   {'start -> last display saw the emergency':<58}{ms(rounds.seen)}")
    print(f"   {'baseline: check-in -> last display got its patch':<58}{ms(rounds.patch)}")
    print(f"   acknowledgements refused: {rounds.errors}")


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lobby-bench-") as tmp:
        rounds = asyncio.run(emergency_rounds(Path(tmp)))
    print_emergency(rounds, section=1)


if __name__ == "__main__":
    main()
