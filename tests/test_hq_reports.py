"""Headquarters' overview and reports: every office live, and the offices' own figures
across them, from what the offices shipped."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from lobby.cli import main
from server.hq.database import add_viewer
from server.keys import OFFICE
from server.reports.figures import report
from tests.conftest import RunningServer, visitor
from tests.hq_support import RunningHQ, running_hq, shipping_office
from tests.test_hq_replication import caught_up

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def hq() -> AsyncIterator[RunningHQ]:
    async with running_hq() as running:
        yield running


async def serve_some(office: RunningServer, prefix: str, arrivals: int, served: int) -> None:
    kiosk = office.kiosk()
    for i in range(arrivals):
        await kiosk.check_in(visitor(f"{prefix}-visit-{i:03d}", service="billing"))
    clerk = await office.staff("clerk")
    await clerk.counter_action("w1", "open")
    for _ in range(served):
        called = await clerk.call_next("w1")
        await clerk.ticket_action(called.id, "start")
        await clerk.ticket_action(called.id, "complete", {"needs_met": True})


async def get(
    hq: RunningHQ, path: str, token: str | None = None
) -> tuple[int, dict[str, object], str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(hq.base + path, headers=headers) as response,
    ):
        text = await response.text()
        body = await response.json() if response.content_type == "application/json" else {}
        return response.status, body, text


async def test_overview_and_reports_match_each_office(
    tmp_path: Path, hq: RunningHQ, capsys: pytest.CaptureFixture[str]
) -> None:
    async with (
        shipping_office(tmp_path, "north", hq) as north,
        shipping_office(tmp_path, "south", hq) as south,
    ):
        await asyncio.gather(serve_some(north, "n", 6, 2), serve_some(south, "s", 3, 1))
        await caught_up(hq, north, "north")
        await caught_up(hq, south, "south")
        now = datetime.now(north.config.tz)
        own = {
            office_id: report(office.app[OFFICE].store, office.config, now.date(), now.date(), now)
            for office_id, office in (("north", north), ("south", south))
        }

        for path in ("/", "/api/hq/overview", "/api/hq/reports"):
            for wrong in (None, "not-a-viewer"):
                status, refused, _ = await get(hq, path, wrong)
                assert status == 401, path
                assert refused["error"]["code"] == "unauthorized"  # type: ignore[index]
        viewer = add_viewer(hq.url, "regional manager")
        status, overview, _ = await get(hq, "/api/hq/overview", viewer)
        assert status == 200
        rows = {row["id"]: row for row in overview["offices"]}  # type: ignore[attr-defined]
        assert rows["north"]["waiting"] == 4 and rows["south"]["waiting"] == 2
        assert rows["north"]["counters_open"] == 1 and rows["north"]["events_behind"] == 0
        assert rows["north"]["longest_wait"]["service"] == "billing"
        assert rows["north"]["longest_wait"]["target_wait_min"] == 5

        status, _, page = await get(hq, f"/?token={viewer}")
        assert status == 200 and "Test Office north" in page and "Test Office south" in page
        as_of = re.search(r"As of (.+?) ·", str(page))
        assert as_of is not None and re.fullmatch(
            r"\w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2}:\d{2}( \S+)?", as_of.group(1)
        ), "the page's time is read by a person, not a program"

        day = now.date().isoformat()
        status, figures, _ = await get(hq, f"/api/hq/reports?from={day}&to={day}", viewer)
        assert status == 200
        by_office = figures["office_reports"]  # type: ignore[index]
        for office_id, figures_there in own.items():
            at_hq = by_office[office_id]["overall"]
            for name in ("check_ins", "called", "outcomes", "wait_min", "needs_met_rate"):
                assert at_hq[name] == figures_there["overall"][name], name
        overall = figures["overall"]  # type: ignore[index]
        assert overall["check_ins"] == 9 and overall["outcomes"]["done"] == 3

        status, refused, _ = await get(hq, "/api/hq/reports?from=someday", viewer)
        assert status == 400 and refused["error"]["code"] == "invalid"  # type: ignore[index]

        assert main(["report", "--hq", hq.url, "--from", day]) == 0
        printed = capsys.readouterr().out
        assert "Test Office north" in printed and "All offices" in printed
        assert main(["report", "--hq", hq.url, "--office", "south", "--from", day]) == 0
        assert "Utility Billing" in capsys.readouterr().out
