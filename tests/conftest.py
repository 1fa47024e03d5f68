"""Shared fixtures: a real Lobby server on a loopback port with a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from aiohttp import web
from argon2 import PasswordHasher

from lobby import protocol as p
from lobby.client import LobbyClient, live
from lobby.state import OfficeState
from server.app import HEADER_TIMEOUT_SEC, create_app, store_for
from server.auth import hash_token
from server.config import OfficeConfig, load_config, parse_config
from server.office import TICK_SEC

TESTS = Path(__file__).parent
CONFIG_PATH = TESTS / "office.toml"
STAFF = {"clerk": "clerk", "clerk2": "clerk2", "clerk3": "clerk3", "super": "super"}
ROLES = {"clerk": "clerk", "clerk2": "clerk", "clerk3": "clerk", "super": "supervisor"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Cheap argon2 parameters: the stored hash carries them, so sign-ins in tests stay fast.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_HASHES = {name: _FAST.hash(password) for name, password in STAFF.items()}


def seed_accounts(db: Path | str) -> dict[str, str]:
    """Staff with password == name, and one kiosk and one display token (an SQLite file or a
    PostgreSQL URL)."""
    tokens = {"kiosk": "kiosk-token-for-tests", "display": "display-token-for-tests"}
    with store_for(db).offline() as accounts:
        for name in STAFF:
            accounts.add_staff(name, ROLES[name], _HASHES[name])
        for role, token in tokens.items():
            accounts.add_device(f"test-{role}", role, hash_token(token))
    return tokens


class OpensClients:
    """The clients a test opens on a server (kept in ``clients``, closed with the server)."""

    tokens: dict[str, str]
    clients: list[LobbyClient]

    @property
    def url(self) -> str:
        raise NotImplementedError

    async def close_clients(self) -> None:
        for client in self.clients:
            await client.close()

    def client(self, token: str | None = None) -> LobbyClient:
        client = LobbyClient(self.url, token)
        self.clients.append(client)
        return client

    def kiosk(self) -> LobbyClient:
        return self.client(self.tokens["kiosk"])

    def display(self) -> LobbyClient:
        return self.client(self.tokens["display"])

    async def staff(self, name: str) -> LobbyClient:
        client = self.client()
        await client.login(name, STAFF[name])
        return client


@dataclass
class RunningServer(OpensClients):
    """A server in this test's event loop; ``restart()`` stops it and starts it on the same file."""

    config: OfficeConfig
    db: Path | str
    port: int
    tokens: dict[str, str]
    runner: web.AppRunner | None = None
    clients: list[LobbyClient] = field(default_factory=list)
    clock: Callable[[], datetime] | None = None
    tick_sec: float = TICK_SEC
    header_timeout: float = HEADER_TIMEOUT_SEC
    control: bool = False
    """Keep the local control file beside the database, as ``lobby serve`` does."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> web.Application:
        assert self.runner is not None
        return self.runner.app

    async def start(self) -> None:
        self.runner = web.AppRunner(
            create_app(
                self.config,
                self.db,
                self.clock,
                self.tick_sec,
                control_url=self.url if self.control else None,
            ),
            shutdown_timeout=1.0,
            keepalive_timeout=self.header_timeout,
        )
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


def without_emergencies(toml: str) -> str:
    """An office file without its ``[emergency.*]`` kinds (they come last): the office gets
    the server's own, in any languages the test gives it."""
    return toml.split("\n[emergency.", 1)[0]


def records_open(hours: str) -> OfficeConfig:
    """The test office with Vital Records keeping ``hours`` (every other service all day)."""
    head, records = CONFIG_PATH.read_text().split('id = "records"')
    records = records.replace('hours = "00:00-24:00"', f'hours = "{hours}"', 1)
    return parse_config(head + 'id = "records"' + records, f"records-{hours}.toml")


@pytest.fixture
def office_config() -> OfficeConfig:
    return load_config(CONFIG_PATH)


@contextlib.asynccontextmanager
async def running_server(
    tmp_path: Path, config: OfficeConfig, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[RunningServer]:
    """A started server on a fresh database; its clients and the server are closed after."""
    db = tmp_path / "lobby.db"
    # With a test's clock the test ticks (office.tick()) when it moves the clock.
    tick_sec = 3600.0 if clock is not None else TICK_SEC
    running = RunningServer(
        config, db, free_port(), seed_accounts(db), clock=clock, tick_sec=tick_sec
    )
    await running.start()
    try:
        yield running
    finally:
        await running.close_clients()
        await running.stop()


@pytest.fixture
async def server(tmp_path: Path, office_config: OfficeConfig) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path, office_config) as running:
        yield running


async def until(condition: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``condition`` until it holds: network work does not finish on a pilot pause."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not met in {timeout} s: {what or condition}")
        await asyncio.sleep(0.02)


class Screen(Protocol):
    """Anything that folds the stream as a screen does: the shared fold, a terminal's model."""

    @property
    def ready(self) -> bool: ...

    def apply(self, message: p.StreamMessage) -> object: ...


S = TypeVar("S", bound=Screen)


@contextlib.asynccontextmanager
async def follows(server: RunningServer, token: str, screen: S) -> AsyncIterator[S]:
    """``screen`` fed by the live stream, as its app feeds it, until the block ends."""

    async def follow() -> None:
        async for message in live(server.url, token, reconnect_delays=(0.05,)):
            screen.apply(message)

    task = asyncio.create_task(follow())
    try:
        await until(lambda: screen.ready, what="first snapshot")
        yield screen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def following(
    server: RunningServer, token: str
) -> contextlib.AbstractAsyncContextManager[OfficeState]:
    """A screen's view of the office: the live stream folded with the shared fold."""
    return follows(server, token, OfficeState())


def visitor(rid: str, service: str = "permits", **extra: Any) -> p.CheckInRequest:
    """A check-in request; ``rid`` is the client_request_id (at least 8 characters)."""
    return p.CheckInRequest(service=service, client_request_id=rid, **extra)


@dataclass
class FakeClock:
    """Office time that moves only when a test says so."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def clocked_server(
    tmp_path: Path, office_config: OfficeConfig
) -> AsyncIterator[tuple[RunningServer, FakeClock]]:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=office_config.tz))
    async with running_server(tmp_path, office_config, clock) as running:
        yield running, clock
