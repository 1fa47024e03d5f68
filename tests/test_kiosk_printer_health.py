"""Printer health reaches the supervisor with its cause at once, and clears once fixed."""

from __future__ import annotations

import logging
import typing

import pytest

from hardware import TicketPrinter
from kiosk.app import KioskApp
from kiosk.backend import ServerBackend
from tests.conftest import RunningServer, following, until
from tests.test_kiosk_flow import choose_language, finished, running, tap_service
from tests.test_printer import (
    COVER_OPEN,
    OFFLINE_BIT,
    ONLINE,
    PAPER_OK,
    PAPER_OUT,
    FakePrinter,
    fake_printer,
)

__all__ = ["fake_printer"]  # the fixture, shared with the printer tests

MakePrinter = typing.Callable[[dict[int, int] | None], FakePrinter]


def kiosk_with(server: RunningServer, printer: TicketPrinter) -> KioskApp:
    return KioskApp(
        lambda: ServerBackend(server.url, server.tokens["kiosk"], reconnect_delays=(0.05,)),
        printer,
        retry_delays=(0.05,),
        printer_interval=3600,  # no regular poll in this test: the report comes from the print
        printer_recheck=0.2,
    )


@pytest.mark.parametrize(
    ("replies", "status", "words"),
    [
        ({1: OFFLINE_BIT, 4: PAPER_OUT}, "paper_out", "out of paper"),
        ({1: OFFLINE_BIT, 2: COVER_OPEN, 4: PAPER_OK}, "cover_open", "cover is open"),
    ],
)
async def test_a_failed_print_tells_supervisors_why_at_once_and_clears_when_fixed(
    server: RunningServer,
    fake_printer: MakePrinter,
    caplog: pytest.LogCaptureFixture,
    replies: dict[int, int],
    status: str,
    words: str,
) -> None:
    device = fake_printer({1: ONLINE, 4: PAPER_OK})
    # The fake answers at once; the long timeout only covers a loaded machine, where the
    # printer's thread may wait for the interpreter while the kiosk starts.
    app = kiosk_with(server, TicketPrinter(device.spec, status_timeout=3.0))
    supervisor = await server.staff("super")
    caplog.set_level(logging.INFO, logger="lobby.printers")
    async with following(server, supervisor.token or "") as office, running(app) as pilot:
        await until(lambda: office.printers.get("test-kiosk", None) is not None)
        assert office.printers["test-kiosk"].status == "ok"
        device.replies = replies  # the paper runs out, the cover is lifted
        await choose_language(pilot, "en")
        screen = await tap_service(pilot, "permits")
        await finished(screen)
        assert screen.stage == "on_screen"
        await until(lambda: office.printers["test-kiosk"].status == status)
        assert words in office.printers["test-kiosk"].detail
        assert f"printer of test-kiosk: {status}" in caplog.text

        device.replies = {1: ONLINE, 4: PAPER_OK}  # someone loads paper, shuts the cover
        await until(lambda: office.printers["test-kiosk"].status == "ok", timeout=3.0)
        assert "printer of test-kiosk: ok" in caplog.text
