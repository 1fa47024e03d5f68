"""A disk that refuses writes: the caller is told, the queue keeps only what the log holds, a
retry gets the one true answer, no number is handed out twice, and all is well once space is
back.

The database lives on a small tmpfs that the test fills with a file, so SQLite meets a real
full disk (SQLITE_FULL) in the middle of serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.async_api import expect

from lobby.client import ApiError
from server.config import OfficeConfig
from server.keys import OFFICE
from server.reports.records import Changes, RecordFold
from tests.browser import WAIT_MS, chromium, screenshot
from tests.conftest import (
    CONFIG_PATH,
    RunningServer,
    following,
    free_port,
    running_server,
    seed_accounts,
    until,
    visitor,
)
from tests.test_pages_supervisor import signed_in_desk

LOBBY = [sys.executable, "-m", "lobby.cli"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB filesystem of its own, or a skip saying why there can't be one here."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Take every free byte of ``disk`` but ``leave``; returns the file to delete to give
    them back."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 1):  # big pieces, then the last few bytes
            with contextlib.suppress(OSError):
                while out.write(b"\0" * size):
                    pass
    assert os.statvfs(disk).f_bavail == 0
    if leave:
        os.truncate(filler, filler.stat().st_size - leave)
    return filler


def server_on(
    disk: Path, config: OfficeConfig
) -> contextlib.AbstractAsyncContextManager[RunningServer]:
    """A server whose database lives on ``disk``."""
    return running_server(disk, config)


async def test_a_full_disk_loses_nothing_invents_nothing_and_recovers(
    small_disk: Path, office_config: OfficeConfig
) -> None:
    async with server_on(small_disk, office_config) as server:
        kiosk, boss = server.kiosk(), await server.staff("super")
        first = await kiosk.check_in(visitor("before-full"))
        async with following(server, boss.token or "") as supervisor:
            filler = fill(small_disk)
            refused: list[ApiError] = []
            for attempt in range(200):  # until the log must grow past what it had
                try:
                    await kiosk.check_in(visitor(f"full-{attempt:04d}"))
                except ApiError as error:
                    refused.append(error)
                    break
            assert refused, "the disk never filled"
            error = refused[0]
            assert (error.status, error.code) == (503, "storage_full")
            assert "disk is full" in error.message
            stored = server.app[OFFICE].published_seq
            rid = f"full-{attempt:04d}"
            with pytest.raises(ApiError) as again:
                await kiosk.check_in(visitor(rid))  # the kiosk's retry, same request id
            assert again.value.code == "storage_full"

            state = await boss.state()
            numbers = [t.number for t in state.tickets]
            assert len(numbers) == len(set(numbers)) == attempt + 1
            engine = server.app[OFFICE].engine
            assert len(engine.tickets) == attempt + 1, "the queue holds only what the log holds"
            assert rid not in engine.request_ids
            assert supervisor.seq == stored

            filler.unlink()
            retried = await kiosk.check_in(visitor(rid))
            assert retried.number not in numbers
            again_retried = await kiosk.check_in(visitor(rid))
            assert again_retried.id == retried.id, "a retry never duplicates"
            await until(lambda: retried.id in supervisor.tickets, what="the stream carries on")

        before = (await boss.state()).tickets
        await server.restart()
        after = (await (await server.staff("super")).state()).tickets
        assert [(t.number, t.state) for t in after] == [(t.number, t.state) for t in before]
        assert first.number in [t.number for t in after]


async def test_a_failed_commit_answers_every_command_in_flight(
    small_disk: Path, office_config: OfficeConfig
) -> None:
    """Commands decided on top of a failed commit fail with it; none of them is half-kept."""
    async with server_on(small_disk, office_config) as server:
        kiosk = server.kiosk()
        clerk = await server.staff("clerk")
        await kiosk.check_in(visitor("waiting-01"))
        await clerk.counter_action("w1", "open")
        filler = fill(small_disk)
        outcomes: list[str] = []
        for _ in range(200):
            try:
                await kiosk.check_in(visitor(f"burst-{uuid.uuid4().hex[:12]}"))
                outcomes.append("ok")
            except ApiError as error:
                outcomes.append(error.code)
                break
        assert outcomes[-1] == "storage_full"
        with contextlib.suppress(ApiError):
            await clerk.call_next("w1")
        office = server.app[OFFICE]
        counter = office.engine.counters["w1"]
        assert counter.state == "open" and counter.ticket is None, "the failed call left no trace"
        filler.unlink()
        called = await clerk.call_next("w1")
        assert called.number == "P-001"
        assert office.storage_problem is None
        ticket = await clerk.ticket_action(called.id, "start")
        assert ticket.state == "serving"


async def healthz(server: RunningServer) -> str:
    """``ok``, or the code of the error ``/healthz`` answers with."""
    try:
        await server.client().request("GET", "/healthz")
    except ApiError as error:
        assert error.status == 503
        return error.code
    return "ok"


async def test_a_full_disk_is_reported_and_passes_by_itself_once_space_is_back(
    small_disk: Path, office_config: OfficeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """The log, ``/healthz`` and the supervisor page say the disk is full; freeing space is
    enough: no command has to come along for the server to be ready again."""
    caplog.set_level(logging.INFO)
    async with server_on(small_disk, office_config) as server, chromium() as browser:
        page = await signed_in_desk(browser, server)
        await expect(page.locator("#storage-band")).to_be_hidden()
        kiosk = server.kiosk()
        filler = fill(small_disk)
        for attempt in range(200):
            with contextlib.suppress(ApiError):
                await kiosk.check_in(visitor(f"fill-{attempt:04d}"))
                continue
            break
        assert await healthz(server) == "storage_full"
        await until(lambda: "the disk is full" in caplog.text, what="the log says so")
        band = page.locator("#storage-band")
        await expect(band).to_contain_text("disk is full", timeout=WAIT_MS)
        await screenshot(page, "supervisor-disk-full.png")

        filler.unlink()
        for _ in range(100):
            if await healthz(server) == "ok":
                break
            await asyncio.sleep(0.1)
        assert await healthz(server) == "ok", "ready again with no command to try"
        assert "storage works again" in caplog.text
        await expect(band).to_be_hidden(timeout=WAIT_MS)
        await kiosk.check_in(visitor(f"fill-{attempt:04d}"))


def test_sigterm_after_a_full_disk_stops_the_server_at_once(small_disk: Path) -> None:
    """Shutdown finishes whatever state the writer is in: the disk is still full when asked."""
    db = small_disk / "lobby.db"
    tokens = seed_accounts(db)
    port = free_port()
    process = subprocess.Popen(
        [*LOBBY, "serve", "--config", str(CONFIG_PATH), "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def check_in(rid: str) -> int:
        request = urllib.request.Request(
            f"{base}/api/tickets",
            data=msgspec.json.encode(visitor(rid)),
            headers={"Authorization": f"Bearer {tokens['kiosk']}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return refused.code

    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        filler = fill(small_disk)
        statuses = [check_in(f"term-{n:04d}") for n in range(5)]
        assert 503 in statuses
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    assert "no snapshot saved at shutdown" in errors or "saved a snapshot" in errors
    filler.unlink()


async def test_a_burst_on_a_filling_disk_keeps_exactly_what_was_acknowledged(
    small_disk: Path, office_config: OfficeConfig
) -> None:
    """Check-ins arriving together are published together; when the disk fills in the middle
    of a burst, each one is either acknowledged and kept, or refused and absent, and none
    waits for ever."""
    async with server_on(small_disk, office_config) as server:
        kiosk, boss = server.kiosk(), await server.staff("super")
        filler = fill(small_disk, leave=96 * 1024)
        kept: list[int] = []
        refused: list[str] = []
        async with following(server, boss.token or "") as supervisor:
            for round_ in range(100):
                tries = [kiosk.check_in(visitor(f"burst-{round_:03d}-{i:02d}")) for i in range(16)]
                answers = await asyncio.wait_for(
                    asyncio.gather(*tries, return_exceptions=True), timeout=30
                )
                for answer in answers:
                    if isinstance(answer, ApiError):
                        refused.append(answer.code)
                    else:
                        assert not isinstance(answer, BaseException), answer
                        kept.append(answer.id)
                if refused:
                    break
            assert refused and set(refused) == {"storage_full"}, refused
            await until(
                lambda: set(kept) <= set(supervisor.tickets), what="every acknowledged one shown"
            )
            assert set(supervisor.tickets) == set(kept), "nothing shown that was refused"
            assert set(server.app[OFFICE].engine.tickets) == set(kept)
        filler.unlink()
        await server.restart()
        after = (await (await server.staff("super")).state()).tickets
        assert sorted(t.id for t in after) == sorted(kept)


async def test_a_defect_in_a_commit_fails_that_commit_and_the_office_carries_on(
    tmp_path: Path,
    office_config: OfficeConfig,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error that is not the disk's (a defect in the records' fold, say) is handled like a
    refused commit: the caller is told, the office rebuilds from the log, and the writer goes on
    serving. A writer thread that died of it would have left every caller waiting for ever."""
    real_fold = RecordFold.fold
    left = [1]

    def fold_once_broken(self: RecordFold, events: Any) -> Changes:
        if left[0]:
            left[0] -= 1
            raise RuntimeError("a defect in the visit records")
        return real_fold(self, events)

    async with running_server(tmp_path, office_config) as server:
        kiosk, boss = server.kiosk(), await server.staff("super")
        first = await kiosk.check_in(visitor("before-defect"))
        monkeypatch.setattr(RecordFold, "fold", fold_once_broken)
        with (
            caplog.at_level(logging.ERROR, logger="lobby.store"),
            pytest.raises(ApiError) as refused,
        ):
            await asyncio.wait_for(kiosk.check_in(visitor("hit-by-defect")), 10)
        assert (refused.value.status, refused.value.code) == (503, "storage_error")
        assert "nothing changed" in refused.value.message
        assert any("unexpected error" in r.getMessage() and r.exc_info for r in caplog.records)
        office = server.app[OFFICE]
        assert "hit-by-defect" not in office.engine.request_ids, "the queue holds only the log"

        retried = await asyncio.wait_for(kiosk.check_in(visitor("hit-by-defect")), 10)
        assert retried.number != first.number
        numbers = [t.number for t in (await boss.state()).tickets]
        assert sorted(numbers) == sorted([first.number, retried.number])
        await server.restart()
        after = (await (await server.staff("super")).state()).tickets
        assert sorted(t.number for t in after) == sorted(numbers), "the log holds what was told"
