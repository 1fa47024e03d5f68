"""``lobby doctor`` on a real office: a healthy one passes, a broken one is told what to fix."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lobby import cli
from server.config import OfficeConfig
from server.doctor import Finding, examine, exit_status, printout
from tests.conftest import FakeClock, RunningServer, following, free_port, running_server

VOLATILE = Path("/dev/shm")


def levels(findings: list[Finding]) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for finding in findings:
        seen.setdefault(finding.check, set()).add(finding.level)
    return seen


async def test_a_healthy_office_passes_every_check(server: RunningServer) -> None:
    await server.kiosk().printer_status("ok")
    async with following(server, server.tokens["display"]):
        findings = await examine(server.url, Path(server.db), "super", "super")
    seen = levels(findings)
    text = printout(findings)
    assert exit_status(findings) == 0, text
    for check in ("server", "database", "disk", "displays", "printer", "db file"):
        assert seen[check] == {"ok"}, text
    assert "ok" in seen["clock"], text
    assert "test-display" in text and "test-kiosk: answering, paper ok" in text


@pytest.fixture
async def broken(office_config: OfficeConfig) -> AsyncIterator[RunningServer]:
    """An office whose database is on a RAM disk, whose clock is 10 minutes slow, whose kiosk
    printer is out of paper and whose display is off."""
    if not VOLATILE.is_dir():
        pytest.skip("needs a tmpfs at /dev/shm")
    folder = VOLATILE / f"lobby-doctor-{free_port()}"
    folder.mkdir()
    slow = FakeClock(datetime.now(office_config.tz) - timedelta(minutes=10))
    try:
        async with running_server(folder, office_config, slow) as running:
            await running.kiosk().printer_status("paper_out", "roll empty")
            yield running
    finally:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


async def test_a_broken_office_is_told_what_to_fix(broken: RunningServer) -> None:
    findings = await examine(broken.url, Path(broken.db), "super", "super")
    text = printout(findings)
    assert exit_status(findings) == 1
    failed = {f.check: f for f in findings if f.level == "fail"}
    assert set(failed) == {"database", "displays", "printer", "clock"}, text
    assert (
        "tmpfs" in failed["database"].said and "lost at the next reboot" in failed["database"].said
    )
    assert "no lobby display is connected" in failed["displays"].said
    assert failed["printer"].said == "test-kiosk: paper out (roll empty)"
    assert "load a paper roll" in failed["printer"].fix
    # The fake clock stands still while the real one runs on through the fixture's set-up.
    skew = re.search(r"is (\d+) s from this machine's", failed["clock"].said)
    assert skew and 600 <= int(skew.group(1)) <= 660, failed["clock"].said
    assert "timedatectl set-ntp true" in failed["clock"].fix
    assert "4 to fix" in text.splitlines()[-1]


async def test_a_stopped_server_and_a_missing_database_are_named(
    server: RunningServer, tmp_path: Path
) -> None:
    findings = await examine(server.url, tmp_path / "nowhere.db", "super", "super")
    [missing] = [f for f in findings if f.check == "db file"]
    assert (missing.level, missing.said) == ("fail", f"no database at {tmp_path / 'nowhere.db'}")
    await server.stop()
    down = await examine(server.url)
    assert [(f.level, f.check) for f in down] == [("fail", "server")]
    assert "systemctl start lobby" in down[0].fix


async def test_doctor_without_a_supervisor_is_refused_with_how_to_sign_in(
    server: RunningServer,
) -> None:
    findings = await examine(server.url)
    assert [(f.level, f.check) for f in findings] == [("fail", "sign-in")]
    assert "--staff" in findings[0].fix


async def test_lobby_doctor_exits_1_when_the_office_is_down(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status = await asyncio.to_thread(cli.main, ["doctor", "--server", url])
    assert status == 1
    assert f"FAIL  server    no answer from {url}" in capsys.readouterr().out
