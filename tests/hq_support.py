"""Headquarters on the real PostgreSQL and offices that ship to it, for the replication tests.

Headquarters gets a schema of its own per test (its offices' copies beside it), all dropped
after the test; where PostgreSQL is absent the tests are skipped, saying so (failed under
LOBBY_REQUIRE_POSTGRES=1, as in CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from aiohttp import web
from psycopg import sql

from server.config import OfficeConfig, parse_config
from server.hq.app import create_hq_app
from server.hq.database import add_office, drop_headquarters, offices_of
from tests.conftest import CONFIG_PATH, RunningServer, free_port, seed_accounts
from tests.store_backends import postgres_schema


def hq_database() -> contextlib.AbstractContextManager[str]:
    """The URL of a new schema for headquarters; it and every office copy beside it are
    dropped afterwards."""
    return postgres_schema("lobby_hq", drop_headquarters)


@dataclass
class RunningHQ:
    url: str
    port: int = field(default_factory=free_port)
    runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.runner = web.AppRunner(create_hq_app(self.url), shutdown_timeout=0.5)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def copy(self, office_id: str) -> list[tuple[int, str, str, dict[str, Any]]]:
        """Headquarters' copy of one office's log: (seq, at, kind, data) in seq order."""
        _, copy = self.schema_of(office_id)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(copy)))
            rows = conn.execute("SELECT seq, at, kind, data::jsonb FROM events ORDER BY seq")
            return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def schema_of(self, office_id: str) -> tuple[str, str]:
        """Headquarters' schema, and the schema of its copy of one office."""
        schema, offices = offices_of(self.url)
        office = next(o for o in offices if o.id == office_id)
        return schema, f"{schema}_o_{office.number}"

    def office(self, office_id: str) -> Any:
        return next(o for o in offices_of(self.url)[1] if o.id == office_id)


@dataclass
class KilledHQ(RunningHQ):
    """Headquarters as ``lobby hq serve`` in a process of its own, stopped with SIGKILL: no
    shutdown, whatever it was doing (a batch half taken in) cut off."""

    process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        root = Path(__file__).resolve().parent.parent
        env = os.environ | {"PYTHONPATH": str(root)}
        command = [sys.executable, "-m", "lobby.cli", "hq", "serve", "--db", self.url]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.base}/healthz") as answer:
                        if answer.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise AssertionError("lobby hq serve did not answer /healthz")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
            self.process = None


@contextlib.asynccontextmanager
async def running_hq() -> AsyncIterator[RunningHQ]:
    """Headquarters started on a schema of its own, stopped and dropped after."""
    with hq_database() as url:
        running = RunningHQ(url)
        await running.start()
        try:
            yield running
        finally:
            await running.stop()


def office_with_hq(
    tmp_path: Path,
    office_id: str,
    hq: RunningHQ,
    token: str,
    *,
    share_private: bool = False,
    batch: int = 50,
) -> OfficeConfig:
    """The test office, named after ``office_id``, shipping to ``hq``."""
    token_file = tmp_path / f"{office_id}.token"
    token_file.write_text(token + "\n")
    text = CONFIG_PATH.read_text().replace(
        'name = "Test City Hall"', f'name = "Test Office {office_id}"', 1
    )
    text += (
        f'\n[headquarters]\nurl = "{hq.base}"\noffice_id = "{office_id}"\n'
        f'token_file = "{token_file}"\nshare_private = {str(share_private).lower()}\n'
        f"batch = {batch}\n"
    )
    return parse_config(text, f"{office_id}.toml")


@contextlib.asynccontextmanager
async def shipping_office(
    tmp_path: Path, office_id: str, hq: RunningHQ, **options: Any
) -> AsyncIterator[RunningServer]:
    """A started office server on its own SQLite file, registered at ``hq`` and shipping to it."""
    folder = tmp_path / office_id
    folder.mkdir()
    config = office_with_hq(folder, office_id, hq, add_office(hq.url, office_id), **options)
    db = folder / "lobby.db"
    office = RunningServer(config, db, free_port(), seed_accounts(db))
    await office.start()
    try:
        yield office
    finally:
        for client in office.clients:
            await client.close()
        await office.stop()


async def office_log(office: RunningServer) -> list[tuple[int, str, str]]:
    from server.keys import OFFICE

    logged = await office.app[OFFICE].store.events_since(0)
    return [(seq, event.at.isoformat(), event.kind) for seq, event in logged]
