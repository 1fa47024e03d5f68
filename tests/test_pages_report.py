"""A month's reports in a real browser: the supervisor page's breakdowns, charts and staffing
advice, and the printable monthly report, on a month made by ``tests/sample_month.py``."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import Browser, expect

from server.config import load_config
from server.reports.formats import num, pct
from tests.browser import WAIT_MS

# Fixtures: one Chromium for the module and a server in the same event loop.
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.conftest import FakeClock, RunningServer, running_server
from tests.sample_month import STAFF, build_month, working_days
from tests.test_pages_supervisor import DESK, sign_in

DEMO = load_config(Path(__file__).parent.parent / "examples" / "demo.toml")
OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
A4 = {"width": 794, "height": 1123}  # 210 x 297 mm at 96 px per inch
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def month(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """The demo office on 2 November 2026, with October behind it."""
    # the store's own start (it builds the records) runs an event loop of its own
    await asyncio.to_thread(build_month, tmp_path / "lobby.db", DEMO, date(2026, 10, 1))
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=DEMO.tz))
    async with running_server(tmp_path, DEMO, clock) as running:
        yield running


async def october(server: RunningServer) -> dict[str, Any]:
    supervisor = await server.staff("super")
    report: dict[str, Any] = await supervisor.request("GET", "/api/reports/summary", params=OCTOBER)
    return report


async def test_the_page_shows_every_breakdown_chart_and_the_advice(
    month: RunningServer, browser: Browser
) -> None:
    report = await october(month)
    assert report["open_days"] == len(working_days(date(2026, 10, 1))) == 22
    context = await browser.new_context(viewport=DESK, accept_downloads=True)
    page = await context.new_page()
    await page.goto(f"{month.url}/supervisor")
    await sign_in(page)
    await expect(page.locator("#report-figures")).to_be_visible(timeout=WAIT_MS)
    await page.fill("#report-from", OCTOBER["from"])
    await page.fill("#report-to", OCTOBER["to"])
    await page.click("#report-form button[type=submit]")
    check_ins = page.locator("#report-figures .figure").nth(0).locator(".figure-value")
    await expect(check_ins).to_have_text(str(report["overall"]["check_ins"]), timeout=WAIT_MS)

    # the staff in name order, as the server sends them, each row its figures
    staff_rows = page.locator("#report-staff tbody tr")
    await expect(staff_rows).to_have_count(4)
    assert await staff_rows.locator("th").all_inner_texts() == sorted(STAFF.values())
    ana = report["staff"]["Ana Ruiz"]
    cells = await page.locator('#report-staff tr[data-key="Ana Ruiz"] td').all_inner_texts()
    assert cells[:5] == [str(ana[k]) for k in ("calls", "served", "done", "no_shows", "transfers")]
    assert cells[5] == pct(ana["needs_met_rate"])
    assert (
        await page.locator("#report-staff [class*=warn], #report-staff [class*=over]").count() == 0
    )
    w4 = await page.locator('#report-counters tr[data-key="w4"] td').all_inner_texts()
    assert w4[0] == str(report["counters"]["w4"]["calls"])

    # days, hours with the advice next to the counters open, weekday x hour
    await expect(page.locator("#report-days tbody tr")).to_have_count(22)
    first = report["days"][0]
    await expect(page.locator('#report-days tr[data-key="2026-10-01"]')).to_contain_text(
        f"{pct(first['service_level']['rate'])} ({first['service_level']['met']}/"
    )
    ten = next(h for h in report["staffing"]["hours"] if h["hour"] == 10)
    ten_cells = await page.locator('#report-hours tr[data-key="10"] td').all_inner_texts()
    assert ten_cells[6] == str(ten["advised"]) and ten_cells[5] == num(ten["open"])
    await expect(page.locator("#report-hours + .hint")).to_contain_text("Erlang C")
    monday_nine = next(c for c in report["weekday_hour"] if (c["weekday"], c["hour"]) == ("Mon", 9))
    await expect(page.locator('#report-weekday-hour tr[data-key="Mon"]')).to_contain_text(
        f"{num(monday_nine['arrivals_per_day'])} · {num(monday_nine['wait_mean_min'])}"
    )

    # the charts are the server's pictures, and every one arrived
    charts = page.locator("#report-charts img")
    await expect(charts).to_have_count(4)
    for index in range(4):
        chart = charts.nth(index)
        await expect(chart).to_have_attribute("src", re.compile(r"from=2026-10-01&to=2026-10-31"))
        loaded = "(img) => img.complete && img.naturalWidth > 0"
        await page.wait_for_function(loaded, arg=await chart.element_handle(), timeout=WAIT_MS)
        assert await chart.get_attribute("alt")
    # any breakdown as CSV: the staff, in name order
    await page.select_option("#report-by", "staff")
    async with page.expect_download() as download_info:
        await page.click("#report-csv")
    download = await download_info.value
    assert download.suggested_filename == "lobby-report-2026-10-01-to-2026-10-31-by-staff.csv"
    lines = (await download.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("staff,calls,served")
    assert [line.split(",")[0] for line in lines[1:]] == sorted(STAFF.values())
    await expect(page.locator("#report-print")).to_have_attribute(
        "href", "/supervisor/report?from=2026-10-01&to=2026-10-31"
    )
    await page.locator("#reports").scroll_into_view_if_needed()
    await page.set_viewport_size({"width": 1440, "height": 2400})
    reports = page.locator("#reports")
    if (folder := _screenshots()) is not None:
        await reports.screenshot(path=str(folder / "supervisor-reports.png"))
    await context.close()


def _screenshots() -> Path | None:
    """Where pictures go (``LOBBY_SCREENSHOTS``, see tests/browser.py), or None."""
    folder = os.environ.get("LOBBY_SCREENSHOTS")
    return Path(folder) if folder else None


async def test_the_printed_monthly_report_has_the_figures_and_no_script(
    month: RunningServer, browser: Browser
) -> None:
    report = await october(month)
    supervisor = await month.staff("super")
    # no script runs on it at all: what it shows is what the server wrote
    context = await browser.new_context(viewport=A4, java_script_enabled=False)
    page = await context.new_page()
    answer = await page.goto(
        f"{month.url}/supervisor/report?from=2026-10-01&to=2026-10-31&token={supervisor.token}"
    )
    assert answer is not None and answer.status == 200
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    await page.emulate_media(media="print")
    await expect(page.locator("#report-office")).to_have_text(DEMO.name)
    await expect(page.locator("#report-period")).to_have_text("Monthly report: October 2026")
    assert await page.locator("script").count() == 0
    overall = report["overall"]
    cards = page.locator("#key-figures .card")
    await expect(cards.nth(0).locator(".value")).to_have_text(str(overall["check_ins"]))
    await expect(cards.nth(1).locator(".detail")).to_contain_text(
        f"of {overall['called']} called · median {num(overall['wait_min']['median'])}"
    )
    await expect(cards.nth(3).locator(".value")).to_have_text(pct(overall["service_level"]["rate"]))
    # the four charts inline, each with its text alternative
    svgs = page.locator("#charts svg")
    await expect(svgs).to_have_count(4)
    for index in range(4):
        assert await svgs.nth(index).locator("desc").text_content()
    await expect(page.locator("#report-staff tbody th")).to_have_text(sorted(STAFF.values()))
    await expect(page.locator("#report-days tbody tr")).to_have_count(22)
    await expect(page.locator("#definitions")).to_contain_text("Nearest rank")
    await expect(page.locator("#by-hour")).to_contain_text("Erlang C")

    # what the printer gets: A4 pages whose text carries the figures
    pdf = pdfium.PdfDocument(await page.pdf(format="A4", print_background=True))
    assert 3 <= len(pdf) <= 8, len(pdf)
    first_page = pdf[0].get_textpage().get_text_range()
    for words in (DEMO.name.upper(), "Monthly report: October 2026", str(overall["check_ins"])):
        assert words in first_page, words
    printed = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Erlang C" in printed and "Nearest rank" in printed and "Dana Moss" in printed
    if (folder := _screenshots()) is not None:
        pictures = [pdf[i].render(scale=1.5).to_pil() for i in range(2)]
        sheet = Image.new("RGB", (2 * pictures[0].width + 30, pictures[0].height + 20), "#777")
        for i, picture in enumerate(pictures):
            sheet.paste(picture, (10 + i * (picture.width + 10), 10))
        sheet.save(folder / "report-print.png")
    await context.close()


async def test_the_printable_report_says_why_instead_of_figures(
    month: RunningServer, browser: Browser
) -> None:
    context = await browser.new_context(viewport=A4, java_script_enabled=False)
    page = await context.new_page()
    answer = await page.goto(f"{month.url}/supervisor/report?from=2026-10-01")
    assert answer is not None and answer.status == 401
    await expect(page.locator("h1")).to_have_text("Sign in to see this report")
    await expect(page.locator("a")).to_have_attribute("href", "/supervisor")
    clerk = await month.staff("clerk")
    answer = await page.goto(f"{month.url}/supervisor/report?token={clerk.token}")
    assert answer is not None and answer.status == 401
    supervisor = await month.staff("super")
    answer = await page.goto(
        f"{month.url}/supervisor/report?from=2026-10-31&to=2026-10-01&token={supervisor.token}"
    )
    assert answer is not None and answer.status == 422
    await expect(page.locator("main")).to_contain_text("'to' is before 'from'")
    await context.close()
