"""The supervisor dashboard in a real browser: sign-in, live alerts, commands and reports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from lobby import protocol as p
from lobby.client import ApiError
from server.config import OfficeConfig
from server.keys import CHECK_IN_LIMIT, OFFICE
from tests.browser import WAIT_MS, screenshot

# Fixtures: one Chromium for the module and a server in the same event loop.
from tests.browser import browser as browser
from tests.browser import chromium_process as chromium_process
from tests.browser import server as server
from tests.conftest import FakeClock, RunningServer, running_server, visitor
from tests.test_pages import token_of

DESK = {"width": 1440, "height": 900}
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def clocked(
    tmp_path: Path, office_config: OfficeConfig
) -> AsyncIterator[tuple[RunningServer, FakeClock]]:
    """A server on office time that moves only when the test says so, in the browser's loop."""
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=office_config.tz))
    async with running_server(tmp_path, office_config, clock) as running:
        yield running, clock


async def desk_page(browser: Browser, server: RunningServer) -> Page:
    context = await browser.new_context(viewport=DESK, accept_downloads=True)
    page = await context.new_page()
    await page.goto(f"{server.url}/supervisor")
    return page


async def sign_in(page: Page, name: str = "super", password: str = "super") -> None:
    await expect(page.locator("#signin")).to_be_visible(timeout=WAIT_MS)
    await page.fill("#signin-name", name)
    await page.fill("#signin-password", password)
    await page.click("#signin-submit")


async def signed_in_desk(browser: Browser, server: RunningServer) -> Page:
    page = await desk_page(browser, server)
    await sign_in(page)
    await expect(page.locator("#dashboard")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#link")).to_have_text("Live", timeout=WAIT_MS)
    return page


async def test_sign_in_keeps_the_token_out_of_the_address_bar_and_refuses_clerks(
    server: RunningServer, browser: Browser
) -> None:
    page = await desk_page(browser, server)
    await sign_in(page, "super", "wrong")
    await expect(page.locator("#signin-error")).to_have_text("name or password is not right")
    await sign_in(page, "clerk", "clerk")
    await expect(page.locator("#signin-error")).to_contain_text("The dashboard is for supervisors")
    await expect(page.locator("#dashboard")).to_be_hidden()

    await sign_in(page)
    await expect(page.locator("#dashboard")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#office-name")).to_have_text("Test City Hall")
    assert "token" not in page.url
    cookies = await page.context.cookies()
    session = [c for c in cookies if c["name"] == "lobby_token"]
    assert session and session[0]["httpOnly"]

    await page.reload()
    await expect(page.locator("#dashboard")).to_be_visible(timeout=WAIT_MS)


async def test_safety_alert_appears_live_and_the_checklist_is_recorded(
    server: RunningServer, browser: Browser
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("sup-0001", name="Maria Garcia", needs=["wheelchair"]))
    await kiosk.check_in(visitor("sup-0002", service="billing"))
    await kiosk.check_in(
        visitor("sup-0003", service="records", name="Ahmed Hassan", needs=["interpreter"])
    )
    await kiosk.check_in(visitor("sup-0004"))
    page = await signed_in_desk(browser, server)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await expect(page.locator("#alerts")).to_be_hidden()
    await expect(page.locator("#tickets tbody tr")).to_have_count(4)
    await expect(page.locator("#tickets tbody")).to_contain_text("Maria Garcia")

    clerk, clerk2 = await server.staff("clerk"), await server.staff("clerk2")
    await clerk2.counter_action("w2", "open")
    await clerk2.call_next("w2")
    await clerk.counter_action("w1", "open")
    await kiosk.printer_status("paper_near_end")
    await expect(page.locator("#printer-band")).to_contain_text(
        "Paper running low", timeout=WAIT_MS
    )
    raised = await clerk.safety_alert("w1", "alert-0001")

    alert = page.locator("#alerts .alert")
    await expect(alert).to_be_visible(timeout=WAIT_MS)
    await expect(alert).to_contain_text("SAFETY ALERT")
    await expect(alert).to_contain_text("Window 1 · clerk")
    assert (await page.title()).startswith("SAFETY ALERT")
    boxes = alert.locator("input[type=checkbox]")
    await expect(boxes).to_have_count(4)
    await expect(alert).to_contain_text("Call security / 911 if anyone is in danger")

    # The banner changes only on the server's answer, so the server has recorded each tick.
    supervisor = await server.staff("super")
    await boxes.nth(0).check()
    await expect(alert.locator(".alert-detail")).to_have_text(
        "1/4 checklist items done", timeout=WAIT_MS
    )
    recorded = (await supervisor.state()).alerts
    assert [(a.detail, a.done) for a in recorded] == [("1/4 checklist items done", [0])]
    # A note saved from another desk shows here and is kept when this desk ticks a box.
    await supervisor.checklist(raised.id, [0], "Security is on the way")
    note = alert.locator(".alert-note")
    await expect(note).to_have_value("Security is on the way", timeout=WAIT_MS)
    await boxes.nth(1).check()
    await expect(alert.locator(".alert-detail")).to_have_text(
        "2/4 checklist items done", timeout=WAIT_MS
    )
    assert [a.note for a in (await supervisor.state()).alerts] == ["Security is on the way"]
    await boxes.nth(2).check()
    await boxes.nth(3).click()  # the last tick resolves the alert and removes the banner
    await expect(page.locator("#alerts")).to_be_hidden(timeout=WAIT_MS)
    assert (await supervisor.state()).alerts == []
    assert not any("Maria" in line or "Garcia" in line for line in console)


async def test_dashboard_stays_live_idle_breach_printers_and_reconnect(
    server: RunningServer, browser: Browser
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("sup-0101"))
    page = await signed_in_desk(browser, server)
    services = page.locator("#services tbody tr")
    await expect(services.first).to_contain_text("Permits and Licensing")
    await expect(services.first.locator("td").nth(2)).to_have_text("1")

    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    w1 = page.locator('#counters tbody tr[data-key="w1"]')
    await expect(w1.locator("td").nth(1)).to_have_text("Open, idle", timeout=WAIT_MS)
    await expect(w1.locator("td").nth(2)).to_have_text("clerk")
    await expect(w1.locator("td").nth(4)).to_have_text("1")
    await expect(w1.locator("td").nth(5)).to_have_class("num breach", timeout=WAIT_MS)
    called = await clerk.call_next("w1")
    await expect(w1.locator("td").nth(1)).to_have_text("Calling", timeout=WAIT_MS)
    await expect(w1.locator("td").nth(5)).not_to_have_class("num breach")
    # A transfer frees the counter: the event says so, no re-read of the state needed.
    await clerk.ticket_action(called.id, "transfer", p.TransferRequest(service="records"))
    await expect(w1.locator("td").nth(1)).to_have_text("Open, idle", timeout=WAIT_MS)
    ticket_row = page.locator(f'#tickets tbody tr[data-key="{called.id}"]')
    await expect(ticket_row.locator("td").nth(1)).to_have_text("Vital Records", timeout=WAIT_MS)

    await kiosk.printer_status("paper_out", "cover open")
    await expect(page.locator("#printer-band")).to_have_text(
        "Printer needs attention — test-kiosk: Out of paper (cover open)", timeout=WAIT_MS
    )
    await expect(page.locator("#printers .printer.bad")).to_have_count(1)
    await expect(page.locator('#printers [data-device="test-kiosk"] .status')).to_have_text(
        "Out of paper (cover open)"
    )

    await server.stop()
    await expect(page.locator("#link")).to_have_text("Reconnecting…", timeout=WAIT_MS)
    await server.start()
    await expect(page.locator("#link")).to_have_text("Live", timeout=WAIT_MS)
    await kiosk.check_in(visitor("sup-0102", service="records"))
    await expect(page.locator("#tickets tbody tr")).to_have_count(2, timeout=WAIT_MS)


async def test_notice_services_and_closing_the_day(server: RunningServer, browser: Browser) -> None:
    kiosk = server.kiosk()
    first = await kiosk.check_in(visitor("sup-0201"))
    second = await kiosk.check_in(visitor("sup-0202", service="billing"))
    page = await signed_in_desk(browser, server)
    supervisor = await server.staff("super")

    await expect(page.locator("#notice-text")).to_have_value("Test notice")
    await page.fill("#notice-text", "Permits close at 3 pm today")
    await page.click("#notice-save")
    await expect(page.locator("#notice-status")).to_contain_text("Saved")
    assert (await supervisor.state()).office.notice == "Permits close at 3 pm today"

    billing = page.locator('#services tbody tr[data-key="billing"]')
    await billing.locator('button[data-action="close"]').click()
    await expect(billing.locator("td").nth(1)).to_have_text("Closed", timeout=WAIT_MS)
    states = {s.id: s.state for s in (await supervisor.state()).services}
    assert states["billing"] == "closed"
    await billing.locator('button[data-action="hours"]').click()
    await expect(billing.locator("td").nth(1)).to_have_text("Open", timeout=WAIT_MS)

    await page.click("#day-close")
    await expect(page.locator("#day-question")).to_contain_text("2 visits are still open")
    await page.click("#day-cancel")
    assert len((await supervisor.state()).tickets) == 2
    await page.click("#day-close")
    await page.click("#day-confirm-yes")
    await expect(page.locator("#day-result")).to_have_text(
        f"Closed at end of day (2): {first.number}, {second.number}", timeout=WAIT_MS
    )
    await expect(page.locator("#tickets-empty")).to_be_visible(timeout=WAIT_MS)
    assert (await supervisor.state()).tickets == []


async def test_report_shows_the_visit_and_downloads_csv(
    server: RunningServer, browser: Browser
) -> None:
    kiosk = server.kiosk()
    ticket = await kiosk.check_in(visitor("sup-0301", name="Maria Garcia"))
    await kiosk.acknowledged(ticket.id, "printed")
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "start")
    await clerk.ticket_action(ticket.id, "flag", p.FlagRequest(reason="Visitor was upset"))
    await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
    phone = server.client()  # the visitor answering on their status page
    await phone.request(
        "POST", f"/status/{token_of(ticket)}/survey", p.SurveyRequest(needs_met=False, rating=2)
    )
    await kiosk.check_in(visitor("sup-0302", service="billing"))

    page = await signed_in_desk(browser, server)
    figures = page.locator("#report-figures")
    await expect(figures).to_be_visible(timeout=WAIT_MS)
    check_ins = figures.locator(".figure").nth(0)
    await expect(check_ins.locator(".figure-value")).to_have_text("2")
    await expect(check_ins.locator(".figure-detail")).to_contain_text("1 served")
    await expect(figures.locator(".figure").nth(1)).to_contain_text("of 1 called")
    await expect(figures.locator(".figure").nth(4).locator(".figure-value")).to_have_text("100%")
    visitors_say = figures.locator(".figure").nth(5)
    await expect(visitors_say.locator(".figure-value")).to_have_text("0%")
    await expect(visitors_say.locator(".figure-detail")).to_have_text(
        "1 answered on their status page · rating 2.0/5"
    )
    await expect(figures).to_contain_text("printed 1 · on screen 0")
    permits = page.locator('#report-services tr[data-service="permits"]')
    await expect(permits.locator("td").nth(2)).to_have_text("1")
    await expect(permits.locator("td").nth(7)).to_have_text("100%")
    await expect(page.locator("#report-debrief")).to_contain_text(ticket.number)
    await expect(page.locator("#report-debrief")).to_contain_text("Visitor was upset")
    await expect(page.locator('#report-counters tr[data-key="w1"]')).to_contain_text("Window 1")

    async with page.expect_download() as download_info:
        await page.click("#report-csv")
    download = await download_info.value
    path = await download.path()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("service_id,service,target_wait_min,check_ins")
    permits_row = next(line for line in lines if line.startswith("permits,"))
    header = lines[0].split(",")
    permits_fields = dict(zip(header, permits_row.split(","), strict=True))
    assert permits_fields["check_ins"] == "1"
    assert permits_fields["needs_met_rate"] == "1.0"
    assert permits_fields["survey_needs_met_rate"] == "0.0"
    assert lines[-1].startswith("all,All services")
    assert "Maria" not in path.read_text(encoding="utf-8")

    today = await page.input_value("#report-to")
    await page.click("#report-month")
    await expect(page.locator("#report-from")).to_have_value(today[:8] + "01")
    await page.fill("#report-from", "2026-12-31")
    await page.fill("#report-to", "2026-01-01")
    await page.click("#report-form button[type=submit]")
    await expect(page.locator("#report-status")).to_have_text("'to' is before 'from'")
    await expect(page.locator("#report-status")).to_have_class("report-status error")
    await expect(page.locator("#report-figures")).to_have_count(0)
    await expect(page.locator("#report-csv")).to_be_disabled()


async def test_breach_rows_and_wait_colours_are_the_servers(
    clocked: tuple[RunningServer, FakeClock], browser: Browser
) -> None:
    server, clock = clocked
    office, kiosk = server.app[OFFICE], server.kiosk()
    waiting = await kiosk.check_in(visitor("sup-0401", name="Maria Garcia", needs=["wheelchair"]))
    clock.advance(minutes=3)
    await kiosk.check_in(visitor("sup-0402", "records", name="Ahmed Hassan", needs=["interpreter"]))
    await kiosk.check_in(visitor("sup-0403"))
    page = await signed_in_desk(browser, server)
    permits = page.locator('#services tbody tr[data-key="permits"]').locator("td")
    waited = page.locator(f'#tickets tbody tr[data-key="{waiting.id}"]').locator("td")
    w1 = page.locator('#counters tbody tr[data-key="w1"]')
    w4 = page.locator('#counters tbody tr[data-key="w4"]')
    await expect(permits.nth(3)).to_have_class("num ok")
    await expect(waited.nth(4)).to_have_class("num ok")
    await expect(page.locator("#counters tbody tr.breach-row")).to_have_count(0)

    # Window 1 serves permits: open and idle while a permits visitor waits is the breach.
    # Window 4 (billing only) is open and idle too, and is not.
    await (await server.staff("clerk")).counter_action("w1", "open")
    await (await server.staff("clerk3")).counter_action("w4", "open")
    await expect(w1).to_have_class("breach-row", timeout=WAIT_MS)
    await expect(w1.locator("td").nth(5)).to_have_class("num breach")
    await expect(w1.locator("td").nth(4)).to_have_text("2")
    await expect(w4.locator("td").nth(1)).to_have_text("Open, idle")
    await expect(w4).not_to_have_class("breach-row")
    await expect(w4.locator("td").nth(5)).to_have_class("num")

    # The clock alone moves the figures: the page shows what each tick brings.
    clock.advance(minutes=5)  # Maria has waited 8 min: past 3/4 of the 10 min target
    office.tick()
    await expect(permits.nth(3)).to_have_text("8 min", timeout=WAIT_MS)
    await expect(permits.nth(3)).to_have_class("num near")
    await expect(waited.nth(4)).to_have_text("8 min")
    await expect(waited.nth(4)).to_have_class("num near")
    await expect(w1.locator("td").nth(5)).to_have_text("5 min 00 s")
    clock.advance(minutes=3)
    office.tick()
    await expect(permits.nth(3)).to_have_class("num over", timeout=WAIT_MS)
    await expect(waited.nth(4)).to_have_text("11 min")
    await expect(waited.nth(4)).to_have_class("num over")
    await kiosk.printer_status("paper_near_end", "Roll nearly empty")
    await expect(page.locator("#printer-band")).to_contain_text(
        "Paper running low (Roll nearly empty)", timeout=WAIT_MS
    )
    await screenshot(page, "supervisor.png")

    # On a break the counter is no longer a breach; the idle time it ran up stays in red text.
    await (await server.staff("clerk")).counter_action("w1", "break")
    await expect(w1.locator("td").nth(1)).to_have_text("On break", timeout=WAIT_MS)
    await expect(w1).not_to_have_class("breach-row")
    await expect(w1.locator("td").nth(5)).to_have_class("num past-breach")
    await expect(w1.locator("td").nth(5)).to_have_text("8 min 00 s")


async def test_kiosk_offline_check_ins_and_printer_causes_are_marked(
    browser: Browser, clocked: tuple[RunningServer, FakeClock]
) -> None:
    server, clock = clocked
    kiosk = server.kiosk()
    on_time = await kiosk.check_in(visitor("on-time-0001"))
    clock.advance(minutes=5)
    late = await kiosk.check_in(visitor("late-000001", arrived_at=clock.now.replace(minute=1)))
    await kiosk.printer_status("cover_open", "The ticket printer's cover is open.")
    page = await signed_in_desk(browser, server)
    late_row = page.locator(f'#tickets tbody tr[data-key="{late.id}"]')
    await expect(late_row.locator("td").first).to_have_text(f"{late.number} (kiosk offline)")
    on_time_row = page.locator(f'#tickets tbody tr[data-key="{on_time.id}"]')
    await expect(on_time_row.locator("td").first).to_have_text(on_time.number)
    await expect(page.locator("#printers")).to_contain_text(
        "Cover open (The ticket printer's cover is open.)"
    )


async def test_a_kiosk_at_its_check_in_limit_shows_and_is_revoked_from_the_page(
    server: RunningServer, browser: Browser
) -> None:
    server.app[CHECK_IN_LIMIT].per_device.limit = 2  # this office's limit, made small
    page = await signed_in_desk(browser, server)
    row = page.locator('#devices li[data-device="test-kiosk"]')
    await expect(row).to_be_visible(timeout=WAIT_MS)
    kiosk = server.kiosk()
    for n in range(3):
        with contextlib.suppress(ApiError):
            await kiosk.check_in(visitor(f"page-flood-{n}"))
    await expect(row).to_contain_text("hit the check-in limit", timeout=WAIT_MS)
    await expect(row).to_have_class("device-row limited")
    await screenshot(page, "supervisor-devices.png")

    page.once("dialog", lambda dialog: dialog.accept())
    await row.locator("button[data-action=revoke]").click()
    await expect(row).to_have_count(0, timeout=WAIT_MS)
    with pytest.raises(ApiError) as revoked:
        await kiosk.check_in(visitor("page-after-revoke"))
    assert revoked.value.status == 401
