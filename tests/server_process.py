"""``lobby serve`` in a process of its own on a loopback port and a real SQLite file, for the
tests that kill it (SIGKILL) or stop it (SIGTERM) under live clients and start it again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lobby import protocol as p
from lobby.client import LobbyClient, ServerUnreachable
from tests.conftest import CONFIG_PATH, OpensClients, free_port, seed_accounts

LOBBY = [sys.executable, "-m", "lobby.cli"]
START_SEC = 30.0
"""How long a start may take on a busy machine (imports, the database's checks)."""


async def start_server_process(
    db: Path, port: int, *extra: str, output: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """``lobby serve`` in its own process, ready; ``output`` receives its stdout and stderr."""
    serve = ["serve", "--config", str(CONFIG_PATH), "--db", str(db), "--port", str(port)]
    process = subprocess.Popen(
        [*LOBBY, *serve, *extra],
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SEC
    async with LobbyClient(f"http://127.0.0.1:{port}", timeout=2) as probe:
        while loop.time() < deadline and process.poll() is None:
            try:
                await probe.request("GET", "/healthz")
                return process
            except ServerUnreachable:
                await asyncio.sleep(0.05)
    process.kill()
    process.wait()
    raise AssertionError(f"server process did not start (exit status {process.returncode})")


@dataclass
class ServerProcess(OpensClients):
    """One office's server process; ``restart(signal)`` ends it that way and starts it again
    on the same database and port, as systemd would after a crash or a ``systemctl restart``."""

    db: Path
    port: int
    tokens: dict[str, str]
    log: Path
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    clients: list[LobbyClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = await start_server_process(
                self.db, self.port, *self.extra, output=output
            )

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        """End the process with ``how``; its exit status (negative: killed by that signal)."""
        process, self.process = self.process, None
        assert process is not None, "not running"
        os.kill(process.pid, how)
        return await asyncio.to_thread(process.wait, START_SEC)

    async def restart(self, how: signal.Signals) -> None:
        await self.stop(how)
        await self.start()

    async def state(self, token: str) -> p.StateSnapshot:
        """``GET /api/state`` with a fresh connection (an old one may be to the last process)."""
        async with LobbyClient(self.url, token) as client:
            return await client.state()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def server_process(tmp_path: Path, *extra: str) -> AsyncIterator[ServerProcess]:
    """A started server process on a fresh database with the test accounts; stopped after."""
    db = tmp_path / "lobby.db"
    running = ServerProcess(db, free_port(), seed_accounts(db), tmp_path / "server.log", extra)
    await running.start()
    try:
        yield running
    finally:
        await running.close_clients()
        if running.process is not None:
            await running.stop(signal.SIGTERM)
