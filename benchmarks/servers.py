"""The servers under test, each in its own process, and what their CPU time says.

The Lobby server is started exactly as an office starts it (``lobby serve``), after seeding the
accounts with the ``lobby staff add`` / ``lobby device add`` commands, so the figures include
everything a real check-in pays for.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = ROOT / "tests" / "office.toml"
CLERK_PASSWORD = "bench-clerk-password"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds of a process (or one of its threads) so far."""
    path = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
    try:
        with open(path) as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and I/O wait, since boot."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICKS


MACHINE = "whole machine"


@dataclass
class CpuMeter:
    """Share of one core each watched process (or thread) used while the meter ran.

    It may be started and stopped several times; the shares cover all those stretches.
    ``whole machine`` is every process on every core, ours and anyone else's.
    """

    watched: dict[str, tuple[int, int | None]]
    cpu: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    _marks: dict[str, float] = field(default_factory=dict)
    _since: float = 0.0

    def start(self) -> None:
        self._since = time.perf_counter()
        self._marks = {name: cpu_seconds(*who) for name, who in self.watched.items()}
        self._marks[MACHINE] = machine_busy_seconds()

    def stop(self) -> None:
        self.wall += time.perf_counter() - self._since
        now = {name: cpu_seconds(*who) for name, who in self.watched.items()}
        now[MACHINE] = machine_busy_seconds()
        for name, used in now.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + used - self._marks.get(name, used)

    @property
    def shares(self) -> dict[str, float]:
        return {name: used / max(1e-9, self.wall) for name, used in self.cpu.items()}


class ServerProcess:
    """A server started with ``command``; stopped with SIGINT (graceful), then SIGKILL."""

    def __init__(self, name: str, command: list[str], port: int, log: Path) -> None:
        self.name = name
        self.port = port
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@dataclass(frozen=True)
class LobbyAccounts:
    kiosk: str
    display: str
    clerk: str
    clerk_password: str


def _lobby(*args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [str(BIN / "lobby"), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def seed_lobby(db: Path) -> LobbyAccounts:
    """Accounts made with the real command line; device tokens are the last line it prints."""
    _lobby("staff", "add", "bench-clerk", "--role", "clerk", "--db", str(db), stdin=CLERK_PASSWORD)
    kiosk = _lobby("device", "add", "bench-kiosk", "--role", "kiosk", "--db", str(db))
    display = _lobby("device", "add", "bench-display", "--role", "display", "--db", str(db))
    return LobbyAccounts(
        kiosk=kiosk.strip().splitlines()[-1],
        display=display.strip().splitlines()[-1],
        clerk="bench-clerk",
        clerk_password=CLERK_PASSWORD,
    )


def start_lobby(
    workdir: Path, name: str, config: Path = CONFIG
) -> tuple[ServerProcess, LobbyAccounts]:
    db = workdir / f"{name}.db"
    accounts = seed_lobby(db)
    port = free_port()
    server = ServerProcess(
        "lobby",
        [
            str(BIN / "lobby"),
            "serve",
            "--config",
            str(config),
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        port,
        workdir / f"{name}.log",
    )
    server.wait_ready()
    return server, accounts


def start_bare(workdir: Path, module: str, *args: str) -> ServerProcess:
    port = free_port()
    server = ServerProcess(
        module,
        [sys.executable, "-m", f"benchmarks.{module}", "--port", str(port), *args],
        port,
        workdir / f"{module}.log",
    )
    server.wait_ready()
    return server
