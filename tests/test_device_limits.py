"""One kiosk token cannot flood the queue, the supervisor hears of it, and a device can be
revoked from the supervisor page's API or the command line."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lobby import protocol as p
from lobby.client import ApiError
from server.config import OfficeConfig, parse_config
from server.keys import OFFICE
from server.store.sqlite import SqliteStore
from tests.conftest import CONFIG_PATH, RunningServer, running_server, visitor

LOBBY = [sys.executable, "-m", "lobby.cli"]
LIMIT = 5


def test_a_real_office_limits_each_kiosk_to_twenty_a_minute() -> None:
    text = re.sub(r"check_ins_per_device_per_min = \d+", "", CONFIG_PATH.read_text())
    assert parse_config(text).security.check_ins_per_device_per_min == 20


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[RunningServer]:
    text = re.sub(
        r"check_ins_per_device_per_min = \d+",
        f"check_ins_per_device_per_min = {LIMIT}",
        CONFIG_PATH.read_text(),
    )
    config: OfficeConfig = parse_config(text)
    async with running_server(tmp_path, config) as running:
        yield running


async def test_a_kiosk_over_its_limit_gets_429_and_the_supervisor_sees_it(
    limited: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    kiosk, clerk, boss = limited.kiosk(), await limited.staff("clerk"), await limited.staff("super")
    issued = [await kiosk.check_in(visitor(f"flood-{n:04d}")) for n in range(LIMIT)]
    with pytest.raises(ApiError) as refused:
        await kiosk.check_in(visitor("flood-over"))
    assert (refused.value.status, refused.value.code) == (429, "too_many_check_ins")
    assert "front desk" in refused.value.message
    again = await kiosk.check_in(visitor("flood-0000"))  # a retry is the same visitor
    assert again.id == issued[0].id
    await clerk.check_in(visitor("walk-in-01"))  # the front desk is not limited
    engine = limited.app[OFFICE].engine
    assert "flood-over" not in engine.request_ids and len(engine.tickets) == LIMIT + 1

    listed = await boss.request("GET", "/api/devices", result=p.DevicesResponse)
    kiosk_row = next(d for d in listed.devices if d.name == "test-kiosk")
    assert kiosk_row.limited_at is not None and kiosk_row.role == "kiosk"
    assert next(d for d in listed.devices if d.name == "test-display").limited_at is None
    assert "'test-kiosk' hit the check-in limit" in caplog.text


async def test_a_supervisor_revokes_a_kiosk_and_its_token_stops_at_once(
    server: RunningServer,
) -> None:
    kiosk, clerk, boss = server.kiosk(), await server.staff("clerk"), await server.staff("super")
    await kiosk.check_in(visitor("before-revoke"))  # the server now remembers the token
    listed = await boss.request("GET", "/api/devices", result=p.DevicesResponse)
    device = next(d for d in listed.devices if d.name == "test-kiosk")
    with pytest.raises(ApiError) as clerk_refused:
        await clerk.request("POST", f"/api/devices/{device.id}/revoke")
    assert clerk_refused.value.status == 403
    after = await boss.request("POST", f"/api/devices/{device.id}/revoke", result=p.DevicesResponse)
    assert "test-kiosk" not in [d.name for d in after.devices]
    with pytest.raises(ApiError) as gone:
        await kiosk.check_in(visitor("after-revoke"))
    assert gone.value.status == 401
    with pytest.raises(ApiError) as twice:
        await boss.request("POST", f"/api/devices/{device.id}/revoke")
    assert twice.value.status == 404


def lobby(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOBBY, *args], capture_output=True, text=True, check=False)


def test_device_revoke_on_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "lobby.db")
    assert lobby("device", "add", "lobby-kiosk", "--role", "kiosk", "--db", db).returncode == 0
    revoked = lobby("device", "revoke", "lobby-kiosk", "--db", db)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    with SqliteStore(db).offline() as accounts:
        assert accounts.devices() == []
    unknown = lobby("device", "revoke", "lobby-kiosk", "--db", db)
    assert unknown.returncode == 2 and "no device named 'lobby-kiosk'" in unknown.stderr
