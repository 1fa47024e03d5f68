"""Draw every kiosk screen and a printed ticket into a folder, for the docs and for review.

    python -m kiosk.screenshots docs/
    python -m kiosk.screenshots /tmp/small 80x24    # the smallest terminal a kiosk may have

Writes ``kiosk-welcome``, ``kiosk-services``, ``kiosk-details``, ``kiosk-ticket`` (printed) and
``kiosk-ticket-on-screen`` (printer failed) as PNG (SVG when Chromium is missing), plus
``kiosk-printed-ticket.png`` drawn from the very bytes the printer is sent. Uses the made-up
office in ``kiosk.sample_office``, so the pictures do not depend on a running server.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from hardware import TicketPrinter, open_printer
from hardware.preview import render_ticket
from hardware.printer import code_pages_of, paper_of
from kiosk.app import KioskApp
from kiosk.sample_office import SampleBackend
from kiosk.screens.details import DetailsScreen
from kiosk.visit import VisitorDetails

SIZE = (110, 40)
CELL = (9.6, 19.2)
"""Roughly the size in pixels Textual's SVG gives one terminal cell."""
CHROMIUM = "/usr/bin/chromium"

Steps = Callable[[Pilot[int]], Awaitable[None]]
Size = tuple[int, int]


def sample_app(printer: TicketPrinter | None) -> KioskApp:
    return KioskApp(SampleBackend, printer, idle_timeout=3600)


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait for the kiosk to reach a screen. Printing a ticket (its QR code, the printer's
    answer) takes about a second here and took over five on a busy 2-core test machine; the
    wait ends as soon as the screen is there."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the kiosk did not reach the expected screen")
        await asyncio.sleep(0.02)


async def to_services(pilot: Pilot[int]) -> None:
    await until(lambda: bool(pilot.app.query(".language")))
    await pilot.pause()  # the buttons are laid out before they can be clicked
    await pilot.click("#language-en")
    await until(lambda: bool(pilot.app.screen.query(".service")))


async def to_details(pilot: Pilot[int]) -> None:
    await to_services(pilot)
    await pilot.click("#add-details")
    await until(lambda: isinstance(pilot.app.screen, DetailsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, DetailsScreen)
    screen.query_one("#name", Input).value = "Maria Garcia"
    for choice in ("#address-ms", "#needs-seated"):
        # on a short terminal the form scrolls to what has the focus: tap where it ends up
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.click(choice)
    await until(
        lambda: screen.collected() == VisitorDetails("Maria Garcia", "ms", None, ["seated"])
    )


async def to_ticket(pilot: Pilot[int]) -> None:
    await to_services(pilot)
    app = pilot.app
    assert isinstance(app, KioskApp)
    app.details = VisitorDetails("Maria Garcia", "ms", needs=["seated"])  # as typed on details
    await pilot.click("#service-0")
    await until(lambda: getattr(app.screen, "shown", "") in ("printed", "on_screen"))
    await pilot.pause()


async def shoot(
    path: Path, printer: TicketPrinter | None, steps: Steps | None, size: Size = SIZE
) -> Path:
    app = sample_app(printer)
    async with app.run_test(size=size) as pilot:
        await until(lambda: app.office is not None)
        if steps is not None:
            await steps(pilot)
        await pilot.pause(0.3)  # let the pressed look of the last button fade
        svg = path.with_suffix(".svg")
        app.save_screenshot(filename=svg.name, path=str(svg.parent))
    return svg


def svg_to_png(svg: Path, png: Path, size: Size = SIZE) -> None:
    width, height = int(size[0] * CELL[0]) + 40, int(size[1] * CELL[1]) + 90
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={width},{height}",
                svg.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )


async def draw_all(folder: Path, size: Size = SIZE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    broken = open_printer("file:/nonexistent-dir/ticket")
    shots: list[tuple[str, TicketPrinter | None, Steps | None]] = [
        ("kiosk-welcome", open_printer("dummy"), None),
        ("kiosk-services", open_printer("dummy"), to_services),
        ("kiosk-details", open_printer("dummy"), to_details),
        ("kiosk-ticket", open_printer("dummy"), to_ticket),
        ("kiosk-ticket-on-screen", broken, to_ticket),
    ]
    written = []
    for name, printer, steps in shots:
        written.append(await shoot(folder / f"{name}.svg", printer, steps, size))
        if name == "kiosk-ticket":
            assert printer is not None
            picture = render_ticket(
                printer.last_output,
                paper=paper_of(printer.profile),
                code_pages=code_pages_of(printer.profile),
            )
            ticket_png = folder / "kiosk-printed-ticket.png"
            picture.save(ticket_png)
            written.append(ticket_png)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "docs")
    columns, _, rows = (args[1] if len(args) > 1 else "").partition("x")
    size = (int(columns), int(rows)) if rows else SIZE
    folder.mkdir(parents=True, exist_ok=True)
    logging.getLogger("hardware").setLevel(logging.ERROR)  # the failed print is on purpose
    with tempfile.TemporaryDirectory() as scratch:
        for path in asyncio.run(draw_all(Path(scratch), size)):
            target = folder / path.name
            if path.suffix == ".svg" and Path(CHROMIUM).exists():
                target = target.with_suffix(".png")
                svg_to_png(path, target, size)
            else:
                shutil.copyfile(path, target)
            print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
