"""Every kiosk screen as the visitor sees it (pytest-textual-snapshot).

Drawn against the fixed office of ``kiosk.sample_office`` so each run gives the same picture;
the behaviour behind these screens is tested against a real server in ``test_kiosk_flow.py``.
Update after a deliberate change with ``pytest tests/test_kiosk_snapshots.py --snapshot-update``
and look at the pictures before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from hardware import open_printer
from kiosk import screenshots
from kiosk.app import KioskApp
from kiosk.sample_office import ISSUED_AT, SampleBackend
from kiosk.widgets.big_number import BigNumber, block_lines

SIZE = screenshots.SIZE
SMALL = (80, 24)
"""The least a kiosk terminal may have: everything a visitor needs must still be on screen."""
BROKEN_PRINTER = "file:/nonexistent-dir/x"
SnapCompare = Callable[..., bool]


def sample_app(printer_spec: str = "dummy", reachable: bool = True) -> KioskApp:
    return KioskApp(
        lambda: SampleBackend(reachable=reachable),
        open_printer(printer_spec),
        idle_timeout=3600,
        clock=lambda: datetime.fromisoformat(ISSUED_AT),
        outage_after=0.2,
        retry_delays=(0.05,),
    )


def steps(*actions: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await screenshots.until(lambda: app.office is not None and app.query(".language"))
        await pilot.pause()
        for action in actions:
            await action(pilot)
        await pilot.pause(0.3)  # the pressed look of the last button fades after 0.2 s

    return run


async def in_spanish(pilot: Pilot[Any]) -> None:
    await pilot.click("#language-es")
    await screenshots.until(lambda: pilot.app.screen.query(".service"))


async def not_sure(pilot: Pilot[Any]) -> None:
    await pilot.click("#not-sure")
    await screenshots.until(lambda: pilot.app.screen.query("#front-desk"))


async def tap_permits(pilot: Pilot[Any]) -> None:
    await pilot.click("#service-0")
    await screenshots.until(lambda: getattr(pilot.app.screen, "shown", "") == "offline")


def test_welcome_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SIZE, run_before=steps())


def test_service_choice_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SIZE, run_before=steps(screenshots.to_services))


def test_service_choice_screen_in_spanish(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SIZE, run_before=steps(in_spanish))


def test_details_screen_filled_in(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SIZE, run_before=steps(screenshots.to_details))


def test_front_desk_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        sample_app(), terminal_size=SIZE, run_before=steps(screenshots.to_services, not_sure)
    )


def test_confirmation_with_printed_ticket(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SIZE, run_before=steps(screenshots.to_ticket))


def test_confirmation_with_ticket_on_screen_when_printing_fails(
    snap_compare: SnapCompare,
) -> None:
    app = sample_app(BROKEN_PRINTER)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(screenshots.to_ticket))


def test_confirmation_while_the_server_cannot_be_reached(snap_compare: SnapCompare) -> None:
    app = sample_app(reachable=False)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=steps(screenshots.to_services, tap_permits)
    )


def test_service_choice_on_a_small_terminal(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        sample_app(), terminal_size=SMALL, run_before=steps(screenshots.to_services)
    )


def test_details_on_a_small_terminal(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SMALL, run_before=steps(screenshots.to_details))


def test_printed_ticket_on_a_small_terminal(snap_compare: SnapCompare) -> None:
    assert snap_compare(sample_app(), terminal_size=SMALL, run_before=steps(screenshots.to_ticket))


def test_ticket_on_screen_on_a_small_terminal(snap_compare: SnapCompare) -> None:
    app = sample_app(BROKEN_PRINTER)
    assert snap_compare(app, terminal_size=SMALL, run_before=steps(screenshots.to_ticket))


def inside(widget: Widget, screen: Region) -> bool:
    return screen.contains_region(widget.region)


async def test_every_choice_of_the_details_form_fits_the_width_of_a_small_terminal() -> None:
    app = sample_app()
    async with app.run_test(size=SMALL) as pilot:
        await steps(screenshots.to_details)(pilot)
        choices = list(app.screen.query(".choice"))
        assert len(choices) == 5 + 3 + 6
        assert all(c.region.right <= SMALL[0] for c in choices), [
            c.id for c in choices if c.region.right > SMALL[0]
        ]


@pytest.mark.parametrize(
    ("printer", "size"), [(p, s) for p in ("dummy", BROKEN_PRINTER) for s in (SMALL, SIZE)]
)
async def test_the_ticket_its_print_status_and_done_are_all_on_screen(
    printer: str, size: tuple[int, int]
) -> None:
    app = sample_app(printer)
    async with app.run_test(size=size) as pilot:
        await steps(screenshots.to_ticket)(pilot)
        screen = app.screen.region
        for selector in ("#your-number", "#number", "#wait", "#print-status", "#done"):
            assert inside(app.screen.query_one(selector), screen), selector
        number = app.screen.query_one("#number", BigNumber)
        drawn = number.render().plain.split("\n")
        assert drawn == block_lines("P-014") or drawn == ["P-014"]
        assert max(map(len, drawn)) <= number.size.width, "a wrapped block letter is unreadable"
        assert number.size.height == len(drawn)
        if printer == BROKEN_PRINTER:
            qr = app.screen.query_one("#qr-panel")
            assert inside(qr, screen) and not number.region.overlaps(qr.region)
