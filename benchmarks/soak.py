"""A busy working day, compressed: does the server stay the same size, and does every visit end?

The day is ``soak_day.toml`` (about 1,500 visitors, a lunch peak, six counters taking their
breaks) drawn with a fixed seed, played against the real server on a virtual clock
(``benchmarks.soak_server``) ``SPEED`` times faster than real time: three kiosks check the
visitors in as they arrive, six clerks open their counters, call, start and complete visits
(no-shows marked after the wait a clerk gives them, a few visitors giving up and leaving),
take their breaks and close; twenty lobby displays follow the stream all day; at closing a
supervisor closes the day.

Every half hour of office time the server process is sampled: resident memory, open file
descriptors and asyncio tasks. What must hold: descriptors and tasks at the end of the day are
what they were once everything had connected (nothing leaks per request, per call or per
reconnect), memory grows by no more than the day's visits explain, and every visit that
checked in ends in exactly one outcome (done, no-show, walked away, or closed at the end of
the day), read from the event log after the server stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import websockets
from websockets.asyncio.client import connect

from benchmarks.figures import note
from benchmarks.servers import ServerProcess, _lobby, free_port
from lobby import protocol as p
from lobby.client import ApiError, LobbyClient
from server.simulation.plan import Plan, Visitor
from server.simulation.scenario import NO_SHOW_WAIT_MIN, draw, load_scenario

SCENARIO = Path(__file__).parent / "soak_day.toml"
CONFIG = Path(__file__).parent / "soak_office.toml"
SEED = 1
SPEED = 100.0
"""Office seconds per real second: the day's nine and a half hours in under six minutes."""
KIOSKS = 3
DISPLAYS = 20
SAMPLE_EVERY_MIN = 30
GIVE_UP_SHARE = 0.03
GIVE_UP_AFTER_MIN = 25.0
IDLE_POLL_MIN = 0.5
"""How often (office time) a free counter with nobody to call looks again."""
PASSWORD = "soak-benchmark-password"
OUTCOMES = ("ticket.completed", "ticket.no_show", "ticket.walkaway")


@dataclass
class Sample:
    at: datetime
    rss_mb: float
    fds: int
    tasks: int


@dataclass
class Soak:
    visitors: int = 0
    checked_in: int = 0
    samples: list[Sample] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    ended_twice: int = 0
    never_ended: int = 0
    display_messages: int = 0
    display_drops: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    speed: float = SPEED


class Clock:
    """Office time, as the server computes it (``benchmarks.soak_server``)."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed, self.epoch = start, speed, time.time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.epoch) * self.speed)

    async def until(self, moment: datetime) -> None:
        wait = (moment - self.now()).total_seconds() / self.speed
        if wait > 0:
            await asyncio.sleep(wait)

    async def minutes(self, count: float) -> None:
        await asyncio.sleep(count * 60 / self.speed)


def sample(pid: int, port: int, at: datetime) -> Sample:
    with open(f"/proc/{pid}/status") as status:
        rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/soak/tasks", timeout=5) as answer:
        tasks = int(json.load(answer)["tasks"])
    return Sample(at, rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd")), tasks)


class Day:
    def __init__(self, plan: Plan, url: str, tokens: dict[str, str], clock: Clock) -> None:
        self.plan, self.url, self.tokens, self.clock = plan, url, tokens, clock
        self.soak = Soak(visitors=len(plan.visitors))
        self.visit_of: dict[int, Visitor] = {}
        self.closing = asyncio.Event()
        self.leaving: list[asyncio.Task[None]] = []
        rng = random.Random(SEED)
        self.gives_up = {id(v) for v in plan.visitors if rng.random() < GIVE_UP_SHARE}

    async def kiosk(self, number: int, visitors: list[Visitor]) -> None:
        async with LobbyClient(self.url, self.tokens[f"kiosk-{number}"], timeout=30) as kiosk:
            for i, visitor in enumerate(visitors):
                await self.clock.until(visitor.arrives)
                request = p.CheckInRequest(
                    service=visitor.service, client_request_id=f"soak-{number}-{i:05d}"
                )
                if visitor.needs:
                    request.needs = list(visitor.needs)
                try:
                    ticket = await kiosk.check_in(request)
                except ApiError as refused:
                    self.soak.errors[f"check-in {refused.code}: {refused.message}"] += 1
                    continue
                self.soak.checked_in += 1
                self.visit_of[ticket.id] = visitor
                if id(visitor) in self.gives_up:
                    self.leaving.append(asyncio.create_task(self.give_up(ticket.id, visitor)))

    async def give_up(self, ticket_id: int, visitor: Visitor) -> None:
        await self.clock.until(visitor.arrives + timedelta(minutes=GIVE_UP_AFTER_MIN))
        async with LobbyClient(self.url, timeout=30) as desk:
            await desk.login("soak-super", PASSWORD)
            try:
                await desk.ticket_action(ticket_id, "cancel")  # gone before being called
            except ApiError as refused:
                if refused.status != 409:  # 409: called by then, they stayed
                    self.soak.errors[f"cancel {refused.code}"] += 1

    async def counter(self, index: int) -> None:
        shift = self.plan.shifts[index]
        breaks = list(shift.breaks)
        async with LobbyClient(self.url, timeout=30) as clerk:
            await self.clock.until(shift.opens)
            await clerk.login(f"soak-clerk-{index}", PASSWORD)
            await clerk.counter_action(shift.counter, "open")
            while self.clock.now() < shift.closes:
                if breaks and self.clock.now() >= breaks[0][0]:
                    _, minutes = breaks.pop(0)
                    await clerk.counter_action(shift.counter, "break")
                    await self.clock.minutes(minutes)
                    await clerk.counter_action(shift.counter, "open")
                    continue
                try:
                    ticket = await clerk.call_next(shift.counter)
                except ApiError as refused:
                    if refused.status != 409:
                        self.soak.errors[f"call {refused.code}"] += 1
                    await self.clock.minutes(IDLE_POLL_MIN)
                    continue
                await self.serve(clerk, ticket)
            await clerk.counter_action(shift.counter, "close")

    async def serve(self, clerk: LobbyClient, ticket: p.TicketView) -> None:
        visitor = self.visit_of.get(ticket.id)
        if visitor is None or visitor.no_show:
            await self.clock.minutes(NO_SHOW_WAIT_MIN)
            await clerk.ticket_action(ticket.id, "no-show")
            return
        await clerk.ticket_action(ticket.id, "start")
        await self.clock.minutes(visitor.minutes)
        await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))

    async def display(self) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['display']}"}
        url = self.url.replace("http://", "ws://") + "/ws"
        while not self.closing.is_set():
            try:
                async with connect(url, additional_headers=headers, max_size=None) as ws:
                    async for _ in ws:
                        self.soak.display_messages += 1
            except (OSError, websockets.ConnectionClosed):
                pass
            if not self.closing.is_set():
                self.soak.display_drops += 1
                await asyncio.sleep(0.5)

    async def sampler(self, pid: int, port: int) -> None:
        while not self.closing.is_set():
            self.soak.samples.append(await asyncio.to_thread(sample, pid, port, self.clock.now()))
            await self.clock.minutes(SAMPLE_EVERY_MIN)

    async def play(self, pid: int, port: int) -> None:
        displays = [asyncio.create_task(self.display()) for _ in range(DISPLAYS)]
        sampler = asyncio.create_task(self.sampler(pid, port))
        kiosks = [self.kiosk(n, self.plan.visitors[n::KIOSKS]) for n in range(KIOSKS)]
        counters = [self.counter(i) for i in range(len(self.plan.shifts))]
        await asyncio.gather(*kiosks, *counters)
        await asyncio.gather(*self.leaving)
        async with LobbyClient(self.url, timeout=60) as boss:
            await boss.login("soak-super", PASSWORD)
            await boss.request("POST", "/api/day/close")
        await self.clock.minutes(SAMPLE_EVERY_MIN)  # let the stream settle, then the last look
        self.soak.samples.append(await asyncio.to_thread(sample, pid, port, self.clock.now()))
        self.closing.set()
        sampler.cancel()
        for task in displays:
            task.cancel()
        await asyncio.gather(sampler, *displays, return_exceptions=True)


def seed(db: Path) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for n in range(KIOSKS):
        out = _lobby("device", "add", f"kiosk-{n}", "--role", "kiosk", "--db", str(db))
        tokens[f"kiosk-{n}"] = out.strip().splitlines()[-1]
    out = _lobby("device", "add", "tv", "--role", "display", "--db", str(db))
    tokens["display"] = out.strip().splitlines()[-1]
    for index in range(6):
        _lobby(
            "staff",
            "add",
            f"soak-clerk-{index}",
            "--role",
            "clerk",
            "--db",
            str(db),
            stdin=PASSWORD,
        )
    _lobby("staff", "add", "soak-super", "--role", "supervisor", "--db", str(db), stdin=PASSWORD)
    return tokens


def outcomes(db: Path, soak: Soak) -> None:
    """Every checked-in visit's endings, from the log itself."""
    ended: Counter[int] = Counter()
    checked: set[int] = set()
    with sqlite3.connect(db) as conn:
        for kind, data in conn.execute("SELECT kind, data FROM events ORDER BY seq"):
            fields = json.loads(data)
            if kind == "ticket.checked_in":
                checked.add(fields["id"])
            elif kind in OUTCOMES:
                ended[fields["id"]] += 1
                soak.outcomes[kind.removeprefix("ticket.")] += 1
            elif kind == "day.closed":
                for ticket_id in fields["ids"]:
                    ended[ticket_id] += 1
                    soak.outcomes["closed_at_end_of_day"] += 1
    soak.ended_twice = sum(1 for t in checked if ended[t] > 1)
    soak.never_ended = sum(1 for t in checked if ended[t] == 0)


def run_soak(workdir: Path, speed: float = SPEED) -> Soak:
    scenario, config = load_scenario(SCENARIO)
    plan = draw(scenario, config, SEED)
    db = workdir / "soak.db"
    tokens = seed(db)
    clock = Clock(min(s.opens for s in plan.shifts) - timedelta(minutes=5), speed)
    port = free_port()
    server = ServerProcess(
        "soak",
        [
            sys.executable,
            "-m",
            "benchmarks.soak_server",
            "--config",
            str(CONFIG),
            "--db",
            str(db),
            "--port",
            str(port),
            "--start",
            clock.start.isoformat(),
            "--epoch",
            repr(clock.epoch),
            "--speed",
            str(speed),
        ],
        port,
        workdir / "soak.log",
    )
    server.wait_ready()
    day = Day(plan, f"http://127.0.0.1:{port}", tokens, clock)
    note(f"soak: {len(plan.visitors):,} visitors, {speed:.0f}x real time")
    began = time.perf_counter()
    try:
        asyncio.run(day.play(server.pid, port))
    finally:
        server.stop()
    day.soak.seconds = time.perf_counter() - began
    day.soak.speed = speed
    outcomes(db, day.soak)
    return day.soak


def print_soak(soak: Soak, section: int = 8) -> None:
    samples = soak.samples
    print(
        f"\n{section}. Soak: a busy day of {soak.visitors:,} visitors (3 kiosks, 6 counters with"
        f" breaks, {DISPLAYS} displays) at {soak.speed:.0f}x real time, {soak.seconds:.0f} s"
    )
    if len(samples) < 3:
        print("   too few samples")
        return
    # settled: the first sample an hour into the day (every screen connected, every counter
    # open), against the last, taken after the day was closed
    first = samples[0].at
    settled = next((s for s in samples if s.at - first >= timedelta(hours=1)), samples[1])
    last = samples[-1]
    peak = max(samples, key=lambda s: s.rss_mb)
    low = min(samples[1:], key=lambda s: s.rss_mb)
    per_visit_kb = (last.rss_mb - settled.rss_mb) * 1024 / max(1, soak.checked_in)
    print(
        f"   RSS {settled.rss_mb:.1f} MiB at {settled.at:%H:%M} -> {last.rss_mb:.1f} MiB at"
        f" {last.at:%H:%M}, {per_visit_kb:+.1f} KiB per visit of the day (the engine keeps the"
        f" day's visits until the next); lowest {low.rss_mb:.1f}, highest {peak.rss_mb:.1f}"
        f" at {peak.at:%H:%M}"
    )
    print(
        f"   open descriptors {settled.fds} -> {last.fds} (max {max(s.fds for s in samples)});"
        f" asyncio tasks {settled.tasks} -> {last.tasks} (max {max(s.tasks for s in samples)})"
    )
    print(
        "   samples: "
        + ", ".join(f"{s.at:%H:%M} {s.rss_mb:.0f}M/{s.fds}fd/{s.tasks}t" for s in samples)
    )
    outcomes = ", ".join(f"{kind} {count:,}" for kind, count in sorted(soak.outcomes.items()))
    verdict = "met" if soak.ended_twice == 0 and soak.never_ended == 0 else "MISSED"
    print(
        f"   {soak.checked_in:,} checked in; outcomes: {outcomes}; ended twice"
        f" {soak.ended_twice}, never ended {soak.never_ended}: exactly one outcome each:"
        f" {verdict}"
    )
    steady = last.fds <= settled.fds and last.tasks <= settled.tasks
    print(
        f"   displays: {soak.display_messages:,} messages, {soak.display_drops} dropped"
        f" connections; errors: {dict(soak.errors) or 'none'}; descriptors and tasks back"
        f" to their settled level: {'met' if steady else 'MISSED'}"
    )


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lobby-soak-") as tmp:
        soak = run_soak(Path(tmp), float(os.environ.get("SOAK_SPEED", SPEED)))
    print_soak(soak)


if __name__ == "__main__":
    main()
